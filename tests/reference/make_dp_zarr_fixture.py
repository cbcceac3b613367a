"""Writes tests/data/dp_zarr/pusht_tiny.zarr, a tiny Push-T store in Diffusion Policy's layout
(zarr v2 DirectoryStore, Blosc lz4 chunks), and tests/data/dp_zarr/expected.json with what numpy
wrote, for `mimic convert --from dp-zarr` and include/mimic/data/zarr.hpp (tests/data_io/test_zarr.cpp).

Layout as in Diffusion Policy's pusht_cchi_v7_replay.zarr: data/state [N, 5] float32 (agent x, y,
block origin x, y, block angle; pixels, y down), data/keypoint [N, 9, 2] float32, data/action
[N, 2] float32 (targets in pixels), data/img [N, 96, 96, 3] float32 0..255, meta/episode_ends
int64 [E] (exclusive ends). Chunks are smaller than the arrays so that there are several chunk
files per array and partial edge chunks.

Run: /work/venv/bin/python tests/reference/make_dp_zarr_fixture.py   (zarr 3.x, numcodecs)
"""
import json
import math
import os
import shutil

import numcodecs
import numpy as np
import zarr

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "dp_zarr")
STORE = os.path.join(OUT, "pusht_tiny.zarr")

# pusht::kKeypoints of include/mimic/env/pusht/env.hpp (block body frame, pixels).
KEYPOINTS = np.array([
    [9.269786713763871, 90.040973523936188],
    [-60.983472364471474, -1.1867297607997276],
    [60.912755577277721, -1.3933642242328201],
    [-0.2705034390160016, 25.543624991465421],
    [-14.064927576212233, 122.81585355412153],
    [39.002738500170146, 32.857404276587566],
    [-39.966414424694534, 32.729655446429945],
    [-16.824344379397441, 62.863178922349888],
    [23.54146122024909, -1.7002881094626152],
])
GOAL = (256.0, 256.0, math.pi / 4)


def keypoints(x, y, theta):
    c, s = math.cos(theta), math.sin(theta)
    return np.stack([x + c * KEYPOINTS[:, 0] - s * KEYPOINTS[:, 1],
                     y + s * KEYPOINTS[:, 0] + c * KEYPOINTS[:, 1]], axis=1)


def episode(rng, length, end_at_goal):
    """An agent pushing a block from a random start; the last one reaches the goal pose."""
    agent0 = rng.uniform(60, 440, size=2)
    block0 = np.array([rng.uniform(150, 350), rng.uniform(150, 350), rng.uniform(-math.pi, math.pi)])
    block1 = np.array(GOAL) if end_at_goal else block0 + [rng.uniform(-40, 40), rng.uniform(-40, 40), 0.3]
    states, actions = [], []
    for t in range(length):
        # Reaches block1 two steps before the end, then stays (success at the last steps).
        u = min(1.0, t / max(1, length - 3))
        b = block0 + u * (block1 - block0)
        a = agent0 + u * (b[:2] - agent0) * 0.8
        states.append([a[0], a[1], b[0], b[1], b[2]])
        actions.append(a + rng.uniform(-20, 20, size=2))
    return np.array(states), np.clip(np.array(actions), 0, 512)


def image(state):
    """96 x 96 RGB in 0..255 (float): white, a grey square at the block, a blue disc at the agent."""
    img = np.full((96, 96, 3), 255.0)
    yy, xx = np.mgrid[0:96, 0:96]
    bx, by = state[2] * 96 / 512, state[3] * 96 / 512
    img[(abs(xx - bx) < 8) & (abs(yy - by) < 8)] = [119, 136, 153]
    ax, ay = state[0] * 96 / 512, state[1] * 96 / 512
    img[(xx - ax) ** 2 + (yy - ay) ** 2 < 9] = [65, 105, 225]
    return img


def main():
    rng = np.random.default_rng(20240601)
    lengths = [5, 8, 6]
    states, actions = [], []
    for i, n in enumerate(lengths):
        s, a = episode(rng, n, end_at_goal=(i == len(lengths) - 1))
        states.append(s)
        actions.append(a)
    state = np.concatenate(states).astype(np.float32)
    action = np.concatenate(actions).astype(np.float32)
    kp = np.stack([keypoints(*map(float, s[2:5])) for s in state]).astype(np.float32)
    img = np.stack([image(s) for s in state]).astype(np.float32)
    episode_ends = np.cumsum(lengths).astype(np.int64)
    n = state.shape[0]
    assert (state[:, :4] >= 50).all() and (state[:, :4] <= 450).all()

    if os.path.exists(STORE):
        shutil.rmtree(STORE)
    blosc = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)
    root = zarr.open_group(STORE, mode="w", zarr_format=2)
    data = root.create_group("data")
    meta = root.create_group("meta")

    def put(group, name, arr, chunks):
        z = group.create_array(name, shape=arr.shape, dtype=arr.dtype, chunks=chunks,
                               compressors=blosc, filters=None, fill_value=0)
        z[...] = arr

    put(data, "state", state, (4, 5))
    put(data, "keypoint", kp, (6, 9, 2))
    put(data, "action", action, (8, 2))
    put(data, "img", img, (2, 96, 96, 3))
    put(meta, "episode_ends", episode_ends, (2,))

    # What the C++ test compares against: the raw arrays as numpy holds them (float32 values as
    # exact doubles), and for the image a per-frame sum plus sampled pixels.
    samples = []
    for _ in range(64):
        i = [int(rng.integers(0, d)) for d in img.shape]
        samples.append(i + [float(img[tuple(i)])])
    # The block's pose at every step (for the converter's reward / state checks).
    expected = {
        "n": n,
        "episode_ends": episode_ends.tolist(),
        "state": [[float(v) for v in row] for row in state],
        "keypoint": [[float(v) for v in row] for row in kp.reshape(n, 18)],
        "action": [[float(v) for v in row] for row in action],
        "img_shape": list(img.shape),
        "img_frame_sums": [float(img[i].astype(np.float64).sum()) for i in range(n)],
        "img_samples": samples,
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(STORE) for f in fs)
    print(f"wrote {STORE} ({total} bytes) and expected.json")


if __name__ == "__main__":
    main()
