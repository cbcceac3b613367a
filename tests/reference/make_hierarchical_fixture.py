#!/usr/bin/env python3
"""Writes tests/data/golden_hierarchical.{json,h5}: train_on_batch of robomimic 0.3.0's own
hierarchical algorithms (GL, HBC, IRIS) (PyPI robomimic==0.3.0 with torch, CPU, float32) from
recorded weights and batches, then get_action for HBC and IRIS, for the C++ tests to repeat.

    /work/venv/bin/python tests/reference/make_hierarchical_fixture.py

Every network is perturbed from robomimic's initialization. Each part of a mimic composite
policy draws from its own Philox stream (CompositePolicy::part_seed: the planner's, the value
network's; the composite's own stream draws HBC's random subgoal steps), so robomimic's random
draws (the VAEs' reparameterization and prior samples, torch.randint) are taken from the stream
of the part that makes them, at the offsets the C++ policy uses (mimic_philox.py). Gradients are
snapshotted when each optimizer steps.
"""
import json
import os
import sys
import types
from collections import OrderedDict

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.modules.setdefault("mujoco_py", types.ModuleType("mujoco_py"))  # robomimic's env code imports it
import make_offline_rl_fixture as offline  # noqa: E402  (robomimic names -> mimic's, noise)
from mimic_philox import MimicStream  # noqa: E402
import robomimic.utils.obs_utils as ObsUtils  # noqa: E402
import robomimic.utils.torch_utils as TorchUtils  # noqa: E402
from robomimic.algo import algo_factory  # noqa: E402
from robomimic.config import config_factory  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_JSON = os.path.join(HERE, "..", "data", "golden_hierarchical.json")
OUT_H5 = os.path.join(HERE, "..", "data", "golden_hierarchical.h5")

OBS = OrderedDict([("a_pos", 3), ("b_flag", 2), ("c_vel", 4)])  # sorted, as mimic orders keys
PLANNER_OBS, SUBGOALS = ["a_pos", "b_flag", "c_vel"], ["a_pos", "c_vel"]
ACTOR_OBS, VALUE_OBS = ["a_pos", "b_flag"], ["a_pos", "c_vel"]
ACTION_DIM, BATCH, SEED, WINDOW, HORIZON = 4, 5, 11, 4, 3
MASK = (1 << 64) - 1


def part_seed(seed, index):
    """CompositePolicy::part_seed."""
    return seed ^ (((index + 1) * 0x9E3779B97F4A7C15) & MASK)


class Streams:
    """The stream robomimic's next draw comes from (set around each part's calls)."""
    current = None


def use_stream(stream, fn):
    def wrapped(*args, **kw):
        saved, Streams.current = Streams.current, stream
        try:
            return fn(*args, **kw)
        finally:
            Streams.current = saved
    return wrapped


def draw_normal(shape):
    n = int(np.prod(shape))
    return torch.from_numpy(Streams.current.normal(n).astype(np.float32)).reshape(shape)


def mimic_randn(*shape, **kw):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)):
        shape = tuple(shape[0])
    return draw_normal(shape)


def mimic_randn_like(x):
    return draw_normal(x.shape)


def mimic_reparameterize(mu, logvar):
    std = torch.exp((0.5 * logvar).clamp(-4, 15))
    return mu + draw_normal(mu.shape) * std


def mimic_randint(low=0, high=None, size=None, **kw):
    """torch.randint(low, high, size) as HBC's random subgoal steps: floor(u * high), one uniform
    of the composite's stream per row (robomimic draws from [0, seq_length))."""
    u = Streams.current.uniform(int(np.prod(size)))
    return torch.from_numpy(np.minimum(high - 1, np.floor(u * high)).astype(np.int64)).reshape(size)


