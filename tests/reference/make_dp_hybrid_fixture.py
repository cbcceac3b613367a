#!/usr/bin/env python3
"""Writes a real Diffusion Policy hybrid image checkpoint and the actions DP's own policy takes
with it:
- tests/data/diffusion_policy/dp_unet_hybrid.ckpt: DP's train_diffusion_unet_hybrid_workspace
  config with task pusht_image (a 96x96 camera image plus the agent position), composed by hydra
  and resolved as DP's train.py does, with a small UNet (down_dims [16, 32], step embedding 16)
  and DP's own image encoder (robomimic 0.2.0's VisualCore: ResNet18 with GroupNorm, 32-keypoint
  spatial softmax, 64 features; crops of 84x84, fixed centre crops at evaluation); normalizer
  fitted as DP's PushTImageDataset fits it (limits for the agent and actions, the image range
  normalizer for pixels), the encoder's convolutions sparse and frozen (chunk_sampling.py), the UNet trained
  3 steps with DP's AdamW (training.use_ema false, so the file holds one copy of the weights),
  then saved by DP's own BaseWorkspace.save_checkpoint;
- tests/data/diffusion_policy/dp_unet_hybrid_actions.json and dp_unet_hybrid_images.u8:
  observations (the images as bytes, pixels = bytes / 255, [chunk, B, To, 3, 96, 96]) and the
  actions DP's predict_action gives, two chunks in a row; every
  torch.randn draw of the sampler replaced by mimic's Philox stream (training.seed), in the order
  mimic draws it; and DP's own float32-vs-float64 spread of the same sampling.

    /work/venv/bin/python tests/reference/make_dp_hybrid_fixture.py --robomimic-020 DIR \\
        [--dp-git-dir /work/.mirror/real-stanford+diffusion_policy/repo] [--dp-ref HEAD]

DIR holds robomimic 0.2.0 (`pip install --no-deps --target DIR robomimic==0.2.0`), the version
DP pins. Needs torch, torchvision, diffusers, einops, hydra-core, omegaconf, dill and zarr.
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
from chunk_sampling import camera_frames, sample_in_both_precisions, sparse_frozen_encoder  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "diffusion_policy")
FILES = ["diffusion_policy/__init__.py", "diffusion_policy/policy/__init__.py",
         "diffusion_policy/policy/base_image_policy.py",
         "diffusion_policy/policy/diffusion_unet_hybrid_image_policy.py",
         "diffusion_policy/model/__init__.py", "diffusion_policy/model/common/__init__.py",
         "diffusion_policy/model/common/normalizer.py",
         "diffusion_policy/model/common/dict_of_tensor_mixin.py",
         "diffusion_policy/model/common/module_attr_mixin.py",
         "diffusion_policy/model/common/tensor_util.py",
         "diffusion_policy/model/vision/__init__.py",
         "diffusion_policy/model/vision/crop_randomizer.py",
         "diffusion_policy/model/diffusion/__init__.py",
         "diffusion_policy/model/diffusion/conditional_unet1d.py",
         "diffusion_policy/model/diffusion/conv1d_components.py",
         "diffusion_policy/model/diffusion/positional_embedding.py",
         "diffusion_policy/model/diffusion/mask_generator.py",
         "diffusion_policy/model/diffusion/ema_model.py",
         "diffusion_policy/common/__init__.py", "diffusion_policy/common/pytorch_util.py",
         "diffusion_policy/common/robomimic_config_util.py",
         "diffusion_policy/common/normalize_util.py",
         "diffusion_policy/workspace/__init__.py", "diffusion_policy/workspace/base_workspace.py",
         "diffusion_policy/config/train_diffusion_unet_hybrid_workspace.yaml",
         "diffusion_policy/config/task/pusht_image.yaml"]
SEED = 42  # training.seed in DP's config: the imported policy's random stream
B, TO, T, A = 2, 2, 16, 2


def compose_config(src):
    import hydra
    from omegaconf import OmegaConf
    OmegaConf.register_new_resolver("eval", eval, replace=True)  # as DP's train.py
    with hydra.initialize_config_dir(config_dir=os.path.join(src, "diffusion_policy", "config"),
                                     version_base=None):
        cfg = hydra.compose("train_diffusion_unet_hybrid_workspace", overrides=[
            "task=pusht_image", "policy.down_dims=[16,32]", "policy.diffusion_step_embed_dim=16",
            "policy.crop_shape=[84,84]", "policy.num_inference_steps=16",
            "training.use_ema=False", "training.device=cpu", "logging.name=fixture"])
    OmegaConf.resolve(cfg)
    return cfg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--robomimic-020", required=True)
    ap.add_argument("--dp-git-dir", default="/work/.mirror/real-stanford+diffusion_policy/repo")
    ap.add_argument("--dp-ref", default="HEAD")
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.robomimic_020))
    src = tempfile.mkdtemp()
    extract(args.dp_git_dir, args.dp_ref, src, FILES)
    sys.path.insert(0, src)
    import hydra
    import robomimic
    assert robomimic.__version__ == "0.2.0", robomimic.__file__
    from diffusion_policy.common.normalize_util import get_image_range_normalizer
    from diffusion_policy.model.common.normalizer import LinearNormalizer
    from diffusion_policy.workspace.base_workspace import BaseWorkspace

    cfg = compose_config(src)
    torch.manual_seed(0)
    policy = hydra.utils.instantiate(cfg.policy)
    sparse_frozen_encoder(policy.obs_encoder)  # so the fixture stays small (chunk_sampling.py)
    normalizer = LinearNormalizer()
    normalizer.fit(data={"action": torch.rand(500, A) * 500 + 6, "agent_pos": torch.rand(500, 2) * 480 + 16},
                   last_n_dims=1, mode="limits")
    normalizer["image"] = get_image_range_normalizer()
    policy.set_normalizer(normalizer)
    optimizer = hydra.utils.instantiate(cfg.optimizer, params=policy.parameters())

    for step in range(3):
        batch = {"obs": {"image": camera_frames(4, T), "agent_pos": torch.rand(4, T, 2) * 480 + 16},
                 "action": torch.rand(4, T, A) * 500 + 6}
        loss = policy.compute_loss(batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        print("step", step, "loss", float(loss.detach()))

    class Workspace(BaseWorkspace):  # DP's TrainDiffusionUnetHybridWorkspace's saved state
        include_keys = ["global_step", "epoch"]

    ws = Workspace(cfg, output_dir=tempfile.mkdtemp())
    ws.model, ws.optimizer = policy, optimizer  # no EMA (training.use_ema false): one copy
    ws.global_step, ws.epoch = 3, 1
    os.makedirs(OUT, exist_ok=True)
    ckpt = os.path.join(OUT, "dp_unet_hybrid.ckpt")
    ws.save_checkpoint(path=ckpt, use_thread=False)

    # DP's predict_action, sampler noise from mimic's stream.
    eval_policy = policy.eval()

    steps = cfg.policy.num_inference_steps
    blocks = steps  # x_T plus one per DDPM step with t > 0
    observations = [{"image": camera_frames(B, TO), "agent_pos": torch.rand(B, TO, 2) * 480 + 16} for _ in range(2)]

    def act(model, obs, dtype):
        return model.predict_action(obs)["action"].double().numpy()

    float32, spread = sample_in_both_precisions(eval_policy, SEED, observations, blocks, (B, T, A), act)
    print("DP float32 vs float64: largest relative difference", spread)
    with open(os.path.join(OUT, "dp_unet_hybrid_images.u8"), "wb") as f:  # [chunk, B, To, 3, 96, 96]
        for obs in observations:
            f.write((obs["image"] * 255).round().to(torch.uint8).numpy().tobytes())
    chunks = [{"agent_pos": obs["agent_pos"].numpy().tolist(), "action": a.tolist()}
              for obs, a in zip(observations, float32)]
    json.dump({"seed": SEED, "chunks": chunks, "float64_spread": spread},
              open(os.path.join(OUT, "dp_unet_hybrid_actions.json"), "w"))
    print("wrote", os.path.normpath(ckpt), os.path.getsize(ckpt), "bytes")


if __name__ == "__main__":
    main()
