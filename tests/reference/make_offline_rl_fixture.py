#!/usr/bin/env python3
"""Writes tests/data/golden_offline_rl.{json,h5}: train_on_batch of robomimic 0.3.0's own offline
RL algorithms (TD3-BC, IQL, BCQ, CQL) (PyPI robomimic==0.3.0 with torch, CPU, float32) from recorded weights and batches,
for the C++ tests to repeat.

    /work/venv/bin/python tests/reference/make_offline_rl_fixture.py

Every network, target networks included, is perturbed independently from robomimic's
initialization, so a target that wrongly equals its source, a zero bias or a unit scale cannot
hide a wrong formula. The step's gradients are snapshotted when each optimizer steps (robomimic's
actor loss also back-propagates into critic 0's .grad, which therefore is not the critic's own
gradient afterwards). Random draws are the one input torch's generator cannot give: TD3-BC's
target-policy noise and the VAE's reparameterization and prior samples (torch.randn_like,
TorchUtils.reparameterize's normal_(), torch.randn), Normal.rsample's eps and CQL's uniform
random actions (Tensor.uniform_) are drawn from mimic's Philox stream (mimic_philox.py) at the offsets the C++ policy
uses and handed to robomimic's formulas; the GMM action sampler's draws (robomimic samples its
mixture) are made the way nn::sample_gmm makes them, with the same stream.
"""
import json
import os
import sys
import types
from collections import OrderedDict

import h5py
import numpy as np
import torch
import torch.distributions.normal as NormalModule

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.modules.setdefault("mujoco_py", types.ModuleType("mujoco_py"))  # robomimic's env code imports it
from mimic_philox import MimicStream  # noqa: E402
import robomimic.models.policy_nets as PolicyNets  # noqa: E402
import robomimic.utils.obs_utils as ObsUtils  # noqa: E402
import robomimic.utils.torch_utils as TorchUtils  # noqa: E402
from robomimic.algo import algo_factory  # noqa: E402
from robomimic.config import config_factory  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_JSON = os.path.join(HERE, "..", "data", "golden_offline_rl.json")
OUT_H5 = os.path.join(HERE, "..", "data", "golden_offline_rl.h5")

OBS = OrderedDict([("a_pos", 3), ("b_flag", 2)])  # sorted, as mimic orders its keys
ACTION_DIM, BATCH, SEED = 4, 6, 7  # SEED: the C++ policy's seed, so its Philox stream


VAE_NAMES = [("encoder.nets.mlp._model.", "encoder.mlp."), ("encoder.nets.decoder.nets.", "encoder."),
             ("decoder.nets.mlp._model.", "decoder.mlp."), ("decoder.nets.decoder.nets.", "decoder."),
             ("prior.prior_module.nets.mlp._model.", "prior.mlp."),
             ("prior.prior_module.nets.decoder.nets.", "prior.decoder."), ("prior.prior_params.", "prior.")]


def mimic_name(name):
    """robomimic's parameter names under mimic's (MIMO_MLP's nets.mlp._model / nets.decoder, the
    VAE's as make_bc_vae_fixture.py maps them)."""
    if "._vae.nets." in name:
        head, rest = name.split("._vae.nets.")
        for a, b in VAE_NAMES:
            if rest.startswith(a):
                return head + "." + b + rest[len(a):]
    if name.startswith("log_") and name.endswith("_weight.param"):  # CQL's tuned weights
        return name
    for a, b in [(".nets.mlp._model.", ".mlp."), (".nets.decoder.nets.value.", ".decoder."),
                 (".nets.decoder.nets.action.", ".decoder."), (".nets.decoder.nets.", ".decoder.")]:
        if a in name:
            return name.replace(a, b)
    raise KeyError("no mimic name for " + name)


