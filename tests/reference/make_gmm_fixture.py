#!/usr/bin/env python3
"""Writes tests/data/golden_gmm.json: the log-likelihood of actions under a mixture of diagonal
Gaussians as torch.distributions computes it (MixtureSameFamily of Independent Normals, as
robomimic's GMM head builds it), and its gradients with respect to means, scales and logits, in
float64.

    /usr/bin/python3 tests/reference/make_gmm_fixture.py
"""
import json
import os

import torch
import torch.distributions as D

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "golden_gmm.json")

torch.manual_seed(0)
B, K, A = 3, 4, 5
means = torch.tanh(torch.randn(B, K, A, dtype=torch.float64)).requires_grad_()
scales = (torch.nn.functional.softplus(torch.randn(B, K, A, dtype=torch.float64)) + 1e-4).requires_grad_()
logits = torch.randn(B, K, dtype=torch.float64).requires_grad_()
actions = torch.rand(B, A, dtype=torch.float64) * 2 - 1
weights = torch.randn(B, dtype=torch.float64)

dist = D.MixtureSameFamily(D.Categorical(logits=logits), D.Independent(D.Normal(means, scales), 1))
logp = dist.log_prob(actions)
(weights * logp).sum().backward()
flat = lambda t: t.detach().reshape(-1).tolist()  # noqa: E731
json.dump({"B": B, "K": K, "A": A, "means": flat(means), "scales": flat(scales), "logits": flat(logits),
           "actions": flat(actions), "weights": flat(weights), "log_prob": flat(logp),
           "grad_means": flat(means.grad), "grad_scales": flat(scales.grad), "grad_logits": flat(logits.grad)},
          open(OUT, "w"))
print("wrote", os.path.normpath(OUT))
