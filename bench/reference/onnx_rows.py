#!/usr/bin/env python3
"""ONNX Runtime versions of the deployment rows that bench/compare_deploy.sh times: the same
networks as torch_rows.py (Diffusion Policy's Push-T ConditionalUnet1D; BC-RNN's 2 x 400 LSTM with
its head), exported from PyTorch with torch.onnx and run by onnxruntime on the CPU with 2
intra-op threads. Prints one JSON object {row: median ms}.

    python3 bench/reference/onnx_rows.py [--rows unet_denoise_b1,dp_chunk_ddim10_b1,bcrnn_step_b1]
"""
import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_rows import pusht_unet, squaredcos_alphas_cumprod  # noqa: E402

torch.set_num_threads(2)
TMP = tempfile.mkdtemp(prefix="mimic_onnx_")


def session(module, inputs, input_names, output_names):
    """An ORT session of `module` traced on `inputs`, 2 intra-op threads, all graph optimizations."""
    path = os.path.join(TMP, "%s.onnx" % type(module).__name__)
    with torch.no_grad():
        torch.onnx.export(module, inputs, path, input_names=input_names, output_names=output_names,
                          opset_version=17, dynamo=False)
    o = ort.SessionOptions()
    o.intra_op_num_threads = 2
    o.inter_op_num_threads = 1
    o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])


def unet_session():
    net = pusht_unet().eval()
    x, t, cond = torch.rand(1, 16, 2), torch.full((1,), 10.0), torch.rand(1, 40)
    return session(net, (x, t, cond), ["x", "t", "cond"], ["eps"])


def unet_denoise_b1():
    s = unet_session()
    feed = {"x": np.random.rand(1, 16, 2).astype(np.float32), "t": np.full((1,), 10.0, np.float32),
            "cond": np.random.rand(1, 40).astype(np.float32)}

    def step():
        s.run(None, feed)
    return step


def dp_chunk_ddim10_b1():
    """torch_rows.py's chunk: normalize, 10 DDIM steps (eta 0, clipped x0), unnormalize."""
    s = unet_session()
    abar = squaredcos_alphas_cumprod()
    obs_raw = (np.random.rand(1, 2, 20) * 512).astype(np.float32)
    scale, offset = 2 / 512.0, -1.0
    rng = np.random.default_rng(0)

    def step():
        cond = (obs_raw * scale + offset).reshape(1, 40).astype(np.float32)
        x = rng.standard_normal((1, 16, 2), dtype=np.float32)
        for t in reversed(range(0, 100, 10)):
            eps = s.run(None, {"x": x, "t": np.full((1,), float(t), np.float32), "cond": cond})[0]
            a_t, a_prev = abar[t], abar[t - 10] if t >= 10 else 1.0
            x0 = np.clip((x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t), -1, 1)
            x = (math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps).astype(np.float32)
        (x[:, 1:9] - offset) / scale
    return step


class RnnStep(nn.Module):
    """One BC-RNN control step: LSTM 2 x 400 over one observation with carried state, tanh head."""

    def __init__(self):
        super().__init__()
        self.lstm, self.head = nn.LSTM(19, 400, 2, batch_first=True), nn.Linear(400, 7)

    def forward(self, x, h, c):
        out, (h, c) = self.lstm(x, (h, c))
        return torch.tanh(self.head(out[:, -1])), h, c


def bcrnn_step_b1():
    s = session(RnnStep().eval(), (torch.rand(1, 1, 19), torch.zeros(2, 1, 400), torch.zeros(2, 1, 400)),
                ["x", "h", "c"], ["action", "h_out", "c_out"])
    x = np.random.rand(1, 1, 19).astype(np.float32)
    state = [np.zeros((2, 1, 400), np.float32), np.zeros((2, 1, 400), np.float32)]

    def step():
        _, state[0], state[1] = s.run(None, {"x": x, "h": state[0], "c": state[1]})
    return step


ROWS = {f.__name__: f for f in [unet_denoise_b1, dp_chunk_ddim10_b1, bcrnn_step_b1]}


def time_row(make, repeats, min_seconds=1.0):
    step = make()
    step()  # warm-up
    times = []
    start = time.perf_counter()
    while len(times) < repeats or (time.perf_counter() - start < min_seconds and len(times) < 1000):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", default=",".join(ROWS))
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    out = {}
    for r in a.rows.split(","):
        out[r] = time_row(ROWS[r], a.repeats)
        print("%s: %s" % (r, out[r]), file=sys.stderr)
    out["_onnxruntime"] = ort.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main()
