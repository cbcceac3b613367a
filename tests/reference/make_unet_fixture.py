#!/usr/bin/env python3
"""Writes tests/data/golden_unet.h5: a small ConditionalUnet1D (Diffusion Policy's architecture,
written here from its published description) with its state dict, inputs, output and the gradient
of sum(weights * output) with respect to every parameter.

    /usr/bin/python3 tests/reference/make_unet_fixture.py

Layout: /params/<state-dict name>, /grads/<state-dict name>, /sample, /timesteps, /global_cond,
/weights, /y; the configuration is in the root attributes. Parameters and inputs are float32 values; outputs and gradients are computed in float64, and
the C++ test runs the same weights in float and double.
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "golden_unet.h5")


class StepEmbedding(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, t):
        half = self.dim // 2
        freqs = torch.exp(torch.arange(half, dtype=t.dtype) * -(math.log(10000) / (half - 1)))
        arg = t[:, None] * freqs[None, :]
        return torch.cat([arg.sin(), arg.cos()], dim=-1)


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, k, groups):
        super().__init__()
        self.block = nn.Sequential(nn.Conv1d(cin, cout, k, padding=k // 2),
                                   nn.GroupNorm(groups, cout), nn.Mish())

    def forward(self, x):
        return self.block(x)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, cond_dim, k, groups):
        super().__init__()
        self.cout = cout
        self.blocks = nn.ModuleList([ConvBlock(cin, cout, k, groups), ConvBlock(cout, cout, k, groups)])
        self.cond_encoder = nn.Sequential(nn.Mish(), nn.Linear(cond_dim, 2 * cout))
        self.residual_conv = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, cond):
        h = self.blocks[0](x)
        e = self.cond_encoder(cond).reshape(x.shape[0], 2, self.cout, 1)
        h = e[:, 0] * h + e[:, 1]
        return self.blocks[1](h) + self.residual_conv(x)


class Down(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, 3, 2, 1)

    def forward(self, x):
        return self.conv(x)


class Up(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv = nn.ConvTranspose1d(dim, dim, 4, 2, 1)

    def forward(self, x):
        return self.conv(x)


class Unet(nn.Module):
    def __init__(self, input_dim, global_cond_dim, dsed, down_dims, k, groups):
        super().__init__()
        self.diffusion_step_encoder = nn.Sequential(StepEmbedding(dsed), nn.Linear(dsed, 4 * dsed),
                                                    nn.Mish(), nn.Linear(4 * dsed, dsed))
        cond_dim = dsed + global_cond_dim
        dims = [input_dim] + list(down_dims)
        pairs = list(zip(dims[:-1], dims[1:]))
        self.down_modules = nn.ModuleList()
        for i, (a, b) in enumerate(pairs):
            last = i == len(pairs) - 1
            self.down_modules.append(nn.ModuleList([ResBlock(a, b, cond_dim, k, groups),
                                                    ResBlock(b, b, cond_dim, k, groups),
                                                    nn.Identity() if last else Down(b)]))
        mid = down_dims[-1]
        self.mid_modules = nn.ModuleList([ResBlock(mid, mid, cond_dim, k, groups),
                                          ResBlock(mid, mid, cond_dim, k, groups)])
        self.up_modules = nn.ModuleList()
        for a, b in reversed(pairs[1:]):
            self.up_modules.append(nn.ModuleList([ResBlock(2 * b, a, cond_dim, k, groups),
                                                  ResBlock(a, a, cond_dim, k, groups), Up(a)]))
        self.final_conv = nn.Sequential(ConvBlock(down_dims[0], down_dims[0], k, groups),
                                        nn.Conv1d(down_dims[0], input_dim, 1))

    def forward(self, sample, t, global_cond):
        cond = torch.cat([self.diffusion_step_encoder(t), global_cond], dim=-1)
        x = sample.transpose(1, 2)
        skips = []
        for r0, r1, down in self.down_modules:
            x = r1(r0(x, cond), cond)
            skips.append(x)
            x = down(x)
        for m in self.mid_modules:
            x = m(x, cond)
        for r0, r1, up in self.up_modules:
            x = torch.cat([x, skips.pop()], dim=1)
            x = up(r1(r0(x, cond), cond))
        return self.final_conv(x).transpose(1, 2)


def write_safetensors(path, arrays):
    """The safetensors format, written by hand (the package is not part of Debian): an 8-byte
    little-endian header length, a JSON header, then the raw little-endian data."""
    import json
    import struct
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name in sorted(arrays):
        data = arrays[name].astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arrays[name].shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(path + ".tmp", path)


def main():
    import h5py  # only the fixture writer needs it; bench/reference imports the model

    torch.manual_seed(0)
    cfg = dict(input_dim=2, global_cond_dim=6, dsed=16, down_dims=[8, 16, 32], k=5, groups=4)
    net = Unet(**cfg).double()
    with torch.no_grad():  # weights exactly representable in float32, so both dtypes share them
        for p in net.parameters():
            p.copy_(p.float().double())
    with torch.no_grad():  # non-trivial norms so their gradients are exercised
        for name, p in net.named_parameters():
            if name.endswith(".block.1.weight"):
                p.copy_((torch.rand(p.shape) + 0.5).double())
            elif name.endswith(".block.1.bias"):
                p.copy_((torch.rand(p.shape) - 0.5).double())
    b, t = 3, 8
    sample = torch.randn(b, t, cfg["input_dim"]).double()
    steps = torch.tensor([0.0, 17.0, 99.0], dtype=torch.float64)
    global_cond = torch.randn(b, cfg["global_cond_dim"]).double()
    y = net(sample, steps, global_cond)
    weights = (torch.rand(y.shape) + 0.5).double()
    (y * weights).sum().backward()
    tmp = OUT + ".tmp"
    with h5py.File(tmp, "w") as f:
        for key in ("input_dim", "global_cond_dim", "dsed", "k", "groups"):
            f.attrs[key] = cfg[key]
        f.attrs["down_dims"] = cfg["down_dims"]
        f.attrs["num_parameters"] = sum(p.numel() for p in net.parameters())
        for name, p in net.named_parameters():
            f[f"params/{name}"] = p.detach().float().numpy()
            f[f"grads/{name}"] = p.grad.numpy()
        f["sample"] = sample.numpy()
        f["timesteps"] = steps.numpy()
        f["global_cond"] = global_cond.numpy()
        f["weights"] = weights.numpy()
        f["y"] = y.detach().numpy()
    os.replace(tmp, OUT)
    write_safetensors(OUT.replace(".h5", ".safetensors"),
                      {k: p.detach().float().numpy() for k, p in net.named_parameters()})
    print("wrote", os.path.normpath(OUT), sum(p.numel() for p in net.parameters()), "parameters")
    big = Unet(input_dim=2, global_cond_dim=40, dsed=256, down_dims=[256, 512, 1024], k=5, groups=8)
    print("PushT config parameters:", sum(p.numel() for p in big.parameters()))


if __name__ == "__main__":
    main()
