"""One train_on_batch of a robomimic 0.3.0 algorithm, recorded for the C++ tests: the weights
before the step (perturbed from robomimic's initialization, so that zero biases and unit norms
cannot hide a wrong gradient), the batch, the loss terms robomimic logs, and the step's gradients
and updated weights, all under mimic's parameter names. Shared by make_bc_transformer_fixture.py
and make_bc_vae_fixture.py.
"""
from collections import OrderedDict

import robomimic.utils.obs_utils as ObsUtils
import torch
from robomimic.algo import algo_factory


def record_train_step(group, config, obs_dims, action_dim, batch_size, window, epoch, mimic_name):
    """Runs the step into h5 `group`; returns the case's JSON entry (config, scalars, names)."""
    ObsUtils.initialize_obs_utils_with_config(config)
    algo = algo_factory("bc", config, OrderedDict((k, [d]) for k, d in obs_dims.items()),
                        action_dim, torch.device("cpu"))
    net = algo.nets["policy"]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    before = {mimic_name(k): v.detach().numpy().copy() for k, v in net.named_parameters()}
    for k, v in before.items():
        group["params/" + k] = v
    obs = {k: torch.rand(batch_size, window, d) * 2 - 1 for k, d in obs_dims.items()}
    actions = torch.rand(batch_size, window, action_dim) * 1.8 - 0.9
    for k, v in obs.items():
        group["obs/" + k] = v.numpy()
    group["actions"] = actions.numpy()
    batch = algo.process_batch_for_training({"obs": obs, "actions": actions})
    algo.set_train()
    info = algo.train_on_batch(batch, epoch=epoch)
    scalars = {k: float(v) for k, v in algo.log_info(info).items() if k != "Optimizer/policy0_lr"}
    for k, v in net.named_parameters():
        group["updated/" + mimic_name(k)] = v.detach().numpy()
        group["grads/" + mimic_name(k)] = v.grad.numpy()  # the step's gradients stay after it
    cfg = config.to_dict()
    return {"config": {"algo": cfg["algo"], "train": cfg["train"]}, "scalars": scalars,
            "parameters": sorted(before)}
