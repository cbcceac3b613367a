#pragma once
// The UNet's FiLM encoders read [step embedding, step 0's features, step 1's features, ...].
// Other frameworks lay one step's features out in their own key order (Diffusion Policy: its
// shape_meta's; LeRobot: state, images, environment state); mimic's observation encoder
// concatenates keys sorted by name. This maps an imported cond_encoder weight's columns to
// mimic's layout, exactly (a permutation: no value changes).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "mimic/core/tensor.hpp"

namespace mimic::interop {

// One key's block of features in a step: its name and width.
using FeatureBlocks = std::vector<std::pair<std::string, int64_t>>;

// The mimic layout (blocks sorted by name) of `source`, another framework's order.
inline FeatureBlocks sorted_blocks(FeatureBlocks source) {
  std::sort(source.begin(), source.end());
  return source;
}

// w [out, embed + steps * step_width] with each step's columns in `source` order, returned with
// them in `target` order (the same blocks, reordered); `where` names the tensor in errors.
inline Tensor<float> permute_condition_columns(const Tensor<float>& w, int64_t embed, int64_t steps,
                                               const FeatureBlocks& source,
                                               const FeatureBlocks& target,
                                               const std::string& where) {
  int64_t width = 0;
  for (const auto& [name, n] : source) width += n;
  if (w.rank() != 2 || w.dim(1) != embed + steps * width)
    throw IoError(where + " has shape " + w.shape().str() + ", expected [*, " +
                  std::to_string(embed + steps * width) + "] (step embedding " +
                  std::to_string(embed) + " + " + std::to_string(steps) + " steps x " +
                  std::to_string(width) + " features)");
  std::vector<int64_t> from_column;  // target column in a step -> source column
  for (const auto& [name, n] : target) {
    int64_t at = 0;
    bool found = false;
    for (const auto& [source_name, source_n] : source) {
      if (source_name == name) {
        if (source_n != n) throw IoError(where + ": feature block '" + name + "' widths differ");
        for (int64_t d = 0; d < n; ++d) from_column.push_back(at + d);
        found = true;
      }
      at += source_n;
    }
    if (!found) throw IoError(where + ": no feature block '" + name + "'");
  }
  if (int64_t(from_column.size()) != width)
    throw IoError(where + ": the feature layouts hold different blocks");
  auto p = Tensor<float>::empty(w.shape());
  const int64_t cols = w.dim(1);
  for (int64_t r = 0; r < w.dim(0); ++r)
    for (int64_t j = 0; j < cols; ++j) {
      int64_t from = j;
      if (j >= embed) {
        const int64_t s = (j - embed) / width, k = (j - embed) % width;
        from = embed + s * width + from_column[size_t(k)];
      }
      p[r * cols + j] = w[r * cols + from];
    }
  return p;
}

}  // namespace mimic::interop
