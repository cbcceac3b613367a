#!/usr/bin/env python3
"""Writes tests/data/golden_diffusion.json: noise-schedule tables and full DDPM (100 steps) and
DDIM (10 steps) sampling trajectories, computed in float64 from the published update formulas
(no diffusion library involved), with a fixed model function and fixed noise.

    python3 tests/reference/make_diffusion_fixtures.py      (numpy only)

Model function used for the trajectories: eps(x, t) = 0.3 * x + 0.002 * t (elementwise).
"""
import json
import math
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "golden_diffusion.json")
N = 100


def betas(kind):
    if kind == "linear":
        return np.linspace(1e-4, 0.02, N)
    if kind == "scaled_linear":
        return np.linspace(math.sqrt(1e-4), math.sqrt(0.02), N) ** 2
    abar = lambda s: math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2
    return np.array([min(1 - abar((i + 1) / N) / abar(i / N), 0.999) for i in range(N)])


def model(x, t):
    return 0.3 * x + 0.002 * t


def ddpm(ac, x, noises):
    traj = []
    for k, t in enumerate(range(N - 1, -1, -1)):
        a_t = ac[t]
        a_prev = ac[t - 1] if t > 0 else 1.0
        alpha_t = a_t / a_prev
        beta_t = 1 - alpha_t
        x0 = np.clip((x - math.sqrt(1 - a_t) * model(x, t)) / math.sqrt(a_t), -1, 1)
        mean = math.sqrt(a_prev) * beta_t / (1 - a_t) * x0 + math.sqrt(alpha_t) * (1 - a_prev) / (1 - a_t) * x
        var = max((1 - a_prev) / (1 - a_t) * beta_t, 1e-20)
        x = mean + (math.sqrt(var) * noises[k] if t > 0 else 0)
        traj.append(x.tolist())
    return traj


def ddim(ac, x, steps):
    ratio = N // steps
    traj = []
    for t in [i * ratio for i in range(steps - 1, -1, -1)]:
        a_t = ac[t]
        prev = t - ratio
        a_prev = ac[prev] if prev >= 0 else 1.0
        eps = model(x, t)
        x0 = np.clip((x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t), -1, 1)
        x = math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps
        traj.append(x.tolist())
    return traj


def main():
    rng = np.random.default_rng(0)
    fixtures = {k: dict(betas=betas(k).tolist(), alphas_cumprod=np.cumprod(1 - betas(k)).tolist())
                for k in ("linear", "scaled_linear", "squaredcos_cap_v2")}
    ac = np.cumprod(1 - betas("squaredcos_cap_v2"))
    x_init = rng.standard_normal(6)
    noises = rng.standard_normal((N, 6))
    fixtures["x_init"] = x_init.tolist()
    fixtures["noises"] = noises.tolist()
    fixtures["ddpm_trajectory"] = ddpm(ac, x_init.copy(), noises)
    fixtures["ddim10_trajectory"] = ddim(ac, x_init.copy(), 10)
    with open(OUT + ".tmp", "w") as f:
        json.dump(fixtures, f)
    os.replace(OUT + ".tmp", OUT)
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