def set_gl(a, c):
    a.optim_params.goal_network.learning_rate.initial = 2e-3
    a.subgoal_horizon = HORIZON
    a.ae.planner_layer_dims = (12, 10)
    a.vae.enabled = c.get("vae", True)
    v = a.vae
    v.latent_dim = 3
    v.kl_weight = c.get("kl_weight", 0.5)
    v.encoder_layer_dims, v.decoder_layer_dims, v.prior_layer_dims = (12,), (10,), (8,)
    v.decoder.reconstruction_sum_across_elements = c.get("sum_recons", False)
    if c.get("gmm_prior"):
        v.prior.learn = v.prior.is_conditioned = v.prior.use_gmm = v.prior.gmm_learn_weights = True
        v.prior.gmm_num_modes = 3


def set_obs(modalities, obs, subgoal=None):
    modalities.obs.low_dim = list(obs)
    if subgoal is not None:
        modalities.subgoal.low_dim = list(subgoal)


def set_actor(a):
    a.optim_params.policy.learning_rate.initial = 3e-3
    a.actor_layer_dims = (6,)
    a.rnn.hidden_dim = 8
    a.rnn.num_layers = 2
    a.rnn.horizon = 2


def gl_config(c):
    config = config_factory("gl")
    with config.values_unlocked():
        set_obs(config.observation.modalities, PLANNER_OBS, SUBGOALS)
        set_gl(config.algo, c)
        config.train.seq_length = WINDOW
    return config


def hbc_config(c):
    config = config_factory("hbc")
    with config.values_unlocked():
        set_obs(config.observation.planner.modalities, PLANNER_OBS, SUBGOALS)
        set_obs(config.observation.actor.modalities, ACTOR_OBS)
        config.observation.actor.modalities.goal.low_dim = list(c.get("actor_goal", []))
        set_gl(config.algo.planner, c)
        set_actor(config.algo.actor)
        config.algo.mode = c.get("mode", "separate")
        config.algo.actor_use_random_subgoals = c.get("random_subgoals", False)
        config.algo.subgoal_update_interval = 2
        config.train.seq_length = WINDOW
    return config


def iris_config(c):
    config = config_factory("iris")
    with config.values_unlocked():
        vp = config.observation.value_planner
        set_obs(vp.planner.modalities, PLANNER_OBS, SUBGOALS)
        set_obs(vp.value.modalities, VALUE_OBS)
        set_obs(config.observation.actor.modalities, ACTOR_OBS)
        config.observation.actor.modalities.goal.low_dim = list(c.get("actor_goal", []))
        set_gl(config.algo.value_planner.planner, c)
        set_actor(config.algo.actor)
        config.algo.value_planner.num_samples = 4
        config.algo.subgoal_update_interval = 2
        config.algo.actor_use_random_subgoals = c.get("random_subgoals", False)
        v = config.algo.value_planner.value
        v.target_tau = 0.1
        v.critic.layer_dims = (16, 12)
        v.critic.num_action_samples = 3
        v.critic.num_action_samples_rollout = 5
        v.action_sampler.vae.latent_dim = 3
        v.action_sampler.vae.encoder_layer_dims = (12,)
        v.action_sampler.vae.decoder_layer_dims = (10,)
        v.actor.enabled = c.get("value_actor", False)
        v.actor.layer_dims = (16,)
        v.actor.perturbation_scale = 0.3
        config.train.seq_length = WINDOW
    return config


CONFIGS = {"gl": gl_config, "hbc": hbc_config, "iris": iris_config}
CASES = {
    "gl": {
        "vae": dict(),
        "vae_gmm_prior_two_steps": dict(gmm_prior=True, steps=2),
        "vae_summed_reconstruction": dict(sum_recons=True),
        "mlp": dict(vae=False),
        "validate": dict(validate=True),
    },
    # The actor follows the planner only through observation.actor.modalities.goal (robomimic's
    # defaults list no keys there, and its actor then ignores the subgoal).
    "hbc": {
        "separate_two_steps": dict(steps=2, actor_goal=SUBGOALS),
        "cascade": dict(mode="cascade", actor_goal=["c_vel"]),
        "unconditioned_actor": dict(),
        "validate": dict(validate=True, actor_goal=SUBGOALS),
    },
    # robomimic 0.3.0's HBC fails with actor_use_random_subgoals (it looks up target_subgoals in
    # the sampled goal observations); IRIS runs it, and mimic's two share the code.
    "iris": {
        "separate": dict(actor_goal=SUBGOALS),
        "random_subgoals": dict(random_subgoals=True, actor_goal=SUBGOALS),
        "value_actor_two_steps": dict(value_actor=True, steps=2),
        "validate": dict(validate=True),
    },
}


