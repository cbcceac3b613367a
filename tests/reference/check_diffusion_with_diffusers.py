#!/usr/bin/env python3
"""Checks the committed diffusion fixture (tests/data/golden_diffusion.json, which the C++ tests
match) against the diffusers package itself: beta tables, alphas_cumprod, and the full DDPM
(100 steps, fixed_small, clip_sample, epsilon) and DDIM (10 steps, eta 0, set_alpha_to_one,
steps_offset 0) trajectories with the fixture's model function and noise, in float64.

    python3 -m venv --system-site-packages /tmp/dfvenv        # Debian's python3-torch
    /tmp/dfvenv/bin/pip install diffusers==0.21.4 --no-deps huggingface_hub==0.17.3 Pillow
    /tmp/dfvenv/bin/python tests/reference/check_diffusion_with_diffusers.py
"""
import json
import os
import sys

import numpy as np
import torch
from diffusers import DDIMScheduler, DDPMScheduler

HERE = os.path.dirname(os.path.abspath(__file__))
f = json.load(open(os.path.join(HERE, "..", "data", "golden_diffusion.json")))
worst = 0.0


def check(name, ours, theirs):
    global worst
    err = float(np.max(np.abs(np.asarray(ours, dtype=np.float64) - np.asarray(theirs, dtype=np.float64))))
    worst = max(worst, err)
    print("%-36s max abs difference %.3g" % (name, err))


for kind in ("linear", "scaled_linear", "squaredcos_cap_v2"):
    s = DDPMScheduler(num_train_timesteps=100, beta_schedule=kind, beta_start=1e-4, beta_end=0.02)
    check(kind + " betas (float32 in diffusers)", f[kind]["betas"], s.betas.numpy())
    check(kind + " alphas_cumprod", f[kind]["alphas_cumprod"], s.alphas_cumprod.numpy())


def model(x, t):
    return 0.3 * x + 0.002 * t


def run(s, steps, noises=None):
    import diffusers.schedulers.scheduling_ddpm as ddpm_module
    s.betas = s.betas.double()
    s.alphas = 1.0 - s.betas
    s.alphas_cumprod = torch.cumprod(s.alphas, 0)
    s.set_timesteps(steps)
    x = torch.tensor(f["x_init"], dtype=torch.float64).reshape(1, -1)
    traj = []
    for k, t in enumerate(s.timesteps):
        if noises is not None:  # the scheduler draws its variance noise here: use the fixture's
            z = torch.tensor(noises[k], dtype=torch.float64).reshape(1, -1)
            ddpm_module.randn_tensor = lambda *a, z=z, **kw: z.clone()
        x = s.step(model(x, int(t)), int(t), x).prev_sample
        traj.append(x.numpy()[0].copy())
    return traj


ddpm = DDPMScheduler(num_train_timesteps=100, beta_schedule="squaredcos_cap_v2", clip_sample=True,
                     variance_type="fixed_small", prediction_type="epsilon")
check("DDPM 100-step trajectory", f["ddpm_trajectory"], run(ddpm, 100, f["noises"]))
ddim = DDIMScheduler(num_train_timesteps=100, beta_schedule="squaredcos_cap_v2", clip_sample=True,
                     set_alpha_to_one=True, steps_offset=0, prediction_type="epsilon")
check("DDIM 10-step trajectory", f["ddim10_trajectory"], run(ddim, 10))
print("worst", worst)
sys.exit(0 if worst < 1e-6 else 1)
