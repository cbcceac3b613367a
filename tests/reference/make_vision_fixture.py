#!/usr/bin/env python3
"""Writes tests/data/golden_vision.h5: torchvision's ResNet18 trunk (GroupNorm and BatchNorm
variants), a SpatialSoftmax and a crop-and-average step, computed in float64 by PyTorch.

    /usr/bin/python3 tests/reference/make_vision_fixture.py   # Debian python3-torchvision

Weights, inputs and output weights come from closed-form formulas (below, and repeated in
tests/nn/test_vision_golden.cpp) so the 11M-parameter trunk needs no stored weights. For every
parameter the fixture keeps two gradient checksums, sum(g * cos(0.013 j + 0.1)) and sum(g^2), and
for the GroupNorm trunk the full input gradient.
"""
import math
import os

import h5py
import numpy as np
import torch
import torch.nn as nn
import torchvision

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "golden_vision.h5")
torch.set_default_dtype(torch.float64)


def salt(name):
    return sum(ord(ch) * (k + 1) for k, ch in enumerate(name)) % 1000


def wave(name, n):
    """Hash-like values of mean 0 and variance ~1 (a smooth pattern would make every weight of a
    filter correlated and the deep trunk badly conditioned)."""
    # math.sin is the C library's sin, as in the C++ test; numpy's may differ in the last bit,
    # which the 43758 factor would magnify.
    h = np.array([math.sin(0.37 * j + 0.001 * salt(name) + 0.5) for j in range(n)]) * 43758.5453
    return math.sqrt(3.0) * (2.0 * (h - np.floor(h)) - 1.0)


def formula_value(name, shape):
    """The value every test uses for parameter `name` (torchvision state-dict naming)."""
    n = int(np.prod(shape))
    s = wave(name, n)
    if name.endswith("weight") and len(shape) == 4:  # convolution: Kaiming fan-out scale
        fan_out = shape[0] * shape[2] * shape[3]
        v = math.sqrt(2.0 / fan_out) * s
    elif name.endswith("weight") and len(shape) == 2:  # linear
        v = s / math.sqrt(shape[1])
    elif name.endswith("weight"):  # norm scale
        v = 1.0 + 0.1 * s
    elif name.endswith("temperature"):
        v = np.full(n, 0.7)
    else:  # biases
        v = 0.1 * s
    return torch.tensor(v.reshape(shape))


def set_formula_weights(module):
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(formula_value(name, tuple(p.shape)))


def image_input(shape):
    n = int(np.prod(shape))
    v = np.array([0.5 + 0.5 * math.sin(0.011 * j + 0.3) for j in range(n)])
    return torch.tensor(v.reshape(shape))


def output_weights(shape):
    n = int(np.prod(shape))
    return torch.tensor(np.array([math.cos(0.05 * j) for j in range(n)]).reshape(shape))