def make_batch(gen):
    obs = {k: torch.rand(BATCH, WINDOW, d, generator=gen) * 2 - 1 for k, d in OBS.items()}
    next_obs = {k: torch.rand(BATCH, WINDOW, d, generator=gen) * 2 - 1 for k, d in OBS.items()}
    actions = torch.rand(BATCH, WINDOW, ACTION_DIM, generator=gen) * 1.8 - 0.9
    rewards = torch.rand(BATCH, WINDOW, generator=gen)
    dones = (torch.rand(BATCH, WINDOW, generator=gen) < 0.3).float()
    return {"obs": obs, "next_obs": next_obs, "actions": actions, "rewards": rewards,
            "dones": dones}


def parts_of(algo_name, algo):
    """(mimic prefix, robomimic Algo, stream) of every part (the composite itself for GL)."""
    if algo_name == "gl":
        return [("", algo, MimicStream(SEED))]
    if algo_name == "hbc":
        return [("planner.", algo.planner, MimicStream(part_seed(SEED, 0))),
                ("actor.", algo.actor, None)]
    return [("planner.planner.", algo.planner.planner, MimicStream(part_seed(SEED, 0))),
            ("planner.value_net.", algo.planner.value_net, MimicStream(part_seed(SEED, 1))),
            ("actor.", algo.actor, None)]


def mimic_name(prefix, name):
    """A part's robomimic parameter name as mimic names it."""
    if name.startswith("policy.nets.rnn.nets."):  # the BC-RNN actor
        return prefix + "actor.rnn." + name[len("policy.nets.rnn.nets."):]
    for a, b in [("policy.nets.mlp._model.", "actor.mlp."),
                 ("policy.nets.decoder.nets.action.", "actor.decoder.")]:
        if name.startswith(a):
            return prefix + b + name[len(a):]
    if name.startswith("goal_network.nets."):  # GL: the VAE or the MLP
        rest = name[len("goal_network.nets."):]
        for a, b in offline.VAE_NAMES + [("mlp._model.", "mlp."), ("decoder.nets.", "decoder.")]:
            if rest.startswith(a):
                return prefix + "goal_network." + b + rest[len(a):]
    return prefix + offline.mimic_name(name)


def named_parameters(prefix, part):
    out = OrderedDict()
    for k, v in part.nets.named_parameters():
        if k.startswith("policy.nets.rnn.per_step_net."):
            continue  # robomimic's alias of the actor's decoder
        out[mimic_name(prefix, k)] = v
    return out


