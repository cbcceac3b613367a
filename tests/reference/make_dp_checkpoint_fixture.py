#!/usr/bin/env python3
"""Writes a real Diffusion Policy checkpoint and the actions DP's own policy takes with it:
- tests/data/diffusion_policy/dp_unet_lowdim.ckpt: DP's train_diffusion_unet_lowdim_workspace
  config (task pusht_lowdim) composed by hydra and resolved as DP's train.py does, with a small
  UNet (down_dims [16, 32], step embedding 16); a DiffusionUnetLowdimPolicy with a normalizer
  fitted on random Push-T-range data, trained 3 steps with DP's AdamW and EMAModel, then saved by
  DP's own BaseWorkspace.save_checkpoint (torch.save with dill: the OmegaConf config, the state
  dicts of model, ema_model and optimizer, and dill pickles of global_step and epoch);
- tests/data/diffusion_policy/dp_unet_lowdim_actions.json: observations and the actions DP's
  predict_action gives with the EMA model (DP's evaluation uses it when training.use_ema), two
  chunks in a row. Every torch.randn draw of the sampler (x_T, then each DDPM step's noise) is
  replaced by mimic's Philox stream for the seed mimic's import gives the policy
  (training.seed), in the order mimic draws it (mimic_philox.py); and diffusers' float32 beta
  and alphas_cumprod tables for three schedules.

    /work/venv/bin/python tests/reference/make_dp_checkpoint_fixture.py \\
        [--dp-git-dir /work/.mirror/real-stanford+diffusion_policy/repo] [--dp-ref HEAD]

Needs torch, diffusers, einops, hydra-core, omegaconf, dill and zarr (DP's normalizer imports
it) from PyPI; DP's own files come from a git mirror of real-stanford/diffusion_policy.
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_dpt_fixture import extract  # noqa: E402  (DP's files from its git mirror)
from mimic_philox import MimicStream, QueuedRandn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "diffusion_policy")
FILES = ["diffusion_policy/__init__.py", "diffusion_policy/policy/__init__.py",
         "diffusion_policy/policy/base_lowdim_policy.py",
         "diffusion_policy/policy/diffusion_unet_lowdim_policy.py",
         "diffusion_policy/model/__init__.py", "diffusion_policy/model/common/__init__.py",
         "diffusion_policy/model/common/normalizer.py",
         "diffusion_policy/model/common/dict_of_tensor_mixin.py",
         "diffusion_policy/model/common/module_attr_mixin.py",
         "diffusion_policy/model/diffusion/__init__.py",
         "diffusion_policy/model/diffusion/conditional_unet1d.py",
         "diffusion_policy/model/diffusion/conv1d_components.py",
         "diffusion_policy/model/diffusion/positional_embedding.py",
         "diffusion_policy/model/diffusion/mask_generator.py",
         "diffusion_policy/model/diffusion/ema_model.py",
         "diffusion_policy/common/__init__.py", "diffusion_policy/common/pytorch_util.py",
         "diffusion_policy/workspace/__init__.py", "diffusion_policy/workspace/base_workspace.py",
         "diffusion_policy/config/train_diffusion_unet_lowdim_workspace.yaml",
         "diffusion_policy/config/task/pusht_lowdim.yaml"]
SEED = 42  # training.seed in DP's config: the imported policy's random stream


def compose_config(src):
    import hydra
    from omegaconf import OmegaConf
    OmegaConf.register_new_resolver("eval", eval, replace=True)  # as DP's train.py
    with hydra.initialize_config_dir(config_dir=os.path.join(src, "diffusion_policy", "config"),
                                     version_base=None):
        cfg = hydra.compose("train_diffusion_unet_lowdim_workspace", overrides=[
            "policy.model.down_dims=[16,32]", "policy.model.diffusion_step_embed_dim=16",
            "training.device=cpu", "logging.name=fixture"])
    OmegaConf.resolve(cfg)
    return cfg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dp-git-dir", default="/work/.mirror/real-stanford+diffusion_policy/repo")
    ap.add_argument("--dp-ref", default="HEAD")
    args = ap.parse_args()
    src = tempfile.mkdtemp()
    extract(args.dp_git_dir, args.dp_ref, src, FILES)
    sys.path.insert(0, src)
    import hydra
    from diffusion_policy.model.diffusion.ema_model import EMAModel
    from diffusion_policy.workspace.base_workspace import BaseWorkspace

    cfg = compose_config(src)
    torch.manual_seed(0)
    policy = hydra.utils.instantiate(cfg.policy)
    ema_model = hydra.utils.instantiate(cfg.policy)
    ema_model.load_state_dict(policy.state_dict())
    # The normalizer as DP's PushTLowdimDataset fits it ('limits'), on Push-T-range data.
    from diffusion_policy.model.common.normalizer import LinearNormalizer
    data = {"obs": torch.rand(500, 20) * 480 + 16, "action": torch.rand(500, 2) * 500 + 6}
    normalizer = LinearNormalizer()
    normalizer.fit(data=data, last_n_dims=1, mode="limits")
    policy.set_normalizer(normalizer)
    ema_model.set_normalizer(normalizer)
    optimizer = hydra.utils.instantiate(cfg.optimizer, params=policy.parameters())
    ema = hydra.utils.instantiate(cfg.ema, model=ema_model)
    for step in range(3):
        batch = {"obs": torch.rand(8, 16, 20) * 480 + 16, "action": torch.rand(8, 16, 2) * 500 + 6}
        loss = policy.compute_loss(batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        ema.step(policy)
        print("step", step, "loss", float(loss))

    class Workspace(BaseWorkspace):  # DP's TrainDiffusionUnetLowdimWorkspace's saved state
        include_keys = ["global_step", "epoch"]

    ws = Workspace(cfg, output_dir=tempfile.mkdtemp())
    ws.model, ws.ema_model, ws.optimizer = policy, ema_model, optimizer
    ws.ema, ws.global_step, ws.epoch = ema, 3, 1
    os.makedirs(OUT, exist_ok=True)
    ckpt = os.path.join(OUT, "dp_unet_lowdim.ckpt")
    ws.save_checkpoint(path=ckpt, use_thread=False)

    # DP's predict_action with the EMA model, sampler noise from mimic's stream.
    eval_policy = ema_model.eval()
    stream = MimicStream(SEED)
    randn = QueuedRandn()
    B, To, T, A = 2, 2, 16, 2
    blocks = 100  # x_T plus one per DDPM step with t > 0 (100 inference steps)
    chunks = []
    for c in range(2):
        obs = torch.rand(B, To, 20) * 480 + 16
        noise = stream.normal(blocks * B * T * A).astype(np.float32).reshape(blocks, B, T, A)
        with randn.replacing_torch_randn([torch.from_numpy(noise[i].copy()) for i in range(blocks)]):
            with torch.no_grad():
                action = eval_policy.predict_action({"obs": obs})["action"]
        chunks.append({"obs": obs.numpy().tolist(), "action": action.numpy().tolist()})
    # diffusers' own float32 tables, which mimic's float32_tables reproduces.
    from diffusers.schedulers.scheduling_ddpm import DDPMScheduler
    tables = {}
    for kind in ("squaredcos_cap_v2", "linear", "scaled_linear"):
        s = DDPMScheduler(num_train_timesteps=100, beta_schedule=kind, beta_start=1e-4, beta_end=0.02)
        tables[kind] = {"betas": s.betas.double().tolist(), "alphas_cumprod": s.alphas_cumprod.double().tolist()}
    json.dump({"seed": SEED, "chunks": chunks, "diffusers_tables": tables},
              open(os.path.join(OUT, "dp_unet_lowdim_actions.json"), "w"))
    print("wrote", os.path.normpath(ckpt), os.path.getsize(ckpt), "bytes")


if __name__ == "__main__":
    main()
