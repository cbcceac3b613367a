#!/usr/bin/env python3
"""PyTorch versions of the rows bench/compare_pytorch.sh times: the same computations as
mimic_bench's BM_UnetTrainStep/256, BM_UnetDenoise/1, BM_DpChunkDdim10/1, BM_BcTrainStep/100,
BM_LstmTrainStep, BM_BcRnnStep/1, BM_IbcDfo/1, BM_ResNet18Train/16 and BM_DpImageChunk/1. Prints one JSON object {row: median ms}.

    python3 bench/reference/torch_rows.py [--rows a,b] [--repeats N]     (2 threads)
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference"))
from make_unet_fixture import Unet  # noqa: E402  (Diffusion Policy's ConditionalUnet1D)

torch.set_num_threads(2)


def pusht_unet():
    return Unet(2, 40, 256, [256, 512, 1024], 5, 8)


def unet_train_b256():
    net = pusht_unet()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4, betas=(0.95, 0.999), weight_decay=1e-6)
    ema = [p.detach().clone() for p in net.parameters()]
    x, noise = torch.rand(256, 16, 2) * 2 - 1, torch.randn(256, 16, 2)
    cond, t = torch.rand(256, 40) * 2 - 1, torch.arange(256).float() % 100

    def step():
        opt.zero_grad()
        loss = F.mse_loss(net(x, t, cond), noise)
        loss.backward()
        opt.step()
        with torch.no_grad():
            d = 0.999
            torch._foreach_mul_(ema, d)
            torch._foreach_add_(ema, [p.detach() for p in net.parameters()], alpha=1 - d)
    return step


def unet_denoise_b1():
    net = pusht_unet().eval()
    x, cond, t = torch.rand(1, 16, 2), torch.rand(1, 40), torch.full((1,), 10.0)

    def step():
        with torch.no_grad():
            net(x, t, cond)
    return step


def squaredcos_alphas_cumprod(n=100):
    f = lambda s: math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    betas = [min(1 - f((i + 1) / n) / f(i / n), 0.999) for i in range(n)]
    out, a = [], 1.0
    for b in betas:
        a *= 1 - b
        out.append(a)
    return out


def ddim10(net, abar, cond):
    """10 DDIM steps (eta 0, epsilon prediction, clipped x0) of a [1, 16, 2] action chunk."""
    x = torch.randn(1, 16, 2)
    for t in reversed(range(0, 100, 10)):
        eps = net(x, torch.full((1,), float(t)), cond)
        a_t, a_prev = abar[t], abar[t - 10] if t >= 10 else 1.0
        x0 = ((x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)).clamp(-1, 1)
        x = math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps
    return x


def dp_chunk_ddim10_b1():
    net = pusht_unet().eval()
    abar = squaredcos_alphas_cumprod()
    obs_raw = torch.rand(1, 2, 20) * 512
    scale, offset = 2 / 512.0, -1.0

    def step():
        with torch.no_grad():
            cond = (obs_raw * scale + offset).reshape(1, 40)
            x = ddim10(net, abar, cond)
            (x[:, 1:9] - offset) / scale
    return step


def bc_train_b100():
    net = nn.Sequential(nn.Linear(19, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 7))
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    x, y = torch.rand(100, 19) * 2 - 1, torch.rand(100, 7) * 2 - 1

    def step():
        opt.zero_grad()
        a = torch.tanh(net(x))
        loss = F.mse_loss(a, y) + F.smooth_l1_loss(a, y) + (1 - F.cosine_similarity(a[:, :3], y[:, :3], dim=-1)).mean()
        loss.backward()
        opt.step()
    return step


def bcrnn_train_b100():
    lstm, head = nn.LSTM(19, 400, 2, batch_first=True), nn.Linear(400, 7)
    opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=1e-4)
    x, y = torch.rand(100, 10, 19) * 2 - 1, torch.rand(100, 10, 7) * 2 - 1

    def step():
        opt.zero_grad()
        loss = F.mse_loss(head(lstm(x)[0]), y)
        loss.backward()
        opt.step()
    return step


def bcrnn_step_b1():
    lstm, head = nn.LSTM(19, 400, 2, batch_first=True), nn.Linear(400, 7)
    x = torch.rand(1, 1, 19)
    state = [None]

    def step():
        with torch.no_grad():
            out, state[0] = lstm(x, state[0])
            torch.tanh(head(out[:, -1]))
    return step


def ibc_dfo_b1():
    layers, w = [], 42
    for _ in range(4):
        layers += [nn.Linear(w, 1024), nn.ReLU(), nn.Dropout(0.1)]
        w = 1024
    energy = nn.Sequential(*layers, nn.Linear(1024, 1)).eval()
    obs = torch.rand(1, 40) * 2 - 1
    n = 1024

    def step():
        with torch.no_grad():
            samples = torch.rand(n, 2) * 2 - 1
            o = obs.expand(n, 40)
            sigma = 0.33
            for _ in range(3):
                e = energy(torch.cat([o, samples], 1)).squeeze(1)
                idx = torch.multinomial(torch.softmax(-e, 0), n, replacement=True)
                samples = (samples[idx] + sigma * torch.randn(n, 2)).clamp(-1, 1)
                sigma *= 0.5
            e = energy(torch.cat([o, samples], 1)).squeeze(1)
            samples[torch.argmin(e)]
    return step


class SpatialSoftmax(nn.Module):
    """robomimic's SpatialSoftmax (1x1 conv to keypoints, softmax over positions, expected x/y)."""

    def __init__(self, c, h, w, num_kp=32):
        super().__init__()
        self.nets = nn.Conv2d(c, num_kp, 1)
        self.num_kp, self.h, self.w = num_kp, h, w
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
        self.register_buffer("pos", torch.stack([xs.reshape(-1), ys.reshape(-1)], 1))

    def forward(self, x):
        att = torch.softmax(self.nets(x).reshape(-1, self.h * self.w), dim=-1)
        return (att @ self.pos).reshape(-1, self.num_kp * 2)