def record_case(group, algo_name, name, c):
    config = CONFIGS[algo_name](c)
    ObsUtils.initialize_obs_utils_with_config(config)
    algo = algo_factory(algo_name, config, OrderedDict((k, [d]) for k, d in OBS.items()),
                        ACTION_DIM, torch.device("cpu"))
    parts = parts_of(algo_name, algo)
    with torch.no_grad():
        for _, part, _ in parts:
            for p in part.nets.parameters():
                p.add_(0.1 * torch.randn_like(p))
    params = OrderedDict()
    for prefix, part, _ in parts:
        params.update((k, v.detach().numpy().copy()) for k, v in named_parameters(prefix, part).items())
    for k, v in params.items():
        group["params/" + k] = v

    grads = {}
    for prefix, part, stream in parts:
        for opt, module, net_prefix in offline.networks_of(part):
            def step(*args, _opt=opt, _step=opt.step, _module=module, _prefix=net_prefix,
                     _part=prefix, **kw):
                for k, p in _module.named_parameters():
                    if p.grad is not None and not k.startswith("nets.rnn.per_step_net."):
                        grads[mimic_name(_part, _prefix + k)] = p.grad.detach().numpy().copy()
                return _step(*args, **kw)
            opt.step = step
        if stream is not None:  # the part's draws come from its stream
            for fn in ("train_on_batch", "get_subgoal_predictions", "sample_subgoals",
                       "get_state_value"):
                if hasattr(part, fn):
                    setattr(part, fn, use_stream(stream, getattr(part, fn)))
    composite = MimicStream(SEED)

    gen = torch.Generator().manual_seed(2000 + len(name) + len(algo_name))
    saved = (torch.randn_like, torch.randn, torch.randint, TorchUtils.reparameterize)
    torch.randn_like, torch.randn, torch.randint = mimic_randn_like, mimic_randn, mimic_randint
    TorchUtils.reparameterize = mimic_reparameterize
    Streams.current = composite
    try:
        for s in range(c.get("steps", 1)):
            grads.clear()
            raw = make_batch(gen)
            b = group.create_group("batch{}".format(s))
            for k, v in raw["obs"].items():
                b["obs/" + k] = v.numpy()
            for k, v in raw["next_obs"].items():
                b["next_obs/" + k] = v.numpy()
            for k in ("actions", "rewards", "dones"):
                b[k] = raw[k].numpy()
            batch = algo.process_batch_for_training(raw)
            if c.get("validate", False):
                algo.set_eval()  # as robomimic's validation epochs run (IRIS asserts it)
            else:
                algo.set_train()
            info = algo.train_on_batch(batch, epoch=1, validate=c.get("validate", False))
            scalars = {k: float(v) for k, v in algo.log_info(info).items()}
        draws = {prefix: int(stream.offset) for prefix, _, stream in parts if stream is not None}
        draws["composite"] = int(composite.offset)
        if algo_name != "gl":  # three rollouts acting for three steps (a replan at steps 0 and 2)
            algo.set_eval()
            algo.reset()
            for t in range(3):
                obs = {k: torch.rand(3, d, generator=gen) * 2 - 1 for k, d in OBS.items()}
                with torch.no_grad():
                    actions = algo.get_action(obs)
                for k, v in obs.items():
                    group["rollout{}/obs/{}".format(t, k)] = v.numpy()
                group["rollout{}/actions".format(t)] = actions.numpy()
    finally:
        torch.randn_like, torch.randn, torch.randint, TorchUtils.reparameterize = saved
        Streams.current = None
    for prefix, part, _ in parts:
        for k, v in named_parameters(prefix, part).items():
            group["updated/" + k] = v.detach().numpy()
    for k, v in grads.items():
        group["grads/" + k] = v
    cfg = config.to_dict()
    return {"config": {"algo": cfg["algo"], "train": cfg["train"],
                       "observation": cfg["observation"]},
            "scalars": scalars, "parameters": sorted(params), "stepped": sorted(grads),
            "seed": SEED, "steps": c.get("steps", 1), "validate": c.get("validate", False),
            "draws": draws, "rollouts": 0 if algo_name == "gl" else 3}


def main():
    torch.manual_seed(0)
    meta, h5 = {}, h5py.File(OUT_H5 + ".tmp", "w")
    for algo_name, cases in CASES.items():
        for name, c in cases.items():
            key = algo_name + "/" + name
            meta[key] = record_case(h5.create_group(key), algo_name, name, c)
            meta[key]["algo_name"] = algo_name
            print(key, meta[key]["scalars"])
    h5.close()
    os.replace(OUT_H5 + ".tmp", OUT_H5)
    with open(OUT_JSON + ".tmp", "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    os.replace(OUT_JSON + ".tmp", OUT_JSON)
    print("wrote", os.path.normpath(OUT_JSON), "and", os.path.normpath(OUT_H5))


if __name__ == "__main__":
    main()
