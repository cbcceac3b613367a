#pragma once
// Action chunks [B, T, A] against the ones an original framework recorded as nested JSON lists:
// the largest of |got - want| / max(1, |want|), or infinity when the shapes differ.
#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "mimic/core/tensor.hpp"

namespace mimic::testing {

inline double largest_relative_difference(const Tensor<float>& got, const nlohmann::json& want) {
  const double mismatch = std::numeric_limits<double>::infinity();
  if (got.rank() != 3 || !want.is_array() || int64_t(want.size()) != got.dim(0)) return mismatch;
  double worst = 0;
  for (int64_t i = 0; i < got.dim(0); ++i) {
    if (int64_t(want[i].size()) != got.dim(1)) return mismatch;
    for (int64_t t = 0; t < got.dim(1); ++t) {
      if (int64_t(want[i][t].size()) != got.dim(2)) return mismatch;
      for (int64_t k = 0; k < got.dim(2); ++k) {
        const double w = want[i][t][k].get<double>();
        const double g = got[(i * got.dim(1) + t) * got.dim(2) + k];
        worst = std::max(worst, std::abs(g - w) / std::max(1.0, std::abs(w)));
      }
    }
  }
  return worst;
}

}  // namespace mimic::testing
