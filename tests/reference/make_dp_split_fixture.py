"""Writes tests/data/dp_zarr/dp_split.json: what numpy's default_rng draws and the train/validation
split Diffusion Policy's datasets compute, for include/mimic/core/numpy_generator.hpp and
include/mimic/data/diffusion_policy_split.hpp (tests/data_io/test_dp_split.cpp).

The split follows Diffusion Policy's sampler (diffusion_policy/common/sampler.py, get_val_mask and
downsample_mask, as its PushTLowdimDataset calls them): a validation mask of round(n * val_ratio)
episodes (at least 1, leaving at least 1) chosen by default_rng(seed).choice(n, k, replace=False),
then the remaining training episodes downsampled to max_train_episodes by a fresh default_rng(seed).

Run: /work/venv/bin/python tests/reference/make_dp_split_fixture.py   (numpy only)
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "dp_zarr", "dp_split.json")


def dp_train_mask(n, val_ratio, max_train, seed):
    val = np.zeros(n, dtype=bool)
    if val_ratio > 0:
        k = min(max(1, round(n * val_ratio)), n - 1)
        val[np.random.default_rng(seed=seed).choice(n, size=k, replace=False)] = True
    train = ~val
    if max_train is not None and train.sum() > max_train:
        kept = np.nonzero(train)[0]
        picks = np.random.default_rng(seed=seed).choice(len(kept), size=int(max_train), replace=False)
        train = np.zeros_like(train)
        train[kept[picks]] = True
    return train


def main():
    seeds = [0, 1, 42, 2**32 - 1, 2**32, 2**63 + 5, 2**64 - 1]
    raw = [{"seed": str(s), "uint64": [str(int(v)) for v in
                                        np.random.default_rng(s).bit_generator.random_raw(6)]}
           for s in seeds]
    uint32 = [str(int(v)) for v in
              np.random.default_rng(42).integers(0, 2**32, size=7, dtype=np.uint32)]
    bounded = []
    for high in [1, 2, 7, 1000, 2**31 + 11, 2**32, 2**32 + 1, 2**40, 2**62 + 3]:
        values = np.random.default_rng(7).integers(0, high, size=6)
        bounded.append({"high": str(high), "values": [str(int(v)) for v in values]})
    choice = []
    for seed, n, k in [(42, 206, 4), (42, 202, 90), (7, 20000, 1000), (3, 2**40, 5), (0, 1, 0),
                       (1, 50, 50), (5, 10001, 300), (9, 1000, 999)]:
        values = np.random.default_rng(seed).choice(n, size=k, replace=False)
        choice.append({"seed": seed, "n": n, "size": k, "values": [int(v) for v in values]})
    split = []
    for n, ratio, max_train, seed in [(206, 0.02, 90, 42), (100, 0.02, 90, 42), (10, 0.02, 90, 42),
                                      (1, 0.02, 90, 42), (2, 0.5, 90, 42), (50, 0.05, None, 3),
                                      (51, 0.03, 45, 42), (300, 0.1, None, 0), (120, 0.0, 90, 42)]:
        train = dp_train_mask(n, ratio, max_train, seed)
        split.append({"episodes": n, "val_ratio": ratio,
                      "max_train_episodes": -1 if max_train is None else max_train, "seed": seed,
                      "train": [int(i) for i in np.nonzero(train)[0]]})
    fixture = {"numpy": np.__version__, "raw": raw, "uint32_seed42": uint32,
               "bounded_seed7": bounded, "choice": choice, "dp_split": split}
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
