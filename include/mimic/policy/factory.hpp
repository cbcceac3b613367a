#pragma once
// Builds the policy a robomimic-style config asks for: algo_name "bc" (BC-RNN when
// algo.rnn.enabled), "diffusion_policy" or "ibc".
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/policy/bc.hpp"
#include "mimic/policy/bc_rnn.hpp"
#include "mimic/policy/diffusion_policy.hpp"
#include "mimic/policy/ibc.hpp"

namespace mimic::policy {

// "bc", "bc_rnn", "diffusion_policy" or "ibc" (the internal name of the algorithm).
inline std::string algorithm_of(const nlohmann::json& config) {
  const std::string name = config.at("algo_name").get<std::string>();
  if (name == "bc") {
    const auto& algo = config.at("algo");
    const bool rnn = algo.contains("rnn") && algo["rnn"].value("enabled", false);
    return rnn ? "bc_rnn" : "bc";
  }
  if (name == "diffusion_policy" || name == "ibc") return name;
  throw ValueError("algo_name: '" + name +
                   "' is not supported (expected bc, diffusion_policy or ibc)");
}

// Whether the algorithm's learning-rate schedule counts batches (true) or epochs.
inline bool schedule_counts_batches(const nlohmann::json& config) {
  const auto& p = config.at("algo").at("optim_params").at("policy");
  return OptimizerSettings::from_json(p).step_every_batch;
}

template <class T = float, class D = Cpu>
std::unique_ptr<Policy<T, D>> make_policy(const nlohmann::json& config, const ShapeMeta& meta,
                                          const Normalization& norm, uint64_t seed,
                                          int64_t schedule_units) {
  const std::string algo = algorithm_of(config);
  if (algo == "bc")
    return std::make_unique<Bc<T, D>>(meta, norm, BcSettings::from_config(config), seed,
                                      schedule_units);
  if (algo == "bc_rnn")
    return std::make_unique<BcRnn<T, D>>(meta, norm, BcRnnSettings::from_config(config), seed,
                                         schedule_units);
  if (algo == "diffusion_policy")
    return std::make_unique<DiffusionPolicy<T, D>>(
        meta, norm, DiffusionPolicySettings::from_config(config), seed, schedule_units);
  return std::make_unique<Ibc<T, D>>(meta, norm, IbcSettings::from_config(config), seed,
                                     schedule_units);
}

}  // namespace mimic::policy
