#pragma once
// gather along an axis (torch.gather): out[i][j][k] = x[i][index[i][j][k]][k] for axis 1.
#include <string>
#include <vector>

#include "mimic/autograd/tape.hpp"

namespace mimic::ops {
namespace detail {

struct GatherAttrs {
  const int64_t* index;  // a copy in the tape's arena, alive until reset()
  int axis;
};

template <class T, class D>
void gather_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  GradTarget<T, D> gx = tape.grad_target(n, 0);
  if (!gx) return;
  const GatherAttrs a = n.template get<GatherAttrs>();
  if (!gx.accumulate) gx.tensor.zero();
  const Tensor<T, D>& gy = tape.out_grad(n);
  Kernels<D>::gather_backward(gy.shape(), a.axis, gx.tensor.data(),
                              contiguous_strides(gx.tensor.shape()), a.index, gy.data());
}

}  // namespace detail

// `index` has x's rank, sizes no larger than x's outside `axis`, and values in [0, x.dim(axis)).
template <class T, class D>
Var<T, D> gather(Var<T, D> x, int axis, const Tensor<int64_t, D>& index) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value();
  const Shape& xs = xv.shape();
  const Shape& is = index.shape();
  const int a = xs.axis(axis);
  bool ok = is.rank == xs.rank;
  for (int d = 0; ok && d < xs.rank; ++d) ok = d == a || is[d] <= xs[d];
  if (!ok)
    throw ShapeError("gather: index shape " + is.str() + " does not fit input shape " + xs.str() +
                     " along axis " + std::to_string(axis));
  // Copy the indices so backward does not depend on the caller's buffer; validate on the host.
  Tensor<int64_t, D> idx = tape.template alloc_as<int64_t>(is);
  idx.copy_from(index);
  // (A GPU copies them down first: the kernel must never read outside x. Every use so far
  // gathers one label per batch row, a few hundred bytes.)
  const auto check = [&](const int64_t* v, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
      if (v[i] < 0 || v[i] >= xs[a])
        throw ValueError("gather: index " + std::to_string(v[i]) + " is out of range [0, " +
                         std::to_string(xs[a]) + ") for input shape " + xs.str());
  };
  if constexpr (is_cpu_v<D>) {
    check(idx.data(), idx.numel());
  } else {
    const std::vector<int64_t> host = idx.to_vector();
    check(host.data(), int64_t(host.size()));
  }
  Tensor<T, D> y = tape.alloc(is);
  Kernels<D>::gather(is, a, xv.data(), contiguous_strides(xs), idx.data(), y.data());
  const bool rg = tape.needs_grad({x});
  Var<T, D> out = tape.output(y, rg);
  if (rg)
    tape.record("gather", &detail::gather_backward<T, D>, out, {x})
        .put(detail::GatherAttrs{idx.data(), a});
  return out;
}

}  // namespace mimic::ops
