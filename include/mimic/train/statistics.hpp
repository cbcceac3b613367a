#pragma once
// Normalization statistics a policy is trained with, computed from the training demonstrations:
//   robomimic's rule (BC, BC-RNN): obs normalization when train.hdf5_normalize_obs (per key and
//     dim, mean/std merged across demos with Chan's formula, scale = std + 1e-3); actions as
//     stored, or as v0.5's train.action_config.actions.normalization asks (min_max, gaussian).
//   the limits rule (Diffusion Policy, IBC): Diffusion Policy's limits normalizer on observations
//     and actions.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "mimic/config/run_config.hpp"
#include "mimic/data/robomimic.hpp"
#include "mimic/policy/core/algorithm.hpp"
#include "mimic/policy/core/features.hpp"
#include "mimic/policy/core/policy.hpp"

namespace mimic::train {

// Rows of every demo's low-dim features ([N, low_dim_dim], keys sorted and concatenated) in one
// buffer; images are not normalized by statistics.
inline std::vector<float> feature_rows(const policy::ShapeMeta& meta,
                                       const std::vector<data::Demo>& demos, int64_t& rows) {
  const int64_t dim = meta.low_dim_dim();
  rows = 0;
  for (const auto& d : demos) rows += d.num_samples;
  std::vector<float> out(size_t(rows * dim));
  int64_t r0 = 0;
  for (const auto& d : demos) {
    int64_t col = 0;
    for (const std::string& key : meta.low_dim_keys()) {
      auto it = d.obs.find(key);
      if (it == d.obs.end()) throw ValueError(d.name + ": no observation key '" + key + "'");
      const int64_t k = meta.key_size(key);
      if (int64_t(it->second.f32.size()) != d.num_samples * k)
        throw ShapeError(d.name + ": obs/" + key + " has " + std::to_string(it->second.f32.size()) +
                         " values, expected " + std::to_string(d.num_samples) + " x " +
                         std::to_string(k));
      for (int64_t r = 0; r < d.num_samples; ++r)
        std::copy_n(it->second.f32.data() + r * k, k, out.data() + (r0 + r) * dim + col);
      col += k;
    }
    r0 += d.num_samples;
  }
  return out;
}

inline std::vector<float> all_actions(const std::vector<data::Demo>& demos, int64_t rows,
                                      int64_t a) {
  std::vector<float> actions;
  for (const auto& d : demos)
    actions.insert(actions.end(), d.actions.f32.begin(), d.actions.f32.end());
  if (int64_t(actions.size()) != rows * a)
    throw ShapeError("actions: " + std::to_string(actions.size()) + " values for " +
                     std::to_string(rows) + " steps of " + std::to_string(a) + " dims");
  return actions;
}

inline policy::Normalization compute_normalization(policy::NormalizationRule rule,
                                                   const config::TrainConfig& train,
                                                   const policy::ShapeMeta& meta,
                                                   const std::vector<data::Demo>& demos) {
  policy::Normalization n;
  const int64_t dim = meta.low_dim_dim(), a = meta.action_dim;
  if (rule == policy::NormalizationRule::kLimits) {
    int64_t rows = 0;
    const std::vector<float> obs = feature_rows(meta, demos, rows);
    n.obs = policy::stats_from_limits(data::LimitsNormalizer::fit(obs.data(), rows, dim));
    const std::vector<float> actions = all_actions(demos, rows, a);
    n.action = policy::stats_from_limits(data::LimitsNormalizer::fit(actions.data(), rows, a));
    return n;
  }
  if (train.hdf5_normalize_obs) {
    data::MomentStats total;
    for (const auto& d : demos) {
      int64_t rows = 0;
      const std::vector<float> x = feature_rows(meta, {d}, rows);
      total.merge(data::MomentStats::from_rows(x.data(), rows, dim));
    }
    n.obs = data::obs_normalization(total);
  }
  const auto& method = train.action_config.contains("actions") ? train.action_config["actions"]
                                                               : nlohmann::json::object();
  const bool normalized = method.contains("normalization") && method["normalization"].is_string() &&
                          method["normalization"].get<std::string>() != "none";
  if (!normalized) {  // the policy learns actions as stored: they must be in its output range
    float amin = INFINITY, amax = -INFINITY;
    for (const auto& d : demos)
      for (float v : d.actions.f32) amin = std::min(amin, v), amax = std::max(amax, v);
    if (amin < -1.0f || amax > 1.0f)
      throw ValueError(data::actions_outside_unit_range(train.data, amin, amax));
  }
  if (method.contains("normalization") && method["normalization"].is_string()) {
    int64_t rows = 0;
    for (const auto& d : demos) rows += d.num_samples;
    const std::vector<float> actions = all_actions(demos, rows, a);
    n.action = data::action_normalization(
        data::action_normalization_from_name(method["normalization"].get<std::string>()),
        actions.data(), rows, a);
  }
  return n;
}

}  // namespace mimic::train
