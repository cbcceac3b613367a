#pragma once
#include <string>

#include "mimic/core/error.hpp"
#include "mimic/core/shape.hpp"

namespace mimic {

// NumPy broadcasting: shapes are aligned at their last dimension; each pair of dims must be equal
// or one of them 1.
inline Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  Shape out;
  out.rank = a.rank > b.rank ? a.rank : b.rank;
  for (int i = 0; i < out.rank; ++i) {
    int ia = a.rank - out.rank + i, ib = b.rank - out.rank + i;
    int64_t da = ia >= 0 ? a.dims[ia] : 1, db = ib >= 0 ? b.dims[ib] : 1;
    if (da != db && da != 1 && db != 1)
      throw ShapeError(std::string(op) + ": shapes " + a.str() + " and " + b.str() +
                       " cannot be broadcast together");
    out.dims[i] = da == 1 ? db : da;
  }
  return out;
}

// Element strides of `in` read as a tensor of shape `out` (rank out.rank): 0 along dims that are
// broadcast. `in` must be broadcastable to `out`.
inline Strides broadcast_strides(const Shape& in, const Shape& out) {
  Strides contiguous = contiguous_strides(in);
  Strides st;
  for (int i = 0; i < out.rank; ++i) {
    int k = in.rank - out.rank + i;
    st.s[i] = (k < 0 || in.dims[k] == 1) ? 0 : contiguous.s[k];
  }
  return st;
}

// Walks a multi-index over `shape` in row-major order, keeping up to three linear offsets in step
// (for example output, input a, input b) with their own strides.
struct NdCounter {
  Shape shape;
  int64_t idx[kMaxRank] = {0, 0, 0, 0, 0, 0};

  explicit NdCounter(const Shape& s) : shape(s) {}
  // Positions the counter at flat index `flat`.
  void seek(int64_t flat) {
    for (int i = shape.rank - 1; i >= 0; --i) {
      int64_t d = shape.dims[i] == 0 ? 1 : shape.dims[i];
      idx[i] = flat % d;
      flat /= d;
    }
  }
  int64_t offset(const Strides& st) const {
    int64_t o = 0;
    for (int i = 0; i < shape.rank; ++i) o += idx[i] * st.s[i];
    return o;
  }
  // Advances by one element; returns the innermost dim that changed (for incremental offsets).
  void next() {
    for (int i = shape.rank - 1; i >= 0; --i) {
      if (++idx[i] < shape.dims[i]) return;
      idx[i] = 0;
    }
  }
};

}  // namespace mimic
