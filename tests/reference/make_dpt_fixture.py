#!/usr/bin/env python3
"""Writes tests/data/golden_dpt.h5 from Diffusion Policy's published code:
- its TransformerForDiffusion (DP-T's denoiser) in float64: outputs, the input gradient and every
  parameter gradient of sum(w * y) for four configurations (observation tokens as memory with
  the MLP or a 2-layer encoder, time-only memory, and the encoder-only BERT form);
- one training step of its DiffusionTransformerLowdimPolicy in float32 (compute_loss, backward,
  AdamW over get_optim_groups): the loss, every gradient and every updated weight. Its noise and
  timesteps are mimic's Philox stream (mimic_philox.py) in place of torch's draws, and its
  normalizer is the identity, as the C++ test's.

    /work/venv/bin/python tests/reference/make_dpt_fixture.py \\
        [--dp-git-dir /work/.mirror/real-stanford+diffusion_policy/repo] [--dp-ref HEAD]

Diffusion Policy is not on PyPI: the three files the model needs are read from a git mirror of
real-stanford/diffusion_policy (the `fetch` tool's copy by default) into a temporary folder.
Every parameter is perturbed from DP's initialization, so zero biases and unit norms cannot hide
a wrong gradient.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mimic_philox import MimicStream  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "golden_dpt.h5")
FILES = ["diffusion_policy/policy/__init__.py", "diffusion_policy/policy/base_lowdim_policy.py",
         "diffusion_policy/policy/diffusion_transformer_lowdim_policy.py",
         "diffusion_policy/model/common/normalizer.py", "diffusion_policy/model/common/dict_of_tensor_mixin.py",
         "diffusion_policy/common/__init__.py", "diffusion_policy/common/pytorch_util.py",
         "diffusion_policy/model/diffusion/mask_generator.py",
         "diffusion_policy/__init__.py", "diffusion_policy/model/__init__.py",
         "diffusion_policy/model/common/__init__.py", "diffusion_policy/model/common/module_attr_mixin.py",
         "diffusion_policy/model/diffusion/__init__.py", "diffusion_policy/model/diffusion/positional_embedding.py",
         "diffusion_policy/model/diffusion/transformer_for_diffusion.py"]

CASES = {
    "obs_cond_mlp": dict(cond_dim=5, n_cond_layers=0, causal_attn=True, time_as_cond=True),
    "obs_cond_encoder": dict(cond_dim=5, n_cond_layers=2, causal_attn=True, time_as_cond=True),
    "time_only": dict(cond_dim=0, n_cond_layers=0, causal_attn=True, time_as_cond=True),
    "bert": dict(cond_dim=0, n_cond_layers=0, causal_attn=False, time_as_cond=False),
}


def extract(git_dir, ref, dest, files=FILES):
    """Diffusion Policy's `files` at `ref` of its git mirror, written under `dest`."""
    for f in files:
        try:
            text = subprocess.run(["git", "--git-dir", git_dir, "show", "%s:%s" % (ref, f)],
                                  check=True, capture_output=True).stdout
        except subprocess.CalledProcessError:
            text = b""  # an __init__.py the repository does not have
        path = os.path.join(dest, f)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "wb").write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dp-git-dir", default="/work/.mirror/real-stanford+diffusion_policy/repo")
    ap.add_argument("--dp-ref", default="HEAD")
    args = ap.parse_args()
    src = tempfile.mkdtemp()
    extract(args.dp_git_dir, args.dp_ref, src)
    sys.path.insert(0, src)
    from diffusion_policy.model.diffusion.transformer_for_diffusion import TransformerForDiffusion

    torch.manual_seed(0)
    torch.set_default_dtype(torch.float64)
    B, T, To, A = 3, 6, 3, 2
    with h5py.File(OUT, "w") as h5:
        for name, c in CASES.items():
            model = TransformerForDiffusion(input_dim=A, output_dim=A, horizon=T, n_obs_steps=To,
                                            n_layer=2, n_head=2, n_emb=16, p_drop_emb=0.0,
                                            p_drop_attn=0.0, **c).train()
            with torch.no_grad():
                for p in model.parameters():
                    p.add_(0.1 * torch.randn_like(p))
            sample = (torch.rand(B, T, A) * 2 - 1).requires_grad_()
            t = torch.tensor([3.0, 17.0, 60.0])
            cond = (torch.rand(B, To, c["cond_dim"]) * 2 - 1).requires_grad_() if c["cond_dim"] else None
            y = model(sample, t, cond)
            w = torch.rand(y.shape) + 0.5
            (y * w).sum().backward()
            g = h5.create_group(name)
            for k, v in c.items():
                g.attrs[k] = int(v)
            g["sample"], g["timesteps"] = sample.detach().numpy(), t.numpy()
            g["weights"], g["y"] = w.numpy(), y.detach().numpy()
            g["grad_sample"] = sample.grad.detach()
            if cond is not None:
                g["cond"], g["grad_cond"] = cond.detach(), cond.grad.detach()
            decay = set()
            for group in model.get_optim_groups(weight_decay=1e-3):
                if group["weight_decay"] > 0:
                    decay |= {id(p) for p in group["params"]}
            for k, p in model.named_parameters():
                if k == "_dummy_variable":  # ModuleAttrMixin's empty device marker
                    continue
                g["params/model." + k] = p.detach().numpy()
                g["grads/model." + k] = p.grad if p.grad is not None else torch.zeros_like(p)
                if p.grad is None:
                    print("  unused by the forward pass:", k)
                g["params/model." + k].attrs["decay"] = int(id(p) in decay)
            print(name, sum(p.numel() for p in model.parameters()), "parameters")
        policy_step(h5, TransformerForDiffusion)
    print("wrote", os.path.normpath(OUT))


