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

inline void validate_diffusion_policy(const nlohmann::json& c) {
  const auto& algo = c.at("algo");
  config::require(algo["ddpm"]["enabled"].get<bool>() != algo["ddim"]["enabled"].get<bool>(),
                  "algo.ddpm.enabled", "and algo.ddim.enabled: exactly one must be true",
                  algo["ddpm"]["enabled"]);
  DiffusionPolicySettings::from_config(c);  // errors name the key
}

// Builds Diffusion Policy for any scalar type and device (CUDA: cuda::add_cuda_builders).
template <class T, class D>
std::unique_ptr<Policy<T, D>> build_diffusion_policy(const BuildArgs& a) {
  return std::make_unique<DiffusionPolicy<T, D>>(
      a.meta, a.norm, DiffusionPolicySettings::from_config(a.config), a.seed, a.schedule_units);
}

inline bool diffusion_uses_transformer(const nlohmann::json& c) {
  return c.at("algo").at("transformer").at("enabled").get<bool>();
}

inline AlgorithmSpec diffusion_policy_spec() {
  AlgorithmSpec s;
  s.name = "diffusion_policy";
  s.algo_name = "diffusion_policy";
  s.selects = [](const nlohmann::json& c) { return !diffusion_uses_transformer(c); };
  s.defaults = diffusion_policy_defaults;
  s.extension_keys = {"algo.optim_params.policy.betas", "algo.unet.cond_predict_scale",
                      "algo.transformer", "algo.ddpm.float32_tables", "algo.ddim.float32_tables"};
  s.validate = validate_diffusion_policy;
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

// Diffusion Policy's transformer runs (DP-T): its Push-T low-dim workspace (8 layers of 256 with
// 4 heads, causal, attention dropout 0.01, AdamW 1e-4 with betas (0.9, 0.95) and weight decay 0.1
// on the decayed group, cosine schedule with 1000 warm-up steps, DDPM 100); other tasks take its
// generic low-dim workspace's attention dropout 0.3 and weight decay 1e-3 with Push-T's horizons.
inline void diffusion_transformer_published(nlohmann::json& c, bool image, bool pusht) {
  chunked_policy_published(c, image);
  auto& algo = c["algo"];
  algo["unet"]["enabled"] = false;
  algo["transformer"]["enabled"] = true;
  algo["transformer"]["p_drop_attn"] = pusht ? 0.01 : 0.3;
  auto& p = algo["optim_params"]["policy"];
  p["betas"] = {0.9, 0.95};
  p["regularization"]["L2"] = pusht ? 0.1 : 1e-3;
  p["learning_rate"]["warmup_steps"] = 1000;
}

// Builds DP-T for any scalar type and device (CUDA: cuda::add_cuda_builders).
template <class T, class D>
std::unique_ptr<Policy<T, D>> build_diffusion_transformer(const BuildArgs& a) {
  return build_diffusion_policy<T, D>(a);
}

inline AlgorithmSpec diffusion_transformer_spec() {
  AlgorithmSpec s = diffusion_policy_spec();
  s.name = "diffusion_policy_transformer";
  s.selects = diffusion_uses_transformer;
  s.defaults = nullptr;  // diffusion_policy's, registered first
  s.published = [](const std::string& dir) {
    std::vector<PublishedConfig> out;
    for (const std::string& task : config::published_tasks())
      for (const std::string& obs : config::published_obs_types()) {
        if (obs == "image") continue;  // DP-T is published for low-dim observations
        nlohmann::json c = config::for_task(diffusion_policy_defaults(),
                                            "diffusion_policy_transformer", task, obs, dir);
        diffusion_transformer_published(c, false, task == "pusht");
        out.push_back({c["experiment"]["name"].get<std::string>(), c});
      }
    return out;
  };
  s.set_builder<float, Cpu>(build_diffusion_transformer<float, Cpu>);
  return s;
}

}  // namespace mimic::policy
