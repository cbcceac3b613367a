#pragma once
// softmax, log_softmax and logsumexp along one axis (numerically stable: the max is subtracted).
#include "mimic/autograd/tape.hpp"

namespace mimic::ops {
namespace detail {

struct AxisView {
  int64_t outer, n, inner;
};
struct SoftmaxAttrs {
  AxisView v;
  bool log;
};
inline AxisView axis_view(const Shape& s, int axis) {
  const int a = s.axis(axis);
  return {s.prod(0, a), s[a], s.prod(a + 1, s.rank)};
}

template <class T, class D>
void softmax_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  GradTarget<T, D> gx = tape.grad_target(n, 0);
  if (!gx) return;
  const SoftmaxAttrs a = n.template get<SoftmaxAttrs>();
  Kernels<D>::softmax_backward(a.v.outer, a.v.n, a.v.inner, tape.out_value(n).data(),
                               tape.out_grad(n).data(), gx.tensor.data(), a.log, gx.accumulate);
}

template <class T, class D>
Var<T, D> softmax_impl(const char* name, Var<T, D> x, int axis, bool log) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value();
  if (xv.rank() == 0) throw ShapeError(std::string(name) + ": input must have rank >= 1");
  const AxisView v = axis_view(xv.shape(), axis);
  Tensor<T, D> y = tape.alloc(xv.shape());
  Kernels<D>::softmax_forward(v.outer, v.n, v.inner, xv.data(), y.data(), log);
  const bool rg = tape.needs_grad({x});
  Var<T, D> out = tape.output(y, rg);
  if (rg) tape.record(name, &softmax_backward<T, D>, out, {x}).put(SoftmaxAttrs{v, log});
  return out;
}

template <class T, class D>
void logsumexp_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  GradTarget<T, D> gx = tape.grad_target(n, 0);
  if (!gx) return;
  const AxisView v = n.template get<AxisView>();
  Kernels<D>::logsumexp_backward(v.outer, v.n, v.inner, tape.value(tape.input(n, 0)).data(),
                                 tape.out_value(n).data(), tape.out_grad(n).data(),
                                 gx.tensor.data(), gx.accumulate);
}

}  // namespace detail

template <class T, class D>
Var<T, D> softmax(Var<T, D> x, int axis = -1) {
  return detail::softmax_impl("softmax", x, axis, false);
}
template <class T, class D>
Var<T, D> log_softmax(Var<T, D> x, int axis = -1) {
  return detail::softmax_impl("log_softmax", x, axis, true);
}

// log(sum(exp(x))) along `axis`; the axis is dropped unless keepdim.
template <class T, class D>
Var<T, D> logsumexp(Var<T, D> x, int axis = -1, bool keepdim = false) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value();
  const Shape& xs = xv.shape();
  if (xs.rank == 0) throw ShapeError("logsumexp: input must have rank >= 1");
  const int a = xs.axis(axis);
  const detail::AxisView v = detail::axis_view(xs, a);
  Shape ys;
  for (int i = 0; i < xs.rank; ++i)
    if (i != a)
      ys.push_back(xs[i]);
    else if (keepdim)
      ys.push_back(1);
  Tensor<T, D> y = tape.alloc(ys);
  Kernels<D>::logsumexp_forward(v.outer, v.n, v.inner, xv.data(), y.data());
  const bool rg = tape.needs_grad({x});
  Var<T, D> out = tape.output(y, rg);
  if (rg) tape.record("logsumexp", &detail::logsumexp_backward<T, D>, out, {x}).put(v);
  return out;
}

}  // namespace mimic::ops
