#pragma once
// The default config of "ibc" (Implicit BC; not a robomimic algorithm): the diffusion_policy
// layout with Implicit BC's published settings (energy MLP 4 x 1024, 1024 negatives, DFO with
// 1024 samples x 3 iterations).
#include <nlohmann/json.hpp>

#include "mimic/policy/diffusion/defaults.hpp"

namespace mimic::policy {

inline nlohmann::json ibc_algo_section() {
  nlohmann::json optim = diffusion_optim_section();
  optim["policy"]["learning_rate"]["scheduler_type"] = "cosine";
  optim["policy"]["betas"] = {0.9, 0.999};
  optim["policy"]["regularization"]["L2"] = 0.0;
  return {
      {"optim_params", optim},
      {"horizon", {{"observation_horizon", 2}, {"action_horizon", 1}, {"prediction_horizon", 2}}},
      {"energy", {{"layer_dims", {1024, 1024, 1024, 1024}}, {"dropout", 0.1}}},
      {"train", {{"num_negatives", 1024}}},
      {"inference",
       {{"method", "dfo"},
        {"num_samples", 1024},
        {"iterations", 3},
        {"noise_scale", 0.33},
        {"noise_shrink", 0.5},
        {"constant_noise", 0.03},
        {"langevin_steps", 100},
        {"langevin_step_init", 1e-1},
        {"langevin_step_final", 1e-5}}}};
}

inline nlohmann::json ibc_defaults() {
  nlohmann::json c = config::shared_defaults("ibc");
  c["algo"] = ibc_algo_section();
  c["train"]["seq_length"] = 1;
  c["train"]["frame_stack"] = 2;
  return c;
}

}  // namespace mimic::policy
