#!/usr/bin/env python3
"""Writes real LeRobot diffusion policies, saved as LeRobot saves them, and the actions LeRobot's
own model takes with them:
- tests/data/lerobot/<case>/: what DiffusionPolicy.save_pretrained writes (config.json,
  model.safetensors) plus the pre- and post-processor pipelines' save_pretrained files
  (policy_preprocessor.json with the normalizer's statistics in a .safetensors file, and
  policy_postprocessor.json with the unnormalizer's); and the TrainPipelineConfig that
  lerobot-train saves beside them as train_config.json (its seed; for ddim, gym-pusht's keypoint
  environment). Each policy has a small UNet (down_dims
  [16, 32], step embedding 16), observes `observation.state` (2) and
  `observation.environment_state` (16, Push-T's keypoints), is trained 3 steps with its own Adam
  settings on random data, then saved.
    - ddim: DDIM with 10 inference steps, LeRobot's default normalization (state and action
      min/max; the environment state has no mode, so it is left as is);
    - ddpm: DDPM with 100 steps, FiLM bias only, state and action mean/std, environment state
      by its 1st and 99th percentiles (QUANTILES) with one dimension constant (an empty range:
      LeRobot's eps branch);
    - image: observation.state plus two 96x96 cameras (observation.images.wrist, then .front:
      not in sorted order) through LeRobot's one shared DiffusionRgbEncoder (84x84 crops,
      GroupNorm ResNet18 with sparse frozen convolutions, see chunk_sampling.py), each camera's
      channels by their own mean/std; DDIM 10, no environment state;
    - pusht_image: gym-pusht's pixels_agent_pos run (observation.image and observation.state,
      train_config.json's env), the camera through its own encoder
      (use_separate_rgb_encoder_per_camera).
- tests/data/lerobot/<case>_actions.json: raw observations (the image cases' frames in
  <case>_images.u8, bytes [chunk, B, To, camera, 3, 96, 96], pixels = bytes / 255) and the raw
  actions LeRobot gives:
  its preprocessor normalizes, DiffusionModel.generate_actions samples, its postprocessor
  unnormalizes; two chunks in a row; and how far LeRobot's own float32 actions are from its
  float64 run of the same sampling (float64_spread). Every torch.randn draw of the sampler (x_T, then each DDPM
  step's noise) is replaced by mimic's Philox stream for the seed mimic's import gives the policy
  (train_config.json's seed), in the order mimic draws it (mimic_philox.py).
- tests/data/lerobot/legacy/: the same written by lerobot 0.3.3, whose save_pretrained keeps the
  statistics as buffers of the policy's Normalize modules in model.safetensors (and whose min/max
  divides by max - min + 1e-8); DDIM 10, state and action min/max, environment state mean/std, no
  train_config.json (the stream of lerobot-train's default seed, 1000).

    /work/venv/bin/python tests/reference/make_lerobot_fixture.py [--legacy-lerobot DIR]

Needs lerobot (0.4.4 wrote the committed files), torch and diffusers from PyPI.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chunk_sampling import camera_frames, sample_in_both_precisions, sparse_frozen_encoder  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "lerobot")
SEED = 7  # the run's seed in train_config.json: the imported policy's random stream
DEFAULT_SEED = 1000  # lerobot-train's default seed: the stream of a folder without train_config.json
B, STATE, ENV, A = 2, 2, 16, 2
IMAGE, CROP = 96, 84


def make_case(name, scheduler, steps, norm, film_scale, constant_env_dim, legacy=False, pusht=None,
              cameras=(), separate_encoders=False):
    from lerobot.configs.types import FeatureType, NormalizationMode, PolicyFeature
    from lerobot.policies.diffusion.configuration_diffusion import DiffusionConfig
    from lerobot.policies.diffusion.modeling_diffusion import DiffusionPolicy

    torch.manual_seed(0)
    inputs = {"observation.state": PolicyFeature(type=FeatureType.STATE, shape=(STATE,))}
    for camera in cameras:
        inputs[camera] = PolicyFeature(type=FeatureType.VISUAL, shape=(3, IMAGE, IMAGE))
    if not cameras:
        inputs["observation.environment_state"] = PolicyFeature(type=FeatureType.ENV, shape=(ENV,))
    config = DiffusionConfig(
        input_features=inputs,
        output_features={"action": PolicyFeature(type=FeatureType.ACTION, shape=(A,))},
        normalization_mapping={k: NormalizationMode(v) for k, v in norm.items()},
        down_dims=(16, 32), diffusion_step_embed_dim=16, noise_scheduler_type=scheduler,
        num_inference_steps=steps, use_film_scale_modulation=film_scale, device="cpu",
        use_separate_rgb_encoder_per_camera=separate_encoders,
        **({"crop_shape": (CROP, CROP)} if cameras else {}))
    # Push-T-range data: the agent and keypoints in pixels, targets in pixels.
    env = torch.rand(500, ENV) * 400 + 50
    if constant_env_dim:
        env[:, 0] = 250.0
    data = {"observation.state": torch.rand(500, STATE) * 480 + 16, "action": torch.rand(500, A) * 500 + 6}
    if not cameras:
        data["observation.environment_state"] = env
    stats = {k: {"min": v.min(0).values.numpy(), "max": v.max(0).values.numpy(),
                 "mean": v.mean(0).numpy(), "std": v.std(0).numpy(),
                 "q01": torch.quantile(v, 0.01, dim=0).numpy(), "q99": torch.quantile(v, 0.99, dim=0).numpy()}
             for k, v in data.items()}
    for c, camera in enumerate(cameras):  # per-channel statistics, shaped (3, 1, 1) as LeRobot's
        mean = np.array([0.35, 0.5, 0.6])[:, None, None] + 0.05 * c
        std = np.array([0.2, 0.25, 0.3])[:, None, None]
        stats[camera] = {"mean": mean, "std": std, "min": np.zeros((3, 1, 1)), "max": np.ones((3, 1, 1))}
    if legacy:  # lerobot 0.3's datasets have no quantiles
        stats = {k: {n: x for n, x in v.items() if n[0] != "q"} for k, v in stats.items()}
    if legacy:  # lerobot <= 0.3: the statistics are buffers of the policy's Normalize modules
        policy = DiffusionPolicy(config, dataset_stats={k: {n: torch.from_numpy(x) for n, x in v.items()}
                                                        for k, v in stats.items()})

        def pre(batch):
            return policy.normalize_targets(policy.normalize_inputs(batch))

        def post(action):
            return policy.unnormalize_outputs({"action": action})["action"]
    else:
        from lerobot.policies.diffusion.processor_diffusion import make_diffusion_pre_post_processors
        policy = DiffusionPolicy(config)
        pre, post = make_diffusion_pre_post_processors(config, dataset_stats=stats)
    if cameras:  # sparse convolutions, so the fixture stays small (chunk_sampling.py)
        sparse_frozen_encoder(policy.diffusion.rgb_encoder)
    optimizer = config.get_optimizer_preset().build(policy.get_optim_params())
    policy.train()

    def observation(batch, steps):
        obs = {"observation.state": torch.rand(batch, steps, STATE) * 480 + 16}
        for camera in cameras:
            obs[camera] = camera_frames(batch, steps, size=IMAGE)
        if not cameras:
            obs["observation.environment_state"] = torch.rand(batch, steps, ENV) * 400 + 50
        return obs

    for step in range(3):
        raw = observation(8, 2) | {"action": torch.rand(8, 16, A) * 500 + 6,
                                   "action_is_pad": torch.zeros(8, 16, dtype=torch.bool)}
        loss, _ = policy.forward(pre(raw))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        print(name, "step", step, "loss", float(loss))
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    policy.save_pretrained(folder)
    seed = DEFAULT_SEED
    if not legacy:
        pre.save_pretrained(folder)
        post.save_pretrained(folder)
        seed = SEED
        # What lerobot-train saves beside the policy: its TrainPipelineConfig.
        from pathlib import Path
        from lerobot.configs.default import DatasetConfig
        from lerobot.configs.train import TrainPipelineConfig
        from lerobot.envs.configs import PushtEnv
        env = PushtEnv(obs_type=pusht) if pusht else None
        TrainPipelineConfig(dataset=DatasetConfig(repo_id="lerobot/pusht_keypoints"), env=env,
                            policy=config, seed=SEED)._save_pretrained(Path(folder))

    # LeRobot's own sampling, noise from mimic's stream.
    policy.eval()

    T = config.horizon
    blocks = 1 + (steps - 1 if scheduler == "DDPM" else 0)  # x_T, then each DDPM step with t > 0
    observations = []
    for c in range(2):
        obs = observation(B, 2)
        if constant_env_dim:
            obs["observation.environment_state"][..., 0] = 250.0
        observations.append(obs)

    def act(model, obs, dtype):
        batch = pre(obs)
        if cameras:  # as DiffusionPolicy stacks them: [B, To, camera, C, H, W]
            batch["observation.images"] = torch.stack([batch[k] for k in config.image_features], dim=-4)
        return post(model.diffusion.generate_actions(batch)).double().numpy()

    float32, spread = sample_in_both_precisions(policy, seed, observations, blocks, (B, T, A), act)
    print(name, "LeRobot float32 vs float64: largest relative difference", spread)
    if cameras:  # [chunk, B, To, camera (config order), 3, H, W] as bytes
        with open(os.path.join(OUT, name + "_images.u8"), "wb") as f:
            for obs in observations:
                frames = torch.stack([obs[k] for k in cameras], dim=2)
                f.write((frames * 255).round().to(torch.uint8).numpy().tobytes())
    chunks = [{k: v.numpy().tolist() for k, v in obs.items() if k not in cameras} | {"action": a.tolist()}
              for obs, a in zip(observations, float32)]
    with open(os.path.join(OUT, name + "_actions.json"), "w") as f:
        json.dump({"seed": seed, "n_action_steps": config.n_action_steps, "chunks": chunks,
                   "float64_spread": spread} | ({"cameras": list(cameras)} if cameras else {}), f)
    print("wrote", os.path.normpath(folder), sorted(os.listdir(folder)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--legacy-lerobot", help="a folder holding lerobot 0.3.3 (pip install --no-deps "
                    "--target DIR lerobot==0.3.3): also writes the legacy case")
    ap.add_argument("--case", default="current")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if args.case == "legacy":
        import lerobot
        print("legacy case with", lerobot.__file__)
        make_case("legacy", "DDIM", 10, {"STATE": "MIN_MAX", "ENV": "MEAN_STD", "ACTION": "MIN_MAX"},
                  film_scale=True, constant_env_dim=False, legacy=True)
        return
    if args.legacy_lerobot:
        env = dict(os.environ, PYTHONPATH=os.path.abspath(args.legacy_lerobot))
        subprocess.run([sys.executable, os.path.abspath(__file__), "--case", "legacy"], env=env, check=True)
    make_case("ddim", "DDIM", 10, {"VISUAL": "MEAN_STD", "STATE": "MIN_MAX", "ACTION": "MIN_MAX"},
              film_scale=True, constant_env_dim=False, pusht="environment_state_agent_pos")
    # Two cameras, listed out of sorted order, through LeRobot's one shared encoder.
    make_case("image", "DDIM", 10, {"VISUAL": "MEAN_STD", "STATE": "MIN_MAX", "ACTION": "MIN_MAX"},
              film_scale=True, constant_env_dim=False,
              cameras=("observation.images.wrist", "observation.images.front"))
    # gym-pusht's image observation (pixels_agent_pos), the camera's own encoder (LeRobot's
    # use_separate_rgb_encoder_per_camera: tensors under rgb_encoder.0).
    make_case("pusht_image", "DDIM", 10, {"VISUAL": "MEAN_STD", "STATE": "MIN_MAX", "ACTION": "MIN_MAX"},
              film_scale=True, constant_env_dim=False, pusht="pixels_agent_pos",
              cameras=("observation.image",), separate_encoders=True)
    make_case("ddpm", "DDPM", 100, {"STATE": "MEAN_STD", "ENV": "QUANTILES", "ACTION": "MEAN_STD"},
              film_scale=False, constant_env_dim=True)


if __name__ == "__main__":
    main()
