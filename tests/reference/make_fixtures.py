#!/usr/bin/env python3
"""Writes tests/data/golden_ops.h5: PyTorch reference values for mimic's golden-value tests.

Run with a venv holding torch (PyPI) and h5py:
    python3 tests/reference/make_fixtures.py

Layout: /<dtype>/<op>/<case>/ holds the inputs (x, w, b, ...), `weights` (the objective is
sum(weights * y)), the output `y` and the gradients `d<input>` of that objective. Scalar settings
(stride, padding, ...) are attributes of the case group. dtype is float32 or float64. Every value is
generated from fixed seeds, so the file is reproducible.
"""
import math
import os

import h5py
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "golden_ops.h5")


def cases():
    """(op, case name, inputs dict, attrs dict, function of the inputs)."""
    g = torch.Generator().manual_seed(0)

    def r(*shape, lo=-1.0, hi=1.0):
        return torch.rand(*shape, generator=g, dtype=torch.float64) * (hi - lo) + lo

    conv = [
        dict(n=2, cin=3, cout=5, l=11, k=3, stride=1, padding=1, dilation=1),
        dict(n=1, cin=4, cout=2, l=9, k=5, stride=2, padding=2, dilation=1),
        dict(n=3, cin=2, cout=3, l=8, k=3, stride=1, padding=2, dilation=2),
    ]
    for i, c in enumerate(conv):
        yield ("conv1d", f"case{i}",
               dict(x=r(c["n"], c["cin"], c["l"]), w=r(c["cout"], c["cin"], c["k"]), b=r(c["cout"])),
               dict(stride=c["stride"], padding=c["padding"], dilation=c["dilation"]),
               lambda t, c=c: F.conv1d(t["x"], t["w"], t["b"], stride=c["stride"],
                                       padding=c["padding"], dilation=c["dilation"]))
    convt = [
        dict(n=2, cin=4, cout=3, l=5, k=4, stride=2, padding=1, output_padding=0, dilation=1),
        dict(n=1, cin=3, cout=2, l=4, k=3, stride=2, padding=1, output_padding=1, dilation=1),
        dict(n=2, cin=2, cout=5, l=6, k=3, stride=1, padding=2, output_padding=0, dilation=2),
    ]
    for i, c in enumerate(convt):
        yield ("conv_transpose1d", f"case{i}",
               dict(x=r(c["n"], c["cin"], c["l"]), w=r(c["cin"], c["cout"], c["k"]), b=r(c["cout"])),
               dict(stride=c["stride"], padding=c["padding"], output_padding=c["output_padding"],
                    dilation=c["dilation"]),
               lambda t, c=c: F.conv_transpose1d(t["x"], t["w"], t["b"], stride=c["stride"],
                                                 padding=c["padding"],
                                                 output_padding=c["output_padding"],
                                                 dilation=c["dilation"]))
    # Groups of two elements are avoided: their output is +-1 whatever x is, so dx is pure
    # rounding noise in float32 (PyTorch itself is off by 1e-3 relative there).
    for i, (shape, groups) in enumerate([((2, 8, 5), 4), ((3, 6, 3), 3), ((1, 16, 4), 8)]):
        yield ("group_norm", f"case{i}",
               dict(x=r(*shape, lo=-3, hi=5), gamma=r(shape[1], lo=0.5, hi=1.5), beta=r(shape[1])),
               dict(groups=groups),
               lambda t, groups=groups: F.group_norm(t["x"], groups, t["gamma"], t["beta"], eps=1e-5))
    for i, (shape, nd) in enumerate([((4, 7), 1), ((2, 3, 6), 2)]):
        yield ("layer_norm", f"case{i}",
               dict(x=r(*shape, lo=-3, hi=5), gamma=r(*shape[-nd:], lo=0.5, hi=1.5),
                    beta=r(*shape[-nd:])),
               dict(normalized_dims=nd),
               lambda t, nd=nd: F.layer_norm(t["x"], t["x"].shape[-nd:], t["gamma"], t["beta"],
                                             eps=1e-5))
    yield ("mish", "case0", dict(x=r(3, 17, lo=-6, hi=6)), {}, lambda t: F.mish(t["x"]))
    yield ("gelu", "case0", dict(x=r(3, 17, lo=-6, hi=6)), {}, lambda t: F.gelu(t["x"]))
    for i, axis in enumerate([-1, 1]):
        yield ("softmax", f"case{i}", dict(x=r(2, 5, 7, lo=-4, hi=4)), dict(axis=axis),
               lambda t, axis=axis: torch.softmax(t["x"], dim=axis))
        yield ("log_softmax", f"case{i}", dict(x=r(2, 5, 7, lo=-4, hi=4)), dict(axis=axis),
               lambda t, axis=axis: torch.log_softmax(t["x"], dim=axis))
    yield ("bmm", "case0", dict(a=r(3, 4, 6), b=r(3, 6, 5)), {}, lambda t: torch.bmm(t["a"], t["b"]))
    yield ("bmm", "case1", dict(a=r(1, 1, 9), b=r(1, 9, 2)), {}, lambda t: torch.bmm(t["a"], t["b"]))
    # Attention as robomimic's CausalSelfAttention computes it (q k^T * scale, masked_fill with
    # -inf, softmax, weighted sum), with causal masks (key s visible to query t iff s <= t +
    # shift) and key padding (1 = padded). q [B, H, T, Dh], k and v [B, H, S, Dh].
    attention = [
        dict(b=2, h=3, t=5, s=5, dh=4, causal=1, shift=0, pad=None),
        dict(b=1, h=2, t=4, s=6, dh=3, causal=0, shift=0, pad=None),
        dict(b=2, h=2, t=4, s=3, dh=5, causal=1, shift=1, pad=[[0, 0, 0], [0, 0, 1]]),
        dict(b=3, h=1, t=2, s=5, dh=8, causal=0, shift=0,
             pad=[[0, 0, 1, 1, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0]]),
    ]
    for i, c in enumerate(attention):
        pad = torch.tensor(c["pad"] if c["pad"] else [[0] * c["s"]] * c["b"], dtype=torch.float64)
        attrs = dict(causal=c["causal"], shift=c["shift"], has_padding=int(c["pad"] is not None))
        if c["pad"] is not None:
            attrs["key_padding"] = pad
        yield ("attention", f"case{i}",
               dict(q=r(c["b"], c["h"], c["t"], c["dh"], lo=-2, hi=2),
                    k=r(c["b"], c["h"], c["s"], c["dh"], lo=-2, hi=2),
                    v=r(c["b"], c["h"], c["s"], c["dh"])),
               attrs, lambda t, c=c, pad=pad: reference_attention(t, c, pad))


