#!/usr/bin/env python3
"""Writes tests/data/golden_rnn.h5: torch.nn.LSTM and GRU (2 layers, batch-first) outputs, final
states and gradients of sum(weights * output) + sum(h_n) + sum(c_n) for given weights and initial
state, in float64 (weights rounded to float32 values so both dtypes share them).

    /usr/bin/python3 tests/reference/make_rnn_fixture.py
"""
import os

import h5py
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "golden_rnn.h5")


def main():
    torch.manual_seed(0)
    tmp = OUT + ".tmp"
    with h5py.File(tmp, "w") as f:
        for name, cls in (("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)):
            net = cls(5, 6, num_layers=2, batch_first=True).double()
            with torch.no_grad():
                for p in net.parameters():
                    p.copy_(p.float().double())
            b, t = 3, 4
            x = torch.randn(b, t, 5).double().requires_grad_(True)
            h0 = torch.randn(2, b, 6).double().requires_grad_(True)
            c0 = torch.randn(2, b, 6).double().requires_grad_(True)
            if name == "lstm":
                y, (hn, cn) = net(x, (h0, c0))
            else:
                y, hn = net(x, h0)
                cn = torch.zeros(1, dtype=torch.float64)
            w = (torch.rand(y.shape) + 0.5).double()
            ((y * w).sum() + hn.sum() + cn.sum()).backward()
            g = f.create_group(name)
            for k, p in net.named_parameters():
                g[f"params/{k}"] = p.detach().float().numpy()
                g[f"grads/{k}"] = p.grad.numpy()
            inputs = (("x", x), ("h0", h0), ("c0", c0)) if name == "lstm" else (("x", x), ("h0", h0))
            for k, v in inputs:
                g[k] = v.detach().numpy()
                g["d" + k] = v.grad.numpy()
            g["weights"] = w.numpy()
            g["y"] = y.detach().numpy()
            g["hn"] = hn.detach().numpy()
            if name == "lstm":
                g["cn"] = cn.detach().numpy()
    os.replace(tmp, OUT)
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
