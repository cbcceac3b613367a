#pragma once
// What robomimic's offline RL algorithms share about returns and targets: the discount, the
// soft-update rate of the target networks (target_tau), and, where the algorithm has them, n-step
// returns and the infinite-horizon done bonus. Errors name the key under `at` ("algo").
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/config/schema.hpp"

namespace mimic::policy {

struct ReturnSettings {
  double discount = 0.99, target_tau = 0.005;
  int64_t n_step = 1;
  bool infinite_horizon = false;

  // with_n_step / with_infinite_horizon: the algorithm's config has algo.n_step /
  // algo.infinite_horizon (IQL has neither, CQL no infinite_horizon).
  static ReturnSettings from_json(const nlohmann::json& a, const std::string& at, bool with_n_step,
                                  bool with_infinite_horizon) {
    using config::require;
    ReturnSettings s;
    s.discount = config::typed<double>(a, "discount", at);
    require(s.discount >= 0 && s.discount < 1, at + ".discount", "must be in [0, 1)",
            a["discount"]);
    s.target_tau = config::typed<double>(a, "target_tau", at);
    require(s.target_tau >= 0 && s.target_tau <= 1, at + ".target_tau", "must be in [0, 1]",
            a["target_tau"]);
    if (with_n_step) s.n_step = config::bounded(a.at("n_step"), at + ".n_step", 1, 1000);
    if (with_infinite_horizon) s.infinite_horizon = config::typed<bool>(a, "infinite_horizon", at);
    return s;
  }
};

}  // namespace mimic::policy
