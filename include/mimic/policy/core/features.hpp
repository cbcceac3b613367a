#pragma once
// Observation rows as the policies see them: low-dim keys in sorted order, each flattened,
// concatenated along the last axis and normalized per dimension with an affine map (robomimic's
// mean/std statistics or Diffusion Policy's limits, both expressed as offset and scale:
// y = (x - offset) / scale), followed by any images as CHW pixels in [0, 1].
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"
#include "mimic/core/tensor.hpp"
#include "mimic/data/normalize.hpp"
#include "mimic/env/env.hpp"

namespace mimic::policy {

// Values in one step of a key of this per-step shape (the product of its dims).
inline int64_t shape_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Which observation keys a policy reads and the per-step shape of each ([C, H, W] for rgb
// keys), plus the action size. A policy's raw observation row holds the low-dim keys (sorted,
// flattened) first, then the rgb keys (sorted) as CHW pixels in [0, 1]; normalization statistics
// cover the low-dim block only, and the policy's observation encoder turns the row into features.
struct ShapeMeta {
  std::map<std::string, std::vector<int64_t>> obs_shapes;  // per-step shape of every used key
  std::set<std::string> rgb_keys;                          // keys of obs_shapes holding images
  int64_t action_dim = 0;
  // Low-dim goal keys and their per-step shapes: what a goal-conditioned policy is given (HBC's
  // actor: the planner's subgoal) or a subgoal planner predicts. Empty for most policies.
  std::map<std::string, std::vector<int64_t>> goal_shapes;

  bool is_rgb(const std::string& key) const { return rgb_keys.count(key) > 0; }
  std::vector<std::string> keys() const {  // std::map iterates in sorted order
    std::vector<std::string> k;
    for (const auto& [name, shape] : obs_shapes) k.push_back(name);
    return k;
  }
  std::vector<std::string> low_dim_keys() const {
    std::vector<std::string> k;
    for (const auto& [name, shape] : obs_shapes)
      if (!is_rgb(name)) k.push_back(name);
    return k;
  }
  // Keys in the order of the raw observation row: low-dim keys, then rgb keys.
  std::vector<std::string> row_keys() const {
    std::vector<std::string> k = low_dim_keys();
    k.insert(k.end(), rgb_keys.begin(), rgb_keys.end());
    return k;
  }
  int64_t key_size(const std::string& key) const { return shape_numel(obs_shapes.at(key)); }
  int64_t low_dim_dim() const {
    int64_t n = 0;
    for (const std::string& k : low_dim_keys()) n += key_size(k);
    return n;
  }
  // Values per step of the raw observation row.
  int64_t obs_dim() const {
    int64_t n = 0;
    for (const auto& [name, shape] : obs_shapes) n += key_size(name);
    return n;
  }
  // Values of one goal row (goal keys sorted, each flattened).
  int64_t goal_dim() const {
    int64_t n = 0;
    for (const auto& [name, shape] : goal_shapes) n += shape_numel(shape);
    return n;
  }
  // Checks that every rgb key is a used key with a [C, H, W] shape.
  void validate() const {
    for (const std::string& k : rgb_keys) {
      auto it = obs_shapes.find(k);
      if (it == obs_shapes.end())
        throw ValueError("shape metadata: rgb key '" + k + "' is not an observation key");
      if (it->second.size() != 3)
        throw ShapeError("shape metadata: rgb key '" + k + "' has " +
                         std::to_string(it->second.size()) + " dims (expected [C, H, W])");
    }
  }
  nlohmann::json to_json() const {
    nlohmann::json j = {{"obs_shapes", obs_shapes}, {"action_dim", action_dim}};
    if (!rgb_keys.empty()) j["rgb_keys"] = rgb_keys;
    if (!goal_shapes.empty()) j["goal_shapes"] = goal_shapes;
    return j;
  }
  static ShapeMeta from_json(const nlohmann::json& j) {
    ShapeMeta m;
    m.obs_shapes = j.at("obs_shapes").get<std::map<std::string, std::vector<int64_t>>>();
    m.action_dim = j.at("action_dim").get<int64_t>();
    if (j.contains("rgb_keys")) m.rgb_keys = j["rgb_keys"].get<std::set<std::string>>();
    if (j.contains("goal_shapes"))
      m.goal_shapes = j["goal_shapes"].get<std::map<std::string, std::vector<int64_t>>>();
    m.validate();
    return m;
  }
};

inline nlohmann::json stats_to_json(const data::AffineStats& s) {
  return {{"offset", s.offset}, {"scale", s.scale}};
}
inline data::AffineStats stats_from_json(const nlohmann::json& j) {
  return {j.at("offset").get<std::vector<double>>(), j.at("scale").get<std::vector<double>>()};
}
inline data::AffineStats identity_stats(int64_t dims) {
  return {std::vector<double>(size_t(dims), 0.0), std::vector<double>(size_t(dims), 1.0)};
}
// Diffusion Policy's limits map y = x * s + o written as (x - offset) / scale.
inline data::AffineStats stats_from_limits(const data::LimitsNormalizer& n) {
  data::AffineStats a;
  for (size_t d = 0; d < n.scale.size(); ++d) {
    a.scale.push_back(1.0 / n.scale[d]);
    a.offset.push_back(-n.offset[d] / n.scale[d]);
  }
  return a;
}

// Normalizes the first `dims` values of each row (rows `stride` apart, default dims) in place;
// `stats` may be empty (identity).
inline void normalize_rows(const data::AffineStats& stats, float* x, int64_t rows, int64_t dims,
                           int64_t stride = 0) {
  if (stats.offset.empty()) return;
  if (int64_t(stats.offset.size()) != dims)
    throw ShapeError("normalization statistics have " + std::to_string(stats.offset.size()) +
                     " dims, data has " + std::to_string(dims));
  if (stride == 0) stride = dims;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t d = 0; d < dims; ++d)
      x[r * stride + d] = float((x[r * stride + d] - stats.offset[d]) / stats.scale[d]);
}
inline void unnormalize_rows(const data::AffineStats& stats, float* x, int64_t rows, int64_t dims) {
  if (stats.offset.empty()) return;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t d = 0; d < dims; ++d)
      x[r * dims + d] = float(x[r * dims + d] * stats.scale[d] + stats.offset[d]);
}