def td3_bc_config(c):
    config = config_factory("td3_bc")
    with config.values_unlocked():
        config.observation.modalities.obs.low_dim = list(OBS)
        a = config.algo
        a.optim_params.critic.learning_rate.initial = 1e-3
        a.optim_params.actor.learning_rate.initial = 2e-3
        a.optim_params.critic.start_epoch = c.get("critic_start_epoch", -1)
        a.critic.layer_dims = (16, 12)
        a.actor.layer_dims = (16,)
        a.target_tau = c.get("tau", 0.1)
        a.discount = c.get("discount", 0.99)
        a.n_step = c.get("n_step", 1)
        a.infinite_horizon = c.get("infinite_horizon", False)
        a.critic.use_huber = c.get("huber", False)
        a.critic.value_bounds = c.get("value_bounds")
        a.critic.max_gradient_norm = c.get("critic_clip")
        a.critic.ensemble.n = c.get("ensemble", 2)
        a.critic.ensemble.weight = c.get("ensemble_weight", 1.0)
        a.actor.update_freq = c.get("update_freq", 2)
        a.actor.noise_std = 0.3
        a.actor.noise_clip = 0.4
        config.train.seq_length = max(a.n_step, 2)
    return config


def iql_config(c):
    config = config_factory("iql")
    with config.values_unlocked():
        config.observation.modalities.obs.low_dim = list(OBS)
        a = config.algo
        for g in ("critic", "vf", "actor"):
            a.optim_params[g].learning_rate.initial = 1e-3
        a.target_tau = 0.1
        a.discount = c.get("discount", 0.99)
        a.vf_quantile = c.get("vf_quantile", 0.7)
        a.critic.layer_dims = (16, 12)
        a.critic.ensemble.n = c.get("ensemble", 2)
        a.critic.use_huber = c.get("huber", False)
        a.critic.max_gradient_norm = c.get("critic_clip")
        a.actor.layer_dims = (16,)
        a.actor.max_gradient_norm = c.get("actor_clip")
        n = a.actor.net
        n.type = c.get("type", "gaussian")
        n.common.std_activation = c.get("std_activation", "softplus")
        n.common.use_tanh = c.get("use_tanh", False)
        n.gaussian.fixed_std = c.get("fixed_std", False)
        n.gaussian.init_last_fc_weight = c.get("init_last_fc_weight", 0.001)
        n.gmm.num_modes = 3
        a.adv.clip_adv_value = c.get("clip_adv_value")
        a.adv.beta = c.get("beta", 1.0)
        a.adv.use_final_clip = c.get("use_final_clip", True)
    return config


def bcq_config(c):
    config = config_factory("bcq")
    with config.values_unlocked():
        config.observation.modalities.obs.low_dim = list(OBS)
        a = config.algo
        a.target_tau = 0.1
        a.n_step = c.get("n_step", 1)
        a.discount = c.get("discount", 0.99)
        a.infinite_horizon = c.get("infinite_horizon", False)
        a.critic.layer_dims = (16, 12)
        a.critic.num_action_samples = 3
        a.critic.num_action_samples_rollout = 5
        a.critic.ensemble.n = c.get("ensemble", 2)
        a.critic.use_huber = c.get("huber", False)
        a.critic.max_gradient_norm = c.get("critic_clip")
        a.action_sampler.actor_layer_dims = (16,)
        a.action_sampler.gmm.enabled = c.get("gmm", False)
        a.action_sampler.gmm.num_modes = 3
        a.action_sampler.vae.enabled = not c.get("gmm", False)
        v = a.action_sampler.vae
        v.latent_dim = 3
        v.latent_clip = c.get("latent_clip")
        v.encoder_layer_dims, v.decoder_layer_dims, v.prior_layer_dims = (12,), (10,), (8,)
        v.prior.learn = c.get("learned_prior", False)
        a.action_sampler.freeze_encoder_epoch = c.get("freeze_encoder_epoch", -1)
        a.actor.enabled = c.get("actor", False)
        a.actor.perturbation_scale = 0.3
        a.actor.layer_dims = (16,)
        config.train.seq_length = max(a.n_step, 2)
    return config


