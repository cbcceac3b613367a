#pragma once
// sum and mean over a set of axes.
#include <initializer_list>

#include "mimic/autograd/tape.hpp"
#include "mimic/ops/functors.hpp"
#include "mimic/ops/grad_util.hpp"

namespace mimic::ops {
namespace detail {

struct ReduceAttrs {
  Shape kept;    // the reduced shape with size-1 dims in place of the summed axes
  double scale;  // 1 for sum, 1 / count for mean
};

inline unsigned axes_mask(const char* op, const Shape& s, std::initializer_list<int> axes) {
  unsigned mask = 0;
  if (axes.size() == 0) return (1u << s.rank) - 1;  // no axes: all of them
  for (int a : axes) {
    int k = a < 0 ? a + s.rank : a;
    if (k < 0 || k >= s.rank)
      throw ShapeError(std::string(op) + ": axis " + std::to_string(a) +
                       " is out of range for shape " + s.str());
    if (mask & (1u << k))
      throw ShapeError(std::string(op) + ": axis " + std::to_string(a) + " given twice");
    mask |= 1u << k;
  }
  return mask;
}

template <class T, class D>
void reduce_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  const ReduceAttrs r = n.template get<ReduceAttrs>();
  GradTarget<T, D> gx = tape.grad_target(n, 0);
  if (!gx) return;
  const Shape& xs = gx.tensor.shape();
  const Strides bs = broadcast_strides(r.kept, xs);
  const T* gy = tape.out_grad(n).data();
  if (gx.accumulate)
    Kernels<D>::broadcast_map(xs, fn::AddScaled{r.scale}, gx.tensor.data(), gx.tensor.data(),
                              contiguous_strides(xs), gy, bs);
  else
    Kernels<D>::broadcast_map(xs, fn::Scale{r.scale}, gx.tensor.data(), gy, bs);
}

template <class T, class D>
Var<T, D> reduce(const char* name, Var<T, D> x, std::initializer_list<int> axes, bool keepdim,
                 bool mean) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value();
  const Shape& xs = xv.shape();
  const unsigned mask = axes_mask(name, xs, axes);
  Shape kept, dropped;
  int64_t count = 1;
  for (int i = 0; i < xs.rank; ++i) {
    const bool reduced = mask & (1u << i);
    kept.push_back(reduced ? 1 : xs[i]);
    if (!reduced) dropped.push_back(xs[i]);
    if (reduced) count *= xs[i];
  }
  const double scale = mean ? 1.0 / static_cast<double>(count) : 1.0;
  Tensor<T, D> y = tape.alloc(keepdim ? kept : dropped);
  Kernels<D>::sum_to(xs, xv.data(), broadcast_strides(kept, xs), y.data(), y.numel(), false);
  if (mean) Kernels<D>::map(y.numel(), fn::Scale{scale}, y.data(), y.data());
  const bool rg = tape.needs_grad({x});
  Var<T, D> out = tape.output(y, rg);
  if (rg) tape.record(name, &reduce_backward<T, D>, out, {x}).put(ReduceAttrs{kept, scale});
  return out;
}

}  // namespace detail

// Sum over `axes` (all axes when empty); keepdim keeps them as size 1.
template <class T, class D>
Var<T, D> sum(Var<T, D> x, std::initializer_list<int> axes = {}, bool keepdim = false) {
  return detail::reduce("sum", x, axes, keepdim, false);
}
// Mean over `axes` (all axes when empty).
template <class T, class D>
Var<T, D> mean(Var<T, D> x, std::initializer_list<int> axes = {}, bool keepdim = false) {
  return detail::reduce("mean", x, axes, keepdim, true);
}

}  // namespace mimic::ops
