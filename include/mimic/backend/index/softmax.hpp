#pragma once
// Row index math of the softmax family, shared by both backends. A tensor is viewed as
// [outer, n, inner] and reduced along n: row r = o * inner + j (o < outer, j < inner) holds the
// n elements base(r) + k * inner, k < n; its reduced value (logsumexp's y) sits at r.
#include <cstdint>

#include "mimic/core/hd.hpp"

namespace mimic::index {

struct SoftmaxRows {
  int64_t outer, n, inner;

  MIMIC_HD int64_t rows() const { return outer * inner; }
  // Flat offset of element 0 of row r; element k is at base(r) + k * step().
  MIMIC_HD int64_t base(int64_t r) const { return (r / inner) * n * inner + r % inner; }
  MIMIC_HD int64_t step() const { return inner; }
  // The row (index into the [outer, inner] reduced tensor) of flat element i.
  MIMIC_HD int64_t row_of(int64_t i) const { return (i / (n * inner)) * inner + i % inner; }
};

}  // namespace mimic::index