def cql_config(c):
    config = config_factory("cql")
    with config.values_unlocked():
        config.observation.modalities.obs.low_dim = list(OBS)
        a = config.algo
        a.optim_params.critic.learning_rate.initial = 1e-3
        a.optim_params.actor.learning_rate.initial = 2e-3
        a.target_tau = 0.1
        a.n_step = c.get("n_step", 1)
        a.discount = c.get("discount", 0.99)
        a.actor.layer_dims = (16,)
        a.actor.bc_start_steps = c.get("bc_start_steps", 0)
        a.actor.target_entropy = c.get("target_entropy", "default")
        a.actor.max_gradient_norm = c.get("actor_clip")
        a.actor.net.common.std_activation = c.get("std_activation", "exp")
        a.critic.layer_dims = (16, 12)
        a.critic.num_random_actions = 3
        a.critic.num_action_samples = c.get("num_action_samples", 1)
        a.critic.deterministic_backup = c.get("deterministic_backup", True)
        a.critic.ensemble.n = c.get("ensemble", 2)
        a.critic.use_huber = c.get("huber", False)
        a.critic.value_bounds = c.get("value_bounds")
        a.critic.max_gradient_norm = c.get("critic_clip")
        a.critic.cql_weight = c.get("cql_weight", 1.0)
        a.critic.min_q_weight = c.get("min_q_weight", 1.0)
        a.critic.target_q_gap = c.get("target_q_gap", 5.0)
        config.train.seq_length = max(a.n_step, 2)
    return config


def mimic_standard_normal(shape, dtype=None, device=None):
    """torch.distributions' _standard_normal (Normal.rsample's eps) with mimic's draws."""
    return torch.from_numpy(STREAM.normal(int(np.prod(shape))).astype(np.float32)).reshape(shape)


def mimic_uniform_(self, a=0.0, b=1.0):
    """Tensor.uniform_ (CQL's random actions) with mimic's draws: a + (b - a) * u."""
    u = STREAM.uniform(self.numel())
    return self.copy_(torch.from_numpy((a + (b - a) * u).astype(np.float32)).reshape(self.shape))


def mimic_randn(*shape, **kw):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)):
        shape = tuple(shape[0])
    n = int(np.prod(shape))
    return torch.from_numpy(STREAM.normal(n).astype(np.float32)).reshape(shape)


def mimic_reparameterize(mu, logvar):
    """TorchUtils.reparameterize (its clamp and exp) with mimic's noise for its normal_() draw."""
    logstd = (0.5 * logvar).clamp(-4, 15)
    std = torch.exp(logstd)
    eps = torch.from_numpy(STREAM.normal(mu.numel()).astype(np.float32)).reshape(mu.shape)
    return mu + eps * std


def mimic_gmm_forward(self, obs_dict, goal_dict=None):
    """GMMActorNetwork.forward (a sample of forward_train's mixture) with mimic's draws, in
    nn::sample_gmm's order: per row one uniform picks the mode, then A normals."""
    dist = self.forward_train(obs_dict, goal_dict)
    logits = dist.mixture_distribution.logits.detach().double().numpy()
    means = dist.component_distribution.base_dist.loc.detach().numpy()
    scales = dist.component_distribution.base_dist.scale.detach().numpy()
    out = np.zeros((means.shape[0], means.shape[2]), dtype=np.float32)
    for i in range(means.shape[0]):
        w = np.exp(logits[i] - logits[i].max())
        u = STREAM.uniform(1)[0] * w.sum()
        mode = len(w) - 1
        for j in range(len(w)):
            u -= w[j]
            if u < 0:
                mode = j
                break
        eps = STREAM.normal(means.shape[2]).astype(np.float32)
        out[i] = means[i, mode] + scales[i, mode] * eps
    return torch.from_numpy(out)