def trunk(norm):
    kwargs = {}
    if norm == "group":
        kwargs["norm_layer"] = lambda c: nn.GroupNorm(c // 16, c)
    net = torchvision.models.resnet18(weights=None, **kwargs)
    return nn.Sequential(*list(net.children())[:-2]), net


def run_trunk(f, norm):
    seq, net = trunk(norm)
    count = sum(p.numel() for p in seq.parameters())
    # Name parameters as torchvision does (seq children are net's, so use net's names).
    for name, p in list(net.named_parameters()):
        if name.startswith("fc."):
            continue
        with torch.no_grad():
            p.copy_(formula_value(name, tuple(p.shape)))
    seq.train()
    x = image_input((2, 3, 84, 84)).requires_grad_(True)
    y = seq(x)
    w = output_weights(tuple(y.shape))
    (y * w).sum().backward()
    g = f.create_group(norm)
    g.attrs["parameters"] = count
    g["x_grad"] = x.grad.numpy().astype(np.float32)
    g["y"] = y.detach().numpy()
    sums = g.create_group("grad_checks")
    for name, p in net.named_parameters():
        if name.startswith("fc."):
            continue
        gr = p.grad.reshape(-1).numpy()
        j = np.arange(gr.size, dtype=np.float64)
        sums[name] = np.array([np.sum(gr * np.cos(0.013 * j + 0.1)), np.sum(gr * gr)])
    if norm == "batch":
        # Running statistics after one training batch, then an evaluation pass that uses them.
        g["bn1_running_mean"] = net.bn1.running_mean.numpy()
        g["bn1_running_var"] = net.bn1.running_var.numpy()
        g["last_running_var"] = net.layer4[1].bn2.running_var.numpy()
        seq.eval()
        with torch.no_grad():
            g["y_eval"] = seq(x).numpy()
    return count


class SpatialSoftmax(nn.Module):
    """robomimic's SpatialSoftmax, written from its published description."""

    def __init__(self, c, h, w, num_kp, temperature, learnable):
        super().__init__()
        self.nets = nn.Conv2d(c, num_kp, kernel_size=1)
        self.num_kp, self.h, self.w = num_kp, h, w
        if learnable:
            self.temperature = nn.Parameter(torch.ones(1) * temperature)
        else:
            self.register_buffer("temperature", torch.ones(1) * temperature)
        pos_x, pos_y = np.meshgrid(np.linspace(-1.0, 1.0, w), np.linspace(-1.0, 1.0, h))
        self.register_buffer("pos_x", torch.tensor(pos_x.reshape(1, h * w)))
        self.register_buffer("pos_y", torch.tensor(pos_y.reshape(1, h * w)))

    def forward(self, x):
        f = self.nets(x).reshape(-1, self.h * self.w)
        att = torch.softmax(f / self.temperature, dim=-1)
        ex = torch.sum(self.pos_x * att, dim=1, keepdim=True)
        ey = torch.sum(self.pos_y * att, dim=1, keepdim=True)
        return torch.cat([ex, ey], 1).view(-1, self.num_kp * 2)


def run_spatial_softmax(f):
    m = SpatialSoftmax(8, 5, 6, 4, 0.7, True)
    set_formula_weights(m)
    x = (image_input((2, 8, 5, 6)) * 4 - 2).requires_grad_(True)
    y = m(x)
    w = output_weights(tuple(y.shape))
    (y * w).sum().backward()
    g = f.create_group("spatial_softmax")
    g["x"] = x.detach().numpy()
    g["y"] = y.detach().numpy()
    g["x_grad"] = x.grad.numpy()
    g["weight_grad"] = m.nets.weight.grad.numpy()
    g["bias_grad"] = m.nets.bias.grad.numpy()
    g["temperature_grad"] = m.temperature.grad.numpy()


def run_crops(f):
    """robomimic's CropRandomizer with given corners: crops per image, then the mean over the
    crops of each image after a stand-in encoder (flatten)."""
    x = image_input((2, 3, 10, 9)).requires_grad_(True)
    num_crops, ch, cw = 3, 6, 5
    tops = torch.tensor([[0, 4, 2], [3, 1, 4]])
    lefts = torch.tensor([[1, 0, 4], [2, 3, 0]])
    crops = []
    for b in range(2):
        for k in range(num_crops):
            t, l = int(tops[b, k]), int(lefts[b, k])
            crops.append(x[b, :, t:t + ch, l:l + cw])
    crops = torch.stack(crops)  # [B * num_crops, C, ch, cw]
    features = crops.reshape(2, num_crops, -1).mean(dim=1)
    w = output_weights(tuple(features.shape))
    (features * w).sum().backward()
    center = x[:, :, (10 - ch) // 2:(10 - ch) // 2 + ch, (9 - cw) // 2:(9 - cw) // 2 + cw]
    g = f.create_group("crop")
    g["offsets"] = torch.stack([tops.reshape(-1), lefts.reshape(-1)], 1).reshape(-1).numpy().astype(
        np.float64)
    g["crops"] = crops.detach().numpy()
    g["features"] = features.detach().numpy()
    g["x_grad"] = x.grad.numpy()
    g["center"] = center.detach().numpy()


def main():
    with h5py.File(OUT + ".tmp", "w") as f:
        f.attrs["torch"] = str(torch.__version__)
        f.attrs["torchvision"] = str(torchvision.__version__)
        n = run_trunk(f, "group")
        assert n == 11176512, n
        run_trunk(f, "batch")
        run_spatial_softmax(f)
        run_crops(f)
    os.replace(OUT + ".tmp", OUT)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
