#!/usr/bin/env python3
"""PyTorch versions of the rows bench/compare_pytorch.sh times: the same computations as
mimic_bench's BM_UnetTrainStep/256, BM_UnetDenoise/1, BM_DpChunkDdim10/1, BM_DptChunkDdim10/1,
BM_BcTrainStep/100,
BM_LstmTrainStep, BM_BcRnnStep/1, BM_BcTransformerTrainStep/100, BM_IbcDfo/1, BM_ResNet18Train/16 and BM_DpImageChunk/1, and of
bench/gpu/bench_rows.cu on a GPU (which adds dp_chunk_ddpm100_b1). Prints one JSON object
{row: median ms}.

    python3 bench/reference/torch_rows.py [--rows a,b] [--repeats N]     (CPU, 2 threads)
    python3 bench/reference/torch_rows.py --device cuda [--compile]      (GPU, eager or compiled)

--compile wraps each row's networks in torch.compile (mode "reduce-overhead", which captures
CUDA graphs, for the batch-1 inference rows); a row that fails to compile reports the error.
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
COMPILE = False


def compiled(module, inference=False):
    """The module itself, or torch.compile of it under --compile."""
    if not COMPILE:
        return module
    return torch.compile(module, mode="reduce-overhead" if inference else None)


def pusht_unet():
    return Unet(2, 40, 256, [256, 512, 1024], 5, 8)


def unet_train_b256():
    net = pusht_unet()
    params = list(net.parameters())
    net = compiled(net)
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.95, 0.999), weight_decay=1e-6)
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
            torch._foreach_add_(ema, [p.detach() for p in params], alpha=1 - d)
    return step


def unet_denoise_b1():
    net = compiled(pusht_unet().eval(), inference=True)
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


def ddpm100(net, abar, cond):
    """100 DDPM steps (epsilon prediction, clipped x0, posterior mean plus its noise)."""
    x = torch.randn(1, 16, 2)
    for t in reversed(range(100)):
        eps = net(x, torch.full((1,), float(t)), cond)
        a_t, a_prev = abar[t], abar[t - 1] if t > 0 else 1.0
        beta = 1 - a_t / a_prev
        x0 = ((x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)).clamp(-1, 1)
        mean = (math.sqrt(a_prev) * beta / (1 - a_t)) * x0 + (math.sqrt(1 - beta) * (1 - a_prev) / (1 - a_t)) * x
        x = mean + (math.sqrt(beta * (1 - a_prev) / (1 - a_t)) * torch.randn_like(x) if t > 0 else 0)
    return x


def dp_chunk_ddpm100_b1():
    net = compiled(pusht_unet().eval(), inference=True)
    abar = squaredcos_alphas_cumprod()
    obs_raw = torch.rand(1, 2, 20) * 512
    scale, offset = 2 / 512.0, -1.0

    def step():
        with torch.no_grad():
            cond = (obs_raw * scale + offset).reshape(1, 40)
            x = ddpm100(net, abar, cond)
            (x[:, 1:9] - offset) / scale
    return step


def dp_chunk_ddim10_b1():
    net = compiled(pusht_unet().eval(), inference=True)
    abar = squaredcos_alphas_cumprod()
    obs_raw = torch.rand(1, 2, 20) * 512
    scale, offset = 2 / 512.0, -1.0

    def step():
        with torch.no_grad():
            cond = (obs_raw * scale + offset).reshape(1, 40)
            x = ddim10(net, abar, cond)
            (x[:, 1:9] - offset) / scale
    return step


def dpt_chunk_ddim10_b1():
    """DP-T's Push-T low-dim denoiser (Diffusion Policy's own TransformerForDiffusion: 8 layers of
    256, 4 heads, causal, observations as memory tokens), 10 DDIM steps at batch 1."""
    import tempfile
    from make_dpt_fixture import extract
    src = tempfile.mkdtemp()
    extract(os.environ.get("DP_GIT_DIR", "/work/.mirror/real-stanford+diffusion_policy/repo"), "HEAD", src)
    sys.path.insert(0, src)
    from diffusion_policy.model.diffusion.transformer_for_diffusion import TransformerForDiffusion
    model = TransformerForDiffusion(input_dim=2, output_dim=2, horizon=16, n_obs_steps=2, cond_dim=20,
                                    n_layer=8, n_head=4, n_emb=256, p_drop_emb=0.0, p_drop_attn=0.01,
                                    causal_attn=True, time_as_cond=True, n_cond_layers=0)
    net = compiled(model.eval(), inference=True)
    abar = squaredcos_alphas_cumprod()
    obs_raw = torch.rand(1, 2, 20) * 512
    scale, offset = 2 / 512.0, -1.0

    def step():
        with torch.no_grad():
            x = ddim10(net, abar, obs_raw * scale + offset)
            (x[:, 1:9] - offset) / scale
    return step


def bc_train_b100():
    net = nn.Sequential(nn.Linear(19, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 7))
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    net = compiled(net)
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
    lstm, head = compiled(lstm), compiled(head)
    x, y = torch.rand(100, 10, 19) * 2 - 1, torch.rand(100, 10, 7) * 2 - 1

    def step():
        opt.zero_grad()
        loss = F.mse_loss(head(lstm(x)[0]), y)
        loss.backward()
        opt.step()
    return step


def bc_transformer_train_b100():
    """robomimic's BC-Transformer defaults on Lift low-dim, built from robomimic's own GPT."""
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):  # robomimic prints its parameter count
        from robomimic.models.transformers import GPT_Backbone
        gpt = GPT_Backbone(embed_dim=512, context_length=10, attn_dropout=0.1, block_output_dropout=0.1,
                           num_layers=6, num_heads=8, activation="gelu")

    class Actor(nn.Module):  # MIMO_Transformer's embedding and TransformerActorNetwork's decoder
        def __init__(self):
            super().__init__()
            self.embed_encoder, self.embed_ln = nn.Linear(19, 512), nn.LayerNorm(512)
            self.embed_timestep = nn.Parameter(torch.zeros(1, 10, 512))
            self.embed_drop, self.gpt, self.decoder = nn.Dropout(0.1), gpt, nn.Linear(512, 7)

        def forward(self, x):
            e = self.embed_drop(self.embed_ln(self.embed_encoder(x) + self.embed_timestep))
            return torch.tanh(self.decoder(self.gpt(e)))

    net = Actor().train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    net = compiled(net)
    x, y = torch.rand(100, 10, 19) * 2 - 1, torch.rand(100, 7) * 2 - 1

    def step():
        opt.zero_grad()
        a = net(x)[:, -1]
        cos = (1 - F.cosine_similarity(a[:, :3], y[:, :3], dim=-1)).mean()
        loss = F.mse_loss(a, y) + 0.0 * F.smooth_l1_loss(a, y) + 0.0 * cos  # robomimic's weights
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
    energy = compiled(nn.Sequential(*layers, nn.Linear(1024, 1)).eval(), inference=True)
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


class BasicBlock(nn.Module):
    """torchvision's ResNet BasicBlock, for machines without torchvision (same layers and FLOPs)."""

    def __init__(self, cin, cout, stride, norm):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), norm(cout)
        self.conv2, self.bn2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), norm(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), norm(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.down is None else self.down(x)))


