#!/usr/bin/env python3
"""Writes tests/data/golden_bc_transformer.{json,h5}: one train_on_batch of robomimic 0.3.0's own
BC_Transformer and BC_Transformer_GMM (PyPI robomimic==0.3.0 with torch, CPU, float32) from
recorded weights and a recorded batch, for the C++ test to repeat.

    python3 -m venv /work/venv && /work/venv/bin/pip install robomimic==0.3.0 six torch torchvision \\
        h5py termcolor tqdm psutil matplotlib tensorboard imageio
    /work/venv/bin/python tests/reference/make_bc_transformer_fixture.py

Each case holds the robomimic config sections mimic reads (json), and in the h5 file the weights
before the step and after it under mimic's names, the batch, and the loss terms robomimic logs.
Dropout is 0 (torch's random stream is not mimic's; mimic's dropout is checked against its own
composed ops). Every weight is perturbed from robomimic's initialization first, so that zero
biases, unit LayerNorm scales and the zero timestep parameter do not hide a wrong gradient.
"""
import json
import os
import re
import sys
import types
from collections import OrderedDict

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.modules.setdefault("mujoco_py", types.ModuleType("mujoco_py"))  # robomimic's env code imports it
from robomimic.config import config_factory  # noqa: E402
from robomimic_step import record_train_step  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_JSON = os.path.join(HERE, "..", "data", "golden_bc_transformer.json")
OUT_H5 = os.path.join(HERE, "..", "data", "golden_bc_transformer.h5")

OBS = OrderedDict([("a_pos", 3), ("b_flag", 2)])  # sorted, as mimic orders its keys
ACTION_DIM = 4
BATCH = 5

CASES = {
    # L2 head, the last step supervised, the learned [1, T, E] timestep parameter, Adam.
    "l2_last": dict(gmm=False, supervise_all_steps=False, sinusoidal=False, nn_param=True,
                    activation="gelu", optimizer="adam", l2=0.0, context=3, window=4),
    # GMM head over every step, nn.Embedding timesteps, GEGLU, AdamW with weight decay.
    "gmm_all": dict(gmm=True, supervise_all_steps=True, sinusoidal=False, nn_param=False,
                    activation="geglu", optimizer="adamw", l2=0.01, context=3, window=3),
    # L2 with L1 and cosine terms over every step, sinusoidal positions.
    "l2_all_sinusoidal": dict(gmm=False, supervise_all_steps=True, sinusoidal=True, nn_param=False,
                              activation="gelu", optimizer="adam", l2=0.0, context=4, window=4,
                              l1_weight=0.5, cos_weight=0.25),
}


def mimic_name(name):
    """robomimic's state-dict name -> mimic's."""
    n = name[len("policy."):] if name.startswith("policy.") else name
    rules = [
        (r"^params\.embed_timestep$", "actor.embed_timestep"),
        (r"^nets\.embed_timestep\.weight$", "actor.embed_timestep.weight"),
        (r"^nets\.embed_encoder\.", "actor.embed_encoder."),
        (r"^nets\.embed_ln\.", "actor.embed_ln."),
        (r"^nets\.transformer\.nets\.transformer\.(\d+)\.nets\.attention\.nets\.(qkv|output)\.",
         r"actor.transformer.blocks.\1.attention.\2."),
        (r"^nets\.transformer\.nets\.transformer\.(\d+)\.nets\.mlp\.(\d)\.",
         r"actor.transformer.blocks.\1.mlp.\2."),
        (r"^nets\.transformer\.nets\.transformer\.(\d+)\.nets\.(ln1|ln2)\.",
         r"actor.transformer.blocks.\1.\2."),
        (r"^nets\.transformer\.nets\.output_ln\.", "actor.transformer.output_ln."),
        (r"^nets\.decoder\.nets\.action\.", "actor.decoder."),
        (r"^nets\.decoder\.nets\.(mean|scale|logits)\.", r"actor.\1."),
    ]
    for pattern, repl in rules:
        if re.search(pattern, n):
            return re.sub(pattern, repl, n)
    raise KeyError("no mimic name for " + name)


def make_config(c):
    config = config_factory("bc")
    with config.values_unlocked():
        config.observation.modalities.obs.low_dim = list(OBS)
        config.train.frame_stack = c["window"]
        config.train.seq_length = 1
        a = config.algo
        a.optim_params.policy.optimizer_type = c["optimizer"]
        a.optim_params.policy.learning_rate.initial = 1e-3
        a.optim_params.policy.regularization.L2 = c["l2"]
        a.loss.l1_weight = c.get("l1_weight", 0.0)
        a.loss.cos_weight = c.get("cos_weight", 0.0)
        a.gmm.enabled = c["gmm"]
        a.gmm.num_modes = 3
        t = a.transformer
        t.enabled = True
        t.context_length = c["context"]
        t.embed_dim = 16
        t.num_layers = 2
        t.num_heads = 2
        t.emb_dropout = t.attn_dropout = t.block_output_dropout = 0.0
        t.sinusoidal_embedding = c["sinusoidal"]
        t.nn_parameter_for_timesteps = c["nn_param"]
        t.activation = c["activation"]
        t.supervise_all_steps = c["supervise_all_steps"]
    return config


def main():
    torch.manual_seed(0)
    np.random.seed(0)
    meta, h5 = {}, h5py.File(OUT_H5, "w")
    for name, c in CASES.items():
        meta[name] = record_train_step(h5.create_group(name), make_config(c), OBS, ACTION_DIM,
                                       BATCH, c["window"], 0, mimic_name)
        scalars = meta[name]["scalars"]
        print(name, scalars)
    h5.close()
    json.dump(meta, open(OUT_JSON, "w"), indent=1, sort_keys=True)
    print("wrote", os.path.normpath(OUT_JSON), "and", os.path.normpath(OUT_H5))


if __name__ == "__main__":
    main()
