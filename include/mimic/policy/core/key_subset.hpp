#pragma once
// A part of a policy's observation keys, for the parts of a hierarchical policy (robomimic's HBC
// and IRIS give the planner, the value network and the actor each its own observation keys): the
// part's shape metadata and normalization statistics cut from the whole policy's, and the
// columns of the whole observation row that hold the part's keys. Statistics are per dimension,
// so the part's slice of a normalized row is the part's normalized row.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "mimic/core/error.hpp"
#include "mimic/core/tensor.hpp"
#include "mimic/policy/core/any_policy.hpp"

namespace mimic::policy {

// Columns holding `keys` in a row of consecutive (key, width) blocks, in the row's order.
inline std::vector<int64_t> columns_of(const std::vector<std::pair<std::string, int64_t>>& blocks,
                                       const std::vector<std::string>& keys) {
  std::vector<int64_t> cols;
  int64_t col = 0;
  for (const auto& [k, n] : blocks) {
    if (std::find(keys.begin(), keys.end(), k) != keys.end())
      for (int64_t i = 0; i < n; ++i) cols.push_back(col + i);
    col += n;
  }
  return cols;
}
inline std::vector<std::pair<std::string, int64_t>> blocks_of(const ShapeMeta& meta,
                                                              const std::vector<std::string>& row) {
  std::vector<std::pair<std::string, int64_t>> blocks;
  for (const std::string& k : row) blocks.emplace_back(k, meta.key_size(k));
  return blocks;
}

// Columns of `meta`'s observation row holding `keys`, in the row order of the keys (sorted).
inline std::vector<int64_t> key_columns(const ShapeMeta& meta,
                                        const std::vector<std::string>& keys) {
  for (const std::string& want : keys)
    if (!meta.obs_shapes.count(want))
      throw ValueError("observation key '" + want + "' is not among the policy's keys");
  return columns_of(blocks_of(meta, meta.row_keys()), keys);
}

// The statistics of `keys` (low-dim keys of `meta`) cut from the whole low-dim block's.
inline data::AffineStats key_stats(const ShapeMeta& meta, const data::AffineStats& stats,
                                   const std::vector<std::string>& keys) {
  if (stats.offset.empty()) return {};
  data::AffineStats out;
  for (const int64_t c : columns_of(blocks_of(meta, meta.low_dim_keys()), keys)) {
    out.offset.push_back(stats.offset[size_t(c)]);
    out.scale.push_back(stats.scale[size_t(c)]);
  }
  return out;
}

// A part that observes `keys` and, when `goal_keys` is not empty, is given (or predicts) goals
// made of those low-dim keys.
struct KeySubset {
  ShapeMeta meta;
  Normalization norm;
  std::vector<int64_t> columns;  // of the whole row, for meta's row

  KeySubset() = default;
  KeySubset(const ShapeMeta& whole, const Normalization& whole_norm,
            const std::vector<std::string>& keys, const std::vector<std::string>& goal_keys = {}) {
    if (keys.empty()) throw ValueError("a policy part needs at least one observation key");
    for (const std::string& k : keys) {
      if (!whole.obs_shapes.count(k))
        throw ValueError("observation key '" + k + "' is not among the dataset keys loaded");
      meta.obs_shapes[k] = whole.obs_shapes.at(k);
      if (whole.is_rgb(k)) meta.rgb_keys.insert(k);
    }
    for (const std::string& k : goal_keys) {
      if (!whole.obs_shapes.count(k) || whole.is_rgb(k))
        throw ValueError("goal key '" + k + "' is not a low-dim key among the dataset keys loaded");
      meta.goal_shapes[k] = whole.obs_shapes.at(k);
    }
    meta.action_dim = whole.action_dim;
    norm.obs = key_stats(whole, whole_norm.obs, meta.low_dim_keys());
    std::vector<std::string> sorted_goals;
    for (const auto& [k, shape] : meta.goal_shapes) sorted_goals.push_back(k);
    norm.goal = key_stats(whole, whole_norm.obs, sorted_goals);
    norm.action = whole_norm.action;
    columns = key_columns(whole, meta.row_keys());
  }

  // The part's rows [B, T, part_dim] from whole rows [B, T, whole_dim].
  Tensor<float> select(const Tensor<float>& rows) const {
    const int64_t b = rows.dim(0), t = rows.dim(1), whole = rows.dim(2),
                  n = int64_t(columns.size());
    auto out = Tensor<float>::empty({b, t, n});
    for (int64_t r = 0; r < b * t; ++r)
      for (int64_t j = 0; j < n; ++j) out[r * n + j] = rows[r * whole + columns[size_t(j)]];
    return out;
  }
};

// Columns of goal rows (the goal keys of `from`, sorted) that hold `keys`, in sorted key order:
// how a predicted subgoal becomes another part's observation row.
inline std::vector<int64_t> goal_columns(const ShapeMeta& from,
                                         const std::vector<std::string>& keys) {
  std::vector<std::pair<std::string, int64_t>> blocks;
  for (const std::string& want : keys)
    if (!from.goal_shapes.count(want))
      throw ValueError("key '" + want + "' is not among the predicted subgoal keys");
  for (const auto& [k, shape] : from.goal_shapes) blocks.emplace_back(k, shape_numel(shape));
  return columns_of(blocks, keys);
}

}  // namespace mimic::policy
