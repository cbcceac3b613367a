#!/usr/bin/env python3
"""Writes tests/data/normalization.json: per-demo observation arrays and the normalization
statistics numpy computes for them: robomimic's per-demo mean / squared deviations merged with
the parallel-variance formula (offset = mean, scale = sqrt(M2 / n) + 1e-3), gaussian and min_max
action statistics, and Diffusion Policy's "limits" normalizer (with a constant dim).

    /usr/bin/python3 tests/reference/make_normalization_fixtures.py
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "normalization.json")


def main():
    rng = np.random.default_rng(3)
    demos = [(rng.standard_normal((n, 4)) * [1, 10, 0.01, 3] + [0, 100, -5, 2]).astype(np.float32)
             for n in (1, 7, 30, 12)]
    stats = None
    for d in demos:
        d64 = d.astype(np.float64)
        s = dict(n=d.shape[0], mean=d64.mean(0), m2=((d64 - d64.mean(0)) ** 2).sum(0))
        if stats is None:
            stats = s
        else:
            n = stats["n"] + s["n"]
            delta = s["mean"] - stats["mean"]
            m2 = stats["m2"] + s["m2"] + delta ** 2 * stats["n"] * s["n"] / n
            mean = (stats["n"] * stats["mean"] + s["n"] * s["mean"]) / n
            stats = dict(n=n, mean=mean, m2=m2)
    everything = np.concatenate(demos).astype(np.float64)
    assert np.allclose(stats["mean"], everything.mean(0)) and np.allclose(stats["m2"] / stats["n"], everything.var(0))
    actions = everything.copy()
    actions[:, 2] = 0.25  # a constant dim
    lo, hi = -0.999999, 0.999999
    mn, mx = actions.min(0), actions.max(0)
    const = (mx - mn) < 1e-6
    mm_scale = np.where(const, 1.0, (mx - mn) / (hi - lo))
    mm_offset = np.where(const, mn, mn - lo * mm_scale)
    std = actions.std(0)
    limits_range = np.where((mx - mn) < 1e-4, 2.0, mx - mn)
    limits_scale = 2.0 / limits_range
    limits_offset = np.where((mx - mn) < 1e-4, -mn, -1.0 - limits_scale * mn)
    fixture = dict(
        demos=[d.tolist() for d in demos],
        obs_offset=stats["mean"].tolist(), obs_scale=(np.sqrt(stats["m2"] / stats["n"]) + 1e-3).tolist(),
        actions=actions.astype(np.float32).tolist(),
        minmax_offset=mm_offset.tolist(), minmax_scale=mm_scale.tolist(),
        gaussian_offset=actions.mean(0).tolist(), gaussian_scale=np.where(std < 1e-6, 1.0, std).tolist(),
        limits_scale=limits_scale.tolist(), limits_offset=limits_offset.tolist())
    with open(OUT + ".tmp", "w") as f:
        json.dump(fixture, f)
    os.replace(OUT + ".tmp", OUT)
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