POLICY_SEED = 5  # the C++ policy's seed, so its Philox stream


def policy_step(h5, TransformerForDiffusion):
    """One DP-T training step, float32, with mimic's noise and timesteps."""
    from diffusers.schedulers.scheduling_ddpm import DDPMScheduler
    from diffusion_policy.policy.diffusion_transformer_lowdim_policy import DiffusionTransformerLowdimPolicy
    torch.set_default_dtype(torch.float32)
    B, H, To, Ta, A, F = 4, 6, 3, 3, 2, 5
    model = TransformerForDiffusion(input_dim=A, output_dim=A, horizon=H, n_obs_steps=To, cond_dim=F,
                                    n_layer=2, n_head=2, n_emb=16, p_drop_emb=0.0, p_drop_attn=0.0,
                                    causal_attn=True, time_as_cond=True, n_cond_layers=0)
    scheduler = DDPMScheduler(num_train_timesteps=100, beta_schedule="squaredcos_cap_v2", clip_sample=True,
                              prediction_type="epsilon", variance_type="fixed_small")
    policy = DiffusionTransformerLowdimPolicy(model, scheduler, horizon=H, obs_dim=F, action_dim=A,
                                              n_action_steps=Ta, n_obs_steps=To, obs_as_cond=True,
                                              pred_action_steps_only=False).train()
    policy.normalizer.normalize = lambda batch: batch  # identity statistics
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    obs, action = torch.rand(B, H, F) * 2 - 1, torch.rand(B, H, A) * 1.8 - 0.9
    g = h5.create_group("policy_step")
    g["obs"], g["actions"] = obs.numpy(), action.numpy()
    for k, p in model.named_parameters():
        if k != "_dummy_variable":
            g["params/model." + k] = p.detach().numpy()
    stream = MimicStream(POLICY_SEED)
    noise = torch.from_numpy(stream.normal(B * H * A).astype(np.float32)).reshape(B, H, A)
    u = stream.uniform(B)
    steps = torch.from_numpy(np.minimum(99, np.floor(u * 100)).astype(np.int64))
    randn, randint = torch.randn, torch.randint
    torch.randn = lambda *a, **k: noise.clone()
    torch.randint = lambda *a, **k: steps.clone()
    try:
        loss = policy.compute_loss({"obs": obs, "action": action})
    finally:
        torch.randn, torch.randint = randn, randint
    optimizer = policy.get_optimizer(weight_decay=0.1, learning_rate=1e-3, betas=(0.9, 0.95))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    g.attrs["seed"] = POLICY_SEED
    g["loss"] = np.array([loss.item()])
    for k, p in model.named_parameters():
        if k != "_dummy_variable":
            g["grads/model." + k] = p.grad.numpy()
            g["updated/model." + k] = p.detach().numpy()
    print("policy_step loss", loss.item(), "timesteps", steps.tolist())


if __name__ == "__main__":
    main()
