#pragma once
// The spec of "diffusion_policy": robomimic v0.5's section layout for it (UNet, EMA, DDPM/DDIM)
// with Diffusion Policy's training recipe; limits normalization; windows that cover the
// prediction horizon.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/config/defaults.hpp"
#include "mimic/policy/core/algorithm.hpp"
#include "mimic/policy/core/published.hpp"
#include "mimic/policy/diffusion/defaults.hpp"
#include "mimic/policy/diffusion/diffusion_policy.hpp"

namespace mimic::policy {

// Steps a window must hold: the prediction horizon, and at least the observation horizon.
inline int64_t horizon_window(const nlohmann::json& c, int64_t need) {
  return std::max(need, c.at("algo").at("horizon").at("observation_horizon").get<int64_t>());
}

// Diffusion Policy's and Implicit BC's published runs: 50 rollouts, batch 256 on low-dim data.
inline void chunked_policy_published(nlohmann::json& c, bool image) {
  c["experiment"]["rollout"]["n"] = 50;
  if (!image) c["train"]["batch_size"] = 256;
}

// Builds Diffusion Policy for any scalar type and device (CUDA: cuda::add_cuda_builders).
template <class T, class D>
std::unique_ptr<Policy<T, D>> build_diffusion_policy(const BuildArgs& a) {
  return std::make_unique<DiffusionPolicy<T, D>>(
      a.meta, a.norm, DiffusionPolicySettings::from_config(a.config), a.seed, a.schedule_units);
}

inline AlgorithmSpec diffusion_policy_spec() {
  AlgorithmSpec s;
  s.name = "diffusion_policy";
  s.algo_name = "diffusion_policy";
  s.defaults = diffusion_policy_defaults;
  s.extension_keys = {"algo.optim_params.policy.betas", "algo.unet.cond_predict_scale"};
  s.validate = [](const nlohmann::json& c) {
    const auto& algo = c.at("algo");
    config::require(algo["ddpm"]["enabled"].get<bool>() != algo["ddim"]["enabled"].get<bool>(),
                    "algo.ddpm.enabled", "and algo.ddim.enabled: exactly one must be true",
                    algo["ddpm"]["enabled"]);
  };
  s.window_steps = [](const nlohmann::json& c) {
    return horizon_window(c, c.at("algo").at("horizon").at("prediction_horizon").get<int64_t>());
  };
  s.normalization = NormalizationRule::kLimits;
  s.published = [](const std::string& dir) {
    return published_for_tasks(diffusion_policy_defaults, "diffusion_policy", dir,
                               chunked_policy_published);
  };
  s.set_builder<float, Cpu>(build_diffusion_policy<float, Cpu>);
  return s;
}

}  // namespace mimic::policy
