#pragma once
// The spec of "ibc" (Implicit BC; robomimic has no such algorithm, so the section follows the
// diffusion_policy layout with Implicit BC's published settings): limits normalization, windows
// of observation_horizon - 1 + action_horizon steps.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/policy/diffusion/spec.hpp"
#include "mimic/policy/ibc/defaults.hpp"
#include "mimic/policy/ibc/ibc.hpp"

namespace mimic::policy {

// Builds IBC for any scalar type and device (CUDA: cuda::add_cuda_builders).
template <class T, class D>
std::unique_ptr<Policy<T, D>> build_ibc(const BuildArgs& a) {
  return std::make_unique<Ibc<T, D>>(a.meta, a.norm, IbcSettings::from_config(a.config), a.seed,
                                     a.schedule_units);
}

inline AlgorithmSpec ibc_spec() {
  AlgorithmSpec s;
  s.name = "ibc";
  s.algo_name = "ibc";
  s.defaults = ibc_defaults;
  s.window_steps = [](const nlohmann::json& c) {
    const auto& h = c.at("algo").at("horizon");
    return horizon_window(
        c, h.at("observation_horizon").get<int64_t>() - 1 + h.at("action_horizon").get<int64_t>());
  };
  s.normalization = NormalizationRule::kLimits;
  s.published = [](const std::string& dir) {
    return published_for_tasks(ibc_defaults, "ibc", dir, chunked_policy_published);
  };
  s.set_builder<float, Cpu>(build_ibc<float, Cpu>);
  return s;
}

}  // namespace mimic::policy