def reference_attention(t, c, pad):
    q, k, v = t["q"], t["k"], t["v"]
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
    tt = torch.arange(c["t"]).view(-1, 1)
    ss = torch.arange(c["s"]).view(1, -1)
    visible = torch.ones(c["t"], c["s"], dtype=torch.bool)
    if c["causal"]:
        visible = ss <= tt + c["shift"]
    visible = visible.view(1, 1, c["t"], c["s"]) & (pad == 0).view(c["b"], 1, 1, c["s"])
    att = att.masked_fill(~visible, float("-inf"))
    return torch.softmax(att, dim=-1) @ v


def main():
    torch.set_num_threads(1)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    tmp = OUT + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.attrs["torch_version"] = str(torch.__version__).encode()
        for dtype_name, dtype in [("float32", torch.float32), ("float64", torch.float64)]:
            wg = torch.Generator().manual_seed(1)
            for op, name, inputs, attrs, fn in cases():
                grp = f.create_group(f"{dtype_name}/{op}/{name}")
                for k, v in attrs.items():
                    if isinstance(v, torch.Tensor):  # a constant array input (a mask)
                        grp[k] = v.to(dtype).numpy()
                    else:
                        grp.attrs[k] = v
                t = {k: v.to(dtype).clone().requires_grad_(True) for k, v in inputs.items()}
                y = fn(t)
                weights = (torch.rand(y.shape, generator=wg, dtype=torch.float64) + 0.5).to(dtype)
                (y * weights).sum().backward()
                for k, v in t.items():
                    grp[k] = v.detach().numpy()
                    grp["d" + k] = v.grad.numpy()
                grp["weights"] = weights.numpy()
                grp["y"] = y.detach().numpy()
    os.replace(tmp, OUT)
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