// Batch observations (key -> [B, T_b, ...]) to raw observation rows [B, steps, obs_dim] from
// step t0 on, the low-dim block normalized.
inline Tensor<float> gather_features(const ShapeMeta& meta, const data::AffineStats& stats,
                                     const std::map<std::string, Tensor<float>>& obs, int64_t t0,
                                     int64_t steps) {
  const int64_t dim = meta.obs_dim();
  int64_t batch = -1;
  for (const auto& [key, shape] : meta.obs_shapes) {
    auto it = obs.find(key);
    if (it == obs.end()) throw ValueError("batch has no observation key '" + key + "'");
    const Tensor<float>& t = it->second;
    if (t.rank() < 2 || t.dim(1) < t0 + steps ||
        t.numel() != t.dim(0) * t.dim(1) * meta.key_size(key))
      throw ShapeError("observation '" + key + "' has shape " + t.shape().str() +
                       ", expected [B, >=" + std::to_string(t0 + steps) + ", " +
                       std::to_string(meta.key_size(key)) + "]");
    if (batch >= 0 && t.dim(0) != batch)
      throw ShapeError("observation '" + key + "' has batch " + std::to_string(t.dim(0)) +
                       ", others have " + std::to_string(batch));
    batch = t.dim(0);
  }
  if (batch < 0) throw ValueError("policy has no observation keys");
  auto out = Tensor<float>::empty({batch, steps, dim});
  int64_t col = 0;
  for (const std::string& key : meta.row_keys()) {
    const Tensor<float> t = obs.at(key);
    const int64_t k = meta.key_size(key), tb = t.dim(1);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t s = 0; s < steps; ++s)
        std::copy_n(t.data() + (b * tb + t0 + s) * k, k, out.data() + (b * steps + s) * dim + col);
    col += k;
  }
  normalize_rows(stats, out.data(), batch * steps, meta.low_dim_dim(), dim);
  return out;
}

