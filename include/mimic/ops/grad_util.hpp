#pragma once
// Helpers shared by op backward functions.
#include "mimic/autograd/tape.hpp"
#include "mimic/core/broadcast.hpp"
#include "mimic/ops/functors.hpp"

namespace mimic::ops::detail {

// Writes (or adds) `full`, a gradient shaped like an op's output, into the gradient target of an
// input that was broadcast to that shape: dims the input broadcast over are summed out.
template <class T, class D>
void reduce_into(const GradTarget<T, D>& g, const Tensor<T, D>& full) {
  if (!g) return;
  const Tensor<T, D>& dst = g.tensor;
  if (dst.numel() == full.numel()) {
    if (g.accumulate)
      Kernels<D>::map(full.numel(), fn::Add{}, dst.data(), dst.data(), full.data());
    else
      Kernels<D>::copy_bytes(dst.data(), full.data(), full.bytes());
    return;
  }
  Kernels<D>::sum_to(full.shape(), full.data(), broadcast_strides(dst.shape(), full.shape()),
                     dst.data(), dst.numel(), g.accumulate);
}

// Writes (or adds) `f(src...)` elementwise into a gradient target of the same size.
template <class T, class D, class F, class... Src>
void map_into(const GradTarget<T, D>& g, const F& f, const Src*... src) {
  if (!g) return;
  if (!g.accumulate) {
    Kernels<D>::map(g.tensor.numel(), f, g.tensor.data(), src...);
  } else {
    // acc + f(src...): evaluated with the accumulator as an extra leading argument.
    Kernels<D>::map(g.tensor.numel(), fn::Accumulate<F>{f}, g.tensor.data(), g.tensor.data(),
                    src...);
  }
}

}  // namespace mimic::ops::detail
