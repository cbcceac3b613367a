#pragma once
// Swapping the two leading dims of a contiguous [n0, n1, x] tensor: the layout change between
// batch-first and channel- or time-major that convolutions and the LSTM run their GEMMs in.
#include <cstdint>

#include "mimic/backend/kernels.hpp"
#include "mimic/core/broadcast.hpp"
#include "mimic/ops/functors.hpp"

namespace mimic::ops::detail {

// dst [n1, n0, x] = src [n0, n1, x], or dst += it when `add`.
template <class T, class D>
void swap_leading(int64_t n0, int64_t n1, int64_t x, const T* src, T* dst, bool add) {
  const Shape s{n1, n0, x};
  Strides st;
  st.s[0] = x;
  st.s[1] = n1 * x;
  st.s[2] = 1;
  if (add)
    Kernels<D>::broadcast_map(s, fn::Add{}, dst, dst, contiguous_strides(s), src, st);
  else
    Kernels<D>::broadcast_map(s, fn::Identity{}, dst, src, st);
}

}  // namespace mimic::ops::detail