// One environment observation to a raw observation row of obs_dim values (images: HWC uint8 to
// CHW in [0, 1], as the dataset reader gives them).
inline void observation_features(const ShapeMeta& meta, const data::AffineStats& stats,
                                 const env::Observation& o, float* out) {
  int64_t col = 0;
  for (const std::string& key : meta.row_keys()) {
    if (meta.is_rgb(key)) {
      auto im = o.images.find(key);
      if (im == o.images.end())
        throw ValueError("observation has no image '" + key +
                         "' (is the environment rendering camera observations?)");
      const auto& shape = meta.obs_shapes.at(key);
      const int64_t c = shape[0], hw = shape[1] * shape[2];
      if (int64_t(im->second.size()) != c * hw)
        throw ShapeError("image '" + key + "' has " + std::to_string(im->second.size()) +
                         " bytes, expected " + std::to_string(c * hw) + " for " +
                         std::to_string(shape[1]) + "x" + std::to_string(shape[2]) + "x" +
                         std::to_string(c));
      for (int64_t p = 0; p < hw; ++p)
        for (int64_t ch = 0; ch < c; ++ch)
          out[col + ch * hw + p] = float(im->second[size_t(p * c + ch)]) / 255.f;
      col += c * hw;
      continue;
    }
    auto it = o.low_dim.find(key);
    if (it == o.low_dim.end()) throw ValueError("observation has no key '" + key + "'");
    const int64_t k = meta.key_size(key);
    if (int64_t(it->second.size()) != k)
      throw ShapeError("observation '" + key + "' has " + std::to_string(it->second.size()) +
                       " values, expected " + std::to_string(k));
    std::copy_n(it->second.data(), k, out + col);
    col += k;
  }
  normalize_rows(stats, out, 1, meta.low_dim_dim());
}

// Rows [B, dim] -> [B * n, dim], each row repeated n times in place (robomimic's
// repeat_and_stack_observation).
inline Tensor<float> repeat_rows(const Tensor<float>& x, int64_t n) {
  const int64_t b = x.dim(0), d = x.dim(1);
  auto out = Tensor<float>::empty({b * n, d});
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = 0; j < n; ++j) std::copy_n(x.data() + i * d, d, out.data() + (i * n + j) * d);
  return out;
}

// Batch goals (key -> [B, ...], one step each) to normalized goal rows [B, goal_dim].
inline Tensor<float> gather_goals(const ShapeMeta& meta, const data::AffineStats& stats,
                                  const std::map<std::string, Tensor<float>>& goals) {
  const int64_t dim = meta.goal_dim();
  int64_t batch = -1, col = 0;
  Tensor<float> out;
  for (const auto& [key, shape] : meta.goal_shapes) {
    auto it = goals.find(key);
    if (it == goals.end()) throw ValueError("batch has no goal key '" + key + "'");
    const int64_t k = shape_numel(shape);
    const Tensor<float>& t = it->second;
    if (t.rank() < 1 || t.numel() != t.dim(0) * k || (batch >= 0 && t.dim(0) != batch))
      throw ShapeError("goal '" + key + "' has shape " + t.shape().str() + ", expected [" +
                       (batch >= 0 ? std::to_string(batch) : std::string("B")) + ", " +
                       std::to_string(k) + "]");
    if (batch < 0) {
      batch = t.dim(0);
      out = Tensor<float>::empty({batch, dim});
    }
    for (int64_t b = 0; b < batch; ++b)
      std::copy_n(t.data() + b * k, k, out.data() + b * dim + col);
    col += k;
  }
  if (batch < 0) throw ValueError("policy has no goal keys");
  normalize_rows(stats, out.data(), batch, dim);
  return out;
}

// Batch actions [B, T_b, A] -> normalized [B, steps, A] from step t0.
inline Tensor<float> gather_actions(const data::AffineStats& stats, const Tensor<float>& actions,
                                    int64_t t0, int64_t steps) {
  if (actions.rank() != 3 || actions.dim(1) < t0 + steps)
    throw ShapeError("actions have shape " + actions.shape().str() +
                     ", expected [B, >=" + std::to_string(t0 + steps) + ", A]");
  const int64_t b = actions.dim(0), tb = actions.dim(1), a = actions.dim(2);
  const Tensor<float>& src = actions;
  auto out = Tensor<float>::empty({b, steps, a});
  for (int64_t i = 0; i < b; ++i)
    std::copy_n(src.data() + (i * tb + t0) * a, steps * a, out.data() + i * steps * a);
  normalize_rows(stats, out.data(), b * steps, a);
  return out;
}

}  // namespace mimic::policy
