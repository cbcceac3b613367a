#pragma once
// robomimic's critic settings for its offline RL algorithms: the `critic` block (layer widths,
// value range, loss, clipping, ensemble) and the `max_gradient_norm` of any section.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/config/schema.hpp"

namespace mimic::policy {

// robomimic's `max_gradient_norm` of a section: null (0 here: no clipping) or > 0.
inline double max_gradient_norm_setting(const nlohmann::json& section, const std::string& at) {
  const auto& v = section.at("max_gradient_norm");
  if (v.is_null()) return 0;
  const double m = config::typed<double>(v, at + ".max_gradient_norm");
  config::require(m > 0, at + ".max_gradient_norm", "must be > 0 or null", v);
  return m;
}

// robomimic's critic block (shared by BCQ, CQL and TD3-BC): layer widths, an optional value
// range, the loss and clipping, and the ensemble.
struct CriticSettings {
  std::vector<int64_t> layer_dims{256, 256};
  struct {
    bool enabled = false;
    double low = 0, high = 0;
  } bounds;
  bool use_huber = false;
  double max_gradient_norm = 0;  // 0: none (robomimic: null)
  int64_t ensemble_n = 2;
  double ensemble_weight = 1.0;  // weight of the ensemble's min in the target (max: 1 - weight)

  static CriticSettings from_json(const nlohmann::json& c, const std::string& at) {
    using config::typed;
    CriticSettings s;
    s.layer_dims = config::bounded_list(c, "layer_dims", at, 1, config::kMaxConfigSize, 1);
    if (c.contains("value_bounds") && !c["value_bounds"].is_null()) {
      const auto b = typed<std::vector<double>>(c, "value_bounds", at);
      config::require(b.size() == 2 && b[0] < b[1], at + ".value_bounds",
                      "must be [low, high] with low < high", c["value_bounds"]);
      s.bounds = {true, b[0], b[1]};
    }
    s.use_huber = typed<bool>(c, "use_huber", at);
    s.max_gradient_norm = max_gradient_norm_setting(c, at);
    const auto& e = c.at("ensemble");
    s.ensemble_n = config::bounded(e.at("n"), at + ".ensemble.n", 1, 64);
    if (e.contains("weight")) {
      s.ensemble_weight = typed<double>(e, "weight", at + ".ensemble");
      config::require(s.ensemble_weight >= 0 && s.ensemble_weight <= 1, at + ".ensemble.weight",
                      "must be in [0, 1]", e["weight"]);
    }
    return s;
  }
};

}  // namespace mimic::policy