def visual_core(group_norm):
    import torchvision
    kwargs = {"norm_layer": (lambda c: nn.GroupNorm(c // 16, c))} if group_norm else {}
    trunk = nn.Sequential(*list(torchvision.models.resnet18(**kwargs).children())[:-2])
    return nn.Sequential(trunk, SpatialSoftmax(512, 3, 3), nn.Linear(64, 64))


def resnet18_train_b16_84():
    core = visual_core(False).train()
    x, w = torch.rand(16, 3, 84, 84), torch.rand(16, 64)

    def step():
        core.zero_grad()
        (core(x) * w).sum().backward()
    return step


def dp_image_chunk_b1():
    core = visual_core(True).eval()
    net = Unet(2, 2 * (64 + 2), 256, [256, 512, 1024], 5, 8).eval()
    abar = squaredcos_alphas_cumprod()
    image, pos_raw = torch.rand(1, 2, 3, 96, 96), torch.rand(1, 2, 2) * 512
    scale, offset = 2 / 512.0, -1.0

    def step():
        with torch.no_grad():
            img = image[:, :, :, 6:90, 6:90].reshape(2, 3, 84, 84) * 2 - 1  # centre crop
            feats = torch.relu(core(img)).reshape(1, 2, 64)
            cond = torch.cat([pos_raw * scale + offset, feats], -1).reshape(1, -1)
            x = ddim10(net, abar, cond)
            (x[:, 1:9] - offset) / scale
    return step


ROWS = {f.__name__: f for f in [unet_train_b256, unet_denoise_b1, dp_chunk_ddim10_b1, bc_train_b100,
                                bcrnn_train_b100, bcrnn_step_b1, ibc_dfo_b1, resnet18_train_b16_84,
                                dp_image_chunk_b1]}


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
    out = {r: time_row(ROWS[r], 3 if r == "unet_train_b256" else a.repeats) for r in a.rows.split(",")}
    out["_torch"] = torch.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main()
