#!/usr/bin/env python3
"""Writes tests/data/golden_optim.json: parameter trajectories of torch.optim.Adam, AdamW and SGD
(momentum) and torch.nn.utils.clip_grad_norm_ on fixed gradients, in float64.

    /usr/bin/python3 tests/reference/make_optim_fixtures.py
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "golden_optim.json")


def trajectory(make_opt, p0, grads):
    p = torch.nn.Parameter(torch.tensor(p0, dtype=torch.float64))
    opt = make_opt([p])
    out = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        out.append(p.detach().tolist())
    return out


def main():
    g = torch.Generator().manual_seed(0)
    p0 = (torch.rand(7, generator=g, dtype=torch.float64) * 2 - 1).tolist()
    grads = [(torch.rand(7, generator=g, dtype=torch.float64) * 2 - 1).tolist() for _ in range(5)]
    fixtures = {
        "p0": p0,
        "grads": grads,
        "adam": dict(lr=1e-2, betas=[0.9, 0.999], eps=1e-8, weight_decay=0.1,
                     trajectory=trajectory(lambda ps: torch.optim.Adam(ps, lr=1e-2, weight_decay=0.1), p0, grads)),
        "adamw": dict(lr=1e-2, betas=[0.95, 0.999], eps=1e-8, weight_decay=0.5,
                      trajectory=trajectory(lambda ps: torch.optim.AdamW(ps, lr=1e-2, betas=(0.95, 0.999),
                                                                         weight_decay=0.5), p0, grads)),
        "sgd": dict(lr=0.1, momentum=0.9, weight_decay=0.01,
                    trajectory=trajectory(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9,
                                                                     weight_decay=0.01), p0, grads)),
    }
    p = torch.nn.Parameter(torch.zeros(7, dtype=torch.float64))
    p.grad = torch.tensor(grads[0], dtype=torch.float64) * 10
    norm = torch.nn.utils.clip_grad_norm_([p], max_norm=1.5)
    fixtures["clip"] = dict(grad=(torch.tensor(grads[0], dtype=torch.float64) * 10).tolist(), max_norm=1.5, norm=float(norm),
                            clipped=p.grad.tolist())
    with open(OUT + ".tmp", "w") as f:
        json.dump(fixtures, f, indent=1)
    os.replace(OUT + ".tmp", OUT)
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