def resnet18_trunk(norm):
    try:
        import torchvision
        return nn.Sequential(*list(torchvision.models.resnet18(norm_layer=norm).children())[:-2])
    except ImportError:
        layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), norm(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
        for cin, cout, stride in [(64, 64, 1), (64, 128, 2), (128, 256, 2), (256, 512, 2)]:
            layers += [BasicBlock(cin, cout, stride, norm), BasicBlock(cout, cout, 1, norm)]
        return nn.Sequential(*layers)


def visual_core(group_norm):
    norm = (lambda c: nn.GroupNorm(c // 16, c)) if group_norm else nn.BatchNorm2d
    return nn.Sequential(resnet18_trunk(norm), SpatialSoftmax(512, 3, 3), nn.Linear(64, 64))


def resnet18_train_b16_84():
    core = compiled(visual_core(False).train())
    x, w = torch.rand(16, 3, 84, 84), torch.rand(16, 64)

    def step():
        core.zero_grad()
        (core(x) * w).sum().backward()
    return step


def dp_image_chunk_b1():
    core = compiled(visual_core(True).eval(), inference=True)
    net = compiled(Unet(2, 2 * (64 + 2), 256, [256, 512, 1024], 5, 8).eval(), inference=True)
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


ROWS = {f.__name__: f for f in [unet_train_b256, unet_denoise_b1, dp_chunk_ddim10_b1, dp_chunk_ddpm100_b1,
                                dpt_chunk_ddim10_b1, bc_train_b100,
                                bcrnn_train_b100, bcrnn_step_b1, bc_transformer_train_b100, ibc_dfo_b1, resnet18_train_b16_84,
                                dp_image_chunk_b1]}


def synchronize():
    if torch.cuda.is_available() and torch.get_default_device().type == "cuda":
        torch.cuda.synchronize()


def time_row(make, repeats, min_seconds=1.0):
    step = make()
    for _ in range(3 if COMPILE else 1):  # warm-up (compilation and graph capture take a few)
        step()
    synchronize()
    times = []
    start = time.perf_counter()
    while len(times) < repeats or (time.perf_counter() - start < min_seconds and len(times) < 1000):
        t0 = time.perf_counter()
        step()
        synchronize()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    global COMPILE
    p = argparse.ArgumentParser()
    p.add_argument("--rows", default=",".join(ROWS))
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--compile", action="store_true")
    a = p.parse_args()
    COMPILE = a.compile
    if a.device == "cuda":
        torch.set_default_device("cuda")
    else:
        rows = [r for r in a.rows.split(",") if r != "dp_chunk_ddpm100_b1"]  # a GPU-only row
        a.rows = ",".join(rows)
    out = {}
    for r in a.rows.split(","):
        try:
            out[r] = time_row(ROWS[r], 3 if r == "unet_train_b256" else a.repeats)
        except Exception as e:  # noqa: BLE001  (a row that cannot run says why; the rest go on)
            out[r] = "error: %s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
        print("%s: %s" % (r, out[r]), file=sys.stderr)
    out["_torch"] = torch.__version__
    out["_device"] = a.device + (" compiled" if COMPILE else " eager")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