CASES = {
    "td3_bc": {
        "actor_step": dict(update_freq=1),
        "nstep_huber_bounds_ensemble3": dict(n_step=3, discount=0.9, infinite_horizon=True,
                                             huber=True, value_bounds=(-3.0, 3.0), ensemble=3,
                                             ensemble_weight=0.75, critic_clip=0.05),
        "two_steps": dict(steps=2, tau=0.05),
        "critic_waits": dict(critic_start_epoch=2),
        "validate": dict(validate=True, update_freq=1),
    },
    "iql": {
        "gaussian": dict(),
        "exp_std_clipped_huber_ensemble3": dict(std_activation="exp", clip_adv_value=-0.8, beta=0.5,
                                                huber=True, critic_clip=0.05, actor_clip=0.1,
                                                ensemble=3, init_last_fc_weight=None),
        "fixed_std_tanh_unclipped": dict(fixed_std=True, use_tanh=True, use_final_clip=False,
                                         beta=0.2),
        "gmm": dict(type="gmm"),
        "two_steps": dict(steps=2),
        "validate": dict(validate=True),
        "expectile_both_sides": dict(vf_bias_shift=-0.33),
    },
}
CASES["bcq"] = {
    "vae": dict(),
    "vae_actor_nstep_huber_ensemble3": dict(actor=True, n_step=2, discount=0.9, infinite_horizon=True,
                                            huber=True, ensemble=3, critic_clip=0.05,
                                            latent_clip=0.5),
    "vae_learned_prior_frozen_encoder": dict(learned_prior=True, freeze_encoder_epoch=1, actor=True),
    "gmm": dict(gmm=True),
    "gmm_actor_two_steps": dict(gmm=True, actor=True, steps=2),
    "validate": dict(actor=True, validate=True),
}
CASES["cql"] = {
    "default": dict(),
    "fixed_weights_sampled_backup": dict(target_entropy=None, target_q_gap=None, cql_weight=2.0,
                                         num_action_samples=3, huber=True,
                                         value_bounds=(-4.0, 4.0), ensemble=3, critic_clip=0.05,
                                         actor_clip=0.1, n_step=2, discount=0.9),
    "stochastic_backup_bc_start": dict(deterministic_backup=False, bc_start_steps=5,
                                       std_activation="softplus", target_entropy=-2.0,
                                       min_q_weight=0.5, target_q_gap=0.0),
    # gap 2: with the default 5 the second step's mean CQL term is 5.03 - 5, and float rounding
    # in that difference alone exceeds 1e-5 of the weight's gradient
    "two_steps": dict(steps=2, target_q_gap=2.0),
    "validate": dict(validate=True),
}
CONFIGS = {"td3_bc": td3_bc_config, "iql": iql_config, "bcq": bcq_config, "cql": cql_config}


STREAM = MimicStream(SEED)


def mimic_randn_like(x):
    return torch.from_numpy(STREAM.normal(x.numel()).astype(np.float32)).reshape(x.shape)


def make_batch(window, gen):
    obs = {k: torch.rand(BATCH, window, d, generator=gen) * 2 - 1 for k, d in OBS.items()}
    next_obs = {k: torch.rand(BATCH, window, d, generator=gen) * 2 - 1 for k, d in OBS.items()}
    actions = torch.rand(BATCH, window, ACTION_DIM, generator=gen) * 1.8 - 0.9
    rewards = torch.rand(BATCH, window, generator=gen)
    dones = (torch.rand(BATCH, window, generator=gen) < 0.3).float()
    return {"obs": obs, "next_obs": next_obs, "actions": actions, "rewards": rewards,
            "dones": dones}


def networks_of(algo):
    """(optimizer, module, mimic prefix) for every optimized network."""
    out = []
    for group, opt in algo.optimizers.items():
        if isinstance(opt, list):
            for i, o in enumerate(opt):
                out.append((o, algo.nets[group][i], "{}.{}.".format(group, i)))
        else:
            net = {"entropy": "log_entropy_weight", "cql": "log_cql_weight"}.get(group, group)
            out.append((opt, algo.nets[net], net + "."))
    return out


