#!/usr/bin/env python3
"""Writes tests/data/sequence_samples.json: for every combination of seq_length in {1, 10, 16},
frame_stack in {1, 2, 10} and both pad flags, the source step indices, pad masks and goal steps of
every sample over a set of demos, computed with a Python re-implementation of robomimic's
SequenceDataset rules (get_item / get_sequence_from_demo: frame-stack start offset, edge
repetition, pad mask, goal_mode "last"). Also Diffusion Policy's SequenceSampler windows.

    python3 tests/reference/make_sequence_fixtures.py      (standard library only)
"""
import itertools
import json
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sequence_samples.json")
PADDED_LENGTHS = [1, 3, 12, 30]   # every sample count stays >= 1 with both pads on
UNPADDED_LENGTHS = [26, 30, 41]   # long enough for seq 16 + frame_stack 10 without padding


def robomimic_samples(lengths, seq, fs, pad_seq, pad_fs):
    out = []
    for d, length in enumerate(lengths):
        n = length - (0 if pad_fs else fs - 1) - (0 if pad_seq else seq - 1)
        assert n >= 1
        for k in range(n):
            index = k + (0 if pad_fs else fs - 1)
            begin, end = max(0, index - (fs - 1)), min(length, index + seq)
            begin_pad, end_pad = max(0, (fs - 1) - index), max(0, index + seq - length)
            steps = list(range(begin, end))
            steps = [steps[0]] * begin_pad + steps + [steps[-1]] * end_pad
            mask = [0] * begin_pad + [1] * (end - begin) + [0] * end_pad
            goal = length - (0 if pad_seq else seq - 1) - 1
            out.append(dict(demo=d, steps=steps, mask=mask, goal=goal))
    return out


def dp_samples(lengths, horizon, pad_before, pad_after):
    out = []
    for d, length in enumerate(lengths):
        for start in range(-pad_before, length - horizon + pad_after + 1):
            lo, hi = max(start, 0), min(start + horizon, length)
            data = list(range(lo, hi))
            front, back = lo - start, start + horizon - hi
            steps = [data[0]] * front + data + [data[-1]] * back
            out.append(dict(demo=d, steps=steps, mask=[0] * front + [1] * len(data) + [0] * back))
    return out


def main():
    cases = []
    for seq, fs, pad_seq, pad_fs in itertools.product([1, 10, 16], [1, 2, 10], [True, False], [True, False]):
        lengths = PADDED_LENGTHS if (pad_seq and pad_fs) else UNPADDED_LENGTHS
        cases.append(dict(seq_length=seq, frame_stack=fs, pad_seq_length=pad_seq, pad_frame_stack=pad_fs,
                          lengths=lengths, samples=robomimic_samples(lengths, seq, fs, pad_seq, pad_fs)))
    dp = [dict(horizon=h, pad_before=b, pad_after=a, lengths=[5, 20, 33], samples=dp_samples([5, 20, 33], h, b, a))
          for h, b, a in [(16, 1, 7), (10, 1, 7), (4, 0, 0)]]
    with open(OUT + ".tmp", "w") as f:
        json.dump(dict(robomimic=cases, diffusion_policy=dp), f, separators=(",", ":"))
    os.replace(OUT + ".tmp", OUT)
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
