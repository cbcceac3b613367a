#!/usr/bin/env python3
"""Rows of tools/gpu_check.sh's summary for the benchmark: mimic on the GPU next to PyTorch on
the same GPU (eager, and compiled where it ran), with the GPU backend issue's targets. A missed
target reads MISS (a measurement, not a failure of the check).

    python3 tools/gpu_bench_table.py OUT_DIR     (reads bench_*.json there, prints table rows)
"""
import json
import os
import sys

# row -> (largest mimic / torch-eager ratio, largest mimic milliseconds), None where unset.
TARGETS = {
    "unet_train_b256": (0.8, None),
    "dp_chunk_ddim10_b1": (0.2, 2.0),
    "dp_chunk_ddpm100_b1": (None, 10.0),
    "bcrnn_train_b100": (0.5, None),
    "resnet18_train_b16_84": (0.8, None),
}


def load(path):
    try:
        with open(path) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return {}


def ms(v):
    return "%.3f ms" % v if isinstance(v, (int, float)) else str(v)[:60]


def main():
    out = sys.argv[1]
    mimic = load(os.path.join(out, "bench_mimic.json"))
    eager = load(os.path.join(out, "bench_torch_eager.json"))
    compiled = load(os.path.join(out, "bench_torch_compiled.json"))
    for name in sorted(k for k in mimic if not k.startswith("_")):
        m, e, c = mimic[name], eager.get(name), compiled.get(name)
        detail = "mimic %s, torch eager %s" % (ms(m), ms(e) if e is not None else "not run")
        if c is not None:
            detail += ", torch compiled %s" % ms(c)
        ratio = m / e if isinstance(m, (int, float)) and isinstance(e, (int, float)) else None
        if ratio is not None:
            detail += ", %.2fx eager" % ratio
        result = "measured" if isinstance(m, (int, float)) else "FAIL"
        target = TARGETS.get(name)
        if target and result == "measured":
            max_ratio, max_ms = target
            ok = (max_ratio is None or (ratio is not None and ratio <= max_ratio)) and \
                 (max_ms is None or m <= max_ms)
            result = "met" if ok else "MISS"
            want = []
            if max_ratio is not None:
                want.append("<= %.1fx eager" % max_ratio)
            if max_ms is not None:
                want.append("< %g ms" % max_ms)
            detail += "; target " + " and ".join(want)
        print("| bench %s | %s | %s |" % (name, result, detail))
    if eager.get("_torch"):
        print("| torch | %s | %s |" % (eager["_torch"], eager.get("_device", "")))


if __name__ == "__main__":
    main()
