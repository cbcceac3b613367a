#!/usr/bin/env python3
"""Writes tests/data/golden_bc_vae.{json,h5}: one train_on_batch of robomimic 0.3.0's own BC_VAE
(PyPI robomimic==0.3.0 with torch, CPU, float32) for each prior robomimic offers, from recorded
weights and a recorded batch, for the C++ test to repeat.

    /work/venv/bin/python tests/reference/make_bc_vae_fixture.py   (venv: see
                                                                    make_bc_transformer_fixture.py)

The VAE's noise is the one input that cannot come from torch's generator: the reparameterization
noise and the Gumbel noise are drawn here from mimic's Philox4x32-10 stream (core/philox.hpp,
reimplemented with numpy in mimic_philox.py) at the offsets the C++ policy uses, and handed to robomimic's
formulas (TorchUtils.reparameterize's clamp and exp, torch's gumbel_softmax) in place of torch's
draws. Everything else is robomimic's code. Every weight is perturbed from robomimic's
initialization first. train_on_batch runs with epoch=1, the first epoch of robomimic's train.py,
which sets the Gumbel temperature.
"""
import json
import os
import sys
import types
from collections import OrderedDict

import h5py
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.modules.setdefault("mujoco_py", types.ModuleType("mujoco_py"))  # robomimic's env code imports it
from mimic_philox import MimicStream  # noqa: E402
import robomimic.utils.torch_utils as TorchUtils  # noqa: E402
from robomimic.config import config_factory  # noqa: E402
from robomimic_step import record_train_step  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_JSON = os.path.join(HERE, "..", "data", "golden_bc_vae.json")
OUT_H5 = os.path.join(HERE, "..", "data", "golden_bc_vae.h5")

OBS = OrderedDict([("a_pos", 3), ("b_flag", 2)])  # sorted, as mimic orders its keys
ACTION_DIM, BATCH, SEED = 4, 6, 7  # SEED: the C++ policy's seed, so its Philox stream

CASES = {
    "normal_prior": dict(),
    "learned_gaussian_sum": dict(learn=True, sum=True, latent_clip=0.5, kl_weight=0.5),
    "gmm_conditioned_weights": dict(learn=True, conditioned=True, gmm=True, learn_weights=True),
    "gmm_uniform": dict(learn=True, gmm=True),
    "categorical_learned_hard": dict(learn=True, categorical=True, hard=True),
    "categorical_uniform": dict(categorical=True),
}


STREAM = MimicStream(SEED)


def reparameterize(mu, logvar):
    """robomimic's TorchUtils.reparameterize with mimic's noise."""
    logstd = (0.5 * logvar).clamp(-4, 15)
    std = torch.exp(logstd)
    eps = torch.from_numpy(STREAM.normal(mu.numel()).astype(np.float32)).reshape(mu.shape)
    return mu + eps * std


def gumbel_softmax(logits, tau=1.0, hard=False, dim=-1):
    """torch's F.gumbel_softmax with mimic's noise: g = -log(E), E = -log(1 - u) ~ Exp(1)."""
    u = STREAM.uniform(logits.numel())
    g = torch.from_numpy((-np.log(-np.log1p(-u))).astype(np.float32)).reshape(logits.shape)
    y_soft = ((logits + g) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = torch.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


TorchUtils.reparameterize = reparameterize
F.gumbel_softmax = gumbel_softmax


def mimic_name(name):
    n = name[len("_vae.nets."):]
    for a, b in [("encoder.nets.mlp._model.", "encoder.mlp."), ("encoder.nets.decoder.nets.", "encoder."),
                 ("decoder.nets.mlp._model.", "decoder.mlp."), ("decoder.nets.decoder.nets.", "decoder."),
                 ("prior.prior_module.nets.mlp._model.", "prior.mlp."),
                 ("prior.prior_module.nets.decoder.nets.", "prior.decoder."), ("prior.prior_params.", "prior.")]:
        if n.startswith(a):
            return "actor." + b + n[len(a):]
    raise KeyError("no mimic name for " + name)


def make_config(c):
    config = config_factory("bc")
    with config.values_unlocked():
        config.observation.modalities.obs.low_dim = list(OBS)
        a = config.algo
        a.optim_params.policy.learning_rate.initial = 1e-3
        v = a.vae
        v.enabled = True
        v.latent_dim = 2 if c.get("categorical") else 4
        v.latent_clip = c.get("latent_clip")
        v.kl_weight = c.get("kl_weight", 1.0)
        v.decoder.reconstruction_sum_across_elements = c.get("sum", False)
        v.encoder_layer_dims, v.decoder_layer_dims, v.prior_layer_dims = (16, 12), (12, 10), (10,)
        p = v.prior
        p.learn = c.get("learn", False)
        p.is_conditioned = c.get("conditioned", False)
        p.use_gmm = c.get("gmm", False)
        p.gmm_num_modes = 3
        p.gmm_learn_weights = c.get("learn_weights", False)
        p.use_categorical = c.get("categorical", False)
        p.categorical_dim = 3
        p.categorical_gumbel_softmax_hard = c.get("hard", False)
        p.categorical_init_temp = 0.9
        p.categorical_temp_anneal_step = 0.1
    return config


def main():
    torch.manual_seed(0)
    meta, h5 = {}, h5py.File(OUT_H5, "w")
    for name, c in CASES.items():
        STREAM.offset = 0  # a fresh policy's stream
        # epoch 1: the first epoch of robomimic's train.py, which sets the Gumbel temperature
        meta[name] = record_train_step(h5.create_group(name), make_config(c), OBS, ACTION_DIM,
                                       BATCH, 1, 1, mimic_name)
        meta[name]["seed"] = SEED
        scalars = meta[name]["scalars"]
        print(name, scalars)
    h5.close()
    json.dump(meta, open(OUT_JSON, "w"), indent=1, sort_keys=True)
    print("wrote", os.path.normpath(OUT_JSON), "and", os.path.normpath(OUT_H5))


if __name__ == "__main__":
    main()
