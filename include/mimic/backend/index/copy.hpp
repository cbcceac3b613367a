#pragma once
// Per-element index math of the copy family (backend/contract.hpp: scatter_strided, gather,
// gather_backward), as host-and-device functions. The CUDA kernels (cuda/copy.cuh) are grid-stride
// loops around them; they read and add in the CPU backend's order (backend/cpu/copy.hpp), so the
// two agree bit for bit. Host tests run them over whole tensors against the CPU backend.
#include <cstdint>

#include "mimic/core/hd.hpp"
#include "mimic/core/shape.hpp"

namespace mimic::index {

// Offset of flat (row-major) element i of `shape` under strides `st`.
MIMIC_HD int64_t strided_offset(const Shape& shape, const Strides& st, int64_t i) {
  int64_t off = 0;
  for (int d = shape.rank - 1; d >= 0; --d) {
    const int64_t dim = shape.dims[d];
    off += (i % dim) * st.s[d];
    i /= dim;
  }
  return off;
}

// Offset in x that gather's output element i reads: i's coordinates in `shape`, with the one on
// `axis` replaced by index[i], under x's strides xs.
MIMIC_HD int64_t gather_source(const Shape& shape, int axis, const Strides& xs,
                               const int64_t* index, int64_t i) {
  int64_t off = 0, rest = i;
  for (int d = shape.rank - 1; d >= 0; --d) {
    const int64_t dim = shape.dims[d];
    off += (d == axis ? index[i] : rest % dim) * xs.s[d];
    rest /= dim;
  }
  return off;
}

// The fibers of gather_backward: the lines of `shape` along `axis`. Every output element of one
// fiber writes into the same line of gx (its coordinates off the axis are the fiber's), and
// different fibers write different lines (index's sizes off the axis are at most x's, and x's
// layout is injective), so a fiber owns the gx elements it adds to.
struct GatherFibers {
  Shape outer;         // shape without `axis`
  Strides outer_g;     // contiguous strides of `shape` on those dims (for g and index)
  Strides outer_x;     // xs on those dims (for gx)
  int64_t len = 0;     // shape[axis]
  int64_t step_g = 0;  // contiguous stride of `shape` on axis
  int64_t step_x = 0;  // xs[axis]
};
inline GatherFibers gather_fibers(const Shape& shape, int axis, const Strides& xs) {
  GatherFibers f;
  const Strides gs = contiguous_strides(shape);
  for (int d = 0; d < shape.rank; ++d) {
    if (d == axis) continue;
    f.outer_g.s[f.outer.rank] = gs[d];
    f.outer_x.s[f.outer.rank] = xs[d];
    f.outer.dims[f.outer.rank++] = shape.dims[d];
  }
  f.len = shape.rank > 0 ? shape.dims[axis] : 1;
  f.step_g = shape.rank > 0 ? gs[axis] : 0;
  f.step_x = shape.rank > 0 ? xs[axis] : 0;
  return f;
}
// gx[...] += g along fiber `fiber`, in increasing position along the axis: for each gx element
// the CPU's order (increasing flat output index).
template <class T>
MIMIC_HD void gather_backward_fiber(const GatherFibers& f, T* gx, const int64_t* index, const T* g,
                                    int64_t fiber) {
  const int64_t gbase = strided_offset(f.outer, f.outer_g, fiber);
  const int64_t xbase = strided_offset(f.outer, f.outer_x, fiber);
  for (int64_t k = 0; k < f.len; ++k) {
    const int64_t i = gbase + k * f.step_g;
    gx[xbase + index[i] * f.step_x] += g[i];
  }
}

}  // namespace mimic::index