def record_case(group, algo_name, name, c):
    config = CONFIGS[algo_name](c)
    ObsUtils.initialize_obs_utils_with_config(config)
    algo = algo_factory(algo_name, config, OrderedDict((k, [d]) for k, d in OBS.items()),
                        ACTION_DIM, torch.device("cpu"))
    with torch.no_grad():
        for p in algo.nets.parameters():
            p.add_(0.1 * torch.randn_like(p))
        if "vf_bias_shift" in c:  # V about min Q', so the expectile sees errors of both signs
            algo.nets["vf"].nets["decoder"].nets["value"].bias.add_(c["vf_bias_shift"])
    params = {mimic_name(k): v.detach().numpy().copy() for k, v in algo.nets.named_parameters()}
    for k, v in params.items():
        group["params/" + k] = v

    grads = {}
    for opt, module, prefix in networks_of(algo):
        def step(*args, _opt=opt, _step=opt.step, _module=module, _prefix=prefix, **kw):
            for k, p in _module.named_parameters():
                if p.grad is not None:  # a fixed std's unused scale layer has none
                    grads[mimic_name(_prefix + k)] = p.grad.detach().numpy().copy()
            return _step(*args, **kw)
        opt.step = step

    gen = torch.Generator().manual_seed(1000 + len(name))
    STREAM.offset = 0  # a fresh policy's stream
    randn_like, randn, gmm_forward = torch.randn_like, torch.randn, PolicyNets.GMMActorNetwork.forward
    reparameterize = TorchUtils.reparameterize
    standard_normal, uniform_ = NormalModule._standard_normal, torch.Tensor.uniform_
    NormalModule._standard_normal, torch.Tensor.uniform_ = mimic_standard_normal, mimic_uniform_
    torch.randn_like, torch.randn = mimic_randn_like, mimic_randn
    PolicyNets.GMMActorNetwork.forward = mimic_gmm_forward
    TorchUtils.reparameterize = mimic_reparameterize
    try:
        for s in range(c.get("steps", 1)):
            grads.clear()
            raw = make_batch(config.train.seq_length, gen)
            b = group.create_group("batch{}".format(s))
            for k, v in raw["obs"].items():
                b["obs/" + k] = v.numpy()
            for k, v in raw["next_obs"].items():
                b["next_obs/" + k] = v.numpy()
            for k in ("actions", "rewards", "dones"):
                b[k] = raw[k].numpy()
            batch = algo.process_batch_for_training(raw)
            algo.set_train()
            info = algo.train_on_batch(batch, epoch=1, validate=c.get("validate", False))
            scalars = {k: float(v) for k, v in algo.log_info(info).items()}
        draws = int(STREAM.offset)  # what training took from the stream
        # The trained policy acting, as a rollout calls it (eval mode; the stream goes on).
        algo.set_eval()
        obs = {k: torch.rand(3, d, generator=gen) * 2 - 1 for k, d in OBS.items()}
        with torch.no_grad():
            actions = algo.get_action(obs)
        for k, v in obs.items():
            group["rollout/obs/" + k] = v.numpy()
        group["rollout/actions"] = actions.numpy()
    finally:
        torch.randn_like, torch.randn = randn_like, randn
        PolicyNets.GMMActorNetwork.forward = gmm_forward
        TorchUtils.reparameterize = reparameterize
        NormalModule._standard_normal, torch.Tensor.uniform_ = standard_normal, uniform_
    for k, v in algo.nets.named_parameters():
        group["updated/" + mimic_name(k)] = v.detach().numpy()
    for k, v in grads.items():
        group["grads/" + k] = v
    cfg = config.to_dict()
    return {"config": {"algo": cfg["algo"], "train": cfg["train"]}, "scalars": scalars,
            "parameters": sorted(params), "stepped": sorted(grads), "seed": SEED,
            "steps": c.get("steps", 1), "validate": c.get("validate", False),
            "draws": draws}


def main():
    torch.manual_seed(0)
    meta, h5 = {}, h5py.File(OUT_H5, "w")
    for algo_name, cases in CASES.items():
        for name, c in cases.items():
            key = algo_name + "/" + name
            meta[key] = record_case(h5.create_group(key), algo_name, name, c)
            meta[key]["algo_name"] = algo_name
            print(key, meta[key]["scalars"])
    h5.close()
    json.dump(meta, open(OUT_JSON, "w"), indent=1, sort_keys=True)
    print("wrote", os.path.normpath(OUT_JSON), "and", os.path.normpath(OUT_H5))


if __name__ == "__main__":
    main()
