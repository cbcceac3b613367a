#pragma once
// group_norm and layer_norm (PyTorch semantics, biased variance). The per-group mean and
// 1/sqrt(var + eps) are saved for backward.
#include <span>
#include <string>

#include "mimic/autograd/tape.hpp"

namespace mimic::ops {
namespace detail {

struct NormAttrs {
  int64_t rows_or_n, c_or_m, s, groups;
  bool has_gamma, has_beta;
};

template <class T, class D>
const T* data_or_null(Var<T, D> v) {
  return v.defined() ? v.value().data() : nullptr;
}

template <class T, class D>
void norm_backward(Tape<T, D>& tape, const Node<T, D>& n, bool layer) {
  const NormAttrs a = n.template get<NormAttrs>();
  const Tensor<T, D> x = tape.value(tape.input(n, 0));
  int next = 1;
  const int gi = a.has_gamma ? next++ : -1;
  const int bi = a.has_beta ? next++ : -1;
  const T* gamma = gi > 0 ? tape.value(tape.input(n, gi)).data() : nullptr;
  GradTarget<T, D> gx = tape.grad_target(n, 0);
  GradTarget<T, D> gg = gi > 0 ? tape.grad_target(n, gi) : GradTarget<T, D>{};
  GradTarget<T, D> gb = bi > 0 ? tape.grad_target(n, bi) : GradTarget<T, D>{};
  const T* mean = tape.saved(n, 0).data();
  const T* rstd = tape.saved(n, 1).data();
  const T* dy = tape.out_grad(n).data();
  if (layer)
    Kernels<D>::layer_norm_backward(a.rows_or_n, a.c_or_m, x.data(), gamma, mean, rstd, dy,
                                    gx ? gx.tensor.data() : nullptr, gx.accumulate,
                                    gg ? gg.tensor.data() : nullptr, gg.accumulate,
                                    gb ? gb.tensor.data() : nullptr, gb.accumulate);
  else
    Kernels<D>::group_norm_backward(a.rows_or_n, a.c_or_m, a.s, a.groups, x.data(), gamma, mean,
                                    rstd, dy, gx ? gx.tensor.data() : nullptr, gx.accumulate,
                                    gg ? gg.tensor.data() : nullptr, gg.accumulate,
                                    gb ? gb.tensor.data() : nullptr, gb.accumulate);
}
template <class T, class D>
void group_norm_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  norm_backward(tape, n, false);
}
template <class T, class D>
void layer_norm_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  norm_backward(tape, n, true);
}

// Records a normalization node: inputs x (+ gamma, beta when given), saved mean and rstd.
template <class T, class D, class Attrs>
Var<T, D> record_norm(const char* name, typename Node<T, D>::BackwardFn fn, Var<T, D> x,
                      Var<T, D> gamma, Var<T, D> beta, const Tensor<T, D>& y,
                      const Tensor<T, D>& mean, const Tensor<T, D>& rstd, const Attrs& a) {
  Tape<T, D>& tape = *x.tape;
  Var<T, D> ins[3] = {x};
  int k = 1;
  if (gamma.defined()) ins[k++] = gamma;
  if (beta.defined()) ins[k++] = beta;
  const std::span<const Var<T, D>> inputs(ins, k);
  const bool rg = tape.needs_grad_range(inputs);
  Var<T, D> out = tape.output(y, rg);
  if (rg) {
    const Tensor<T, D> saved[2] = {mean, rstd};
    tape.record(name, fn, out, inputs, std::span<const Tensor<T, D>>(saved, 2)).put(a);
  }
  return out;
}

}  // namespace detail

// x [N, C, *] normalized over groups of C / groups channels (and all trailing positions);
// optional per-channel gamma and beta [C].
template <class T, class D>
Var<T, D> group_norm(Var<T, D> x, int64_t groups, Var<T, D> gamma = {}, Var<T, D> beta = {},
                     double eps = 1e-5) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value();
  const Shape& xs = xv.shape();
  if (xs.rank < 2) throw ShapeError("group_norm: input " + xs.str() + " needs shape [N, C, *]");
  const int64_t n = xs[0], c = xs[1], s = xs.prod(2, xs.rank);
  if (groups <= 0 || c % groups != 0)
    throw ValueError("group_norm: " + std::to_string(groups) + " groups do not divide " +
                     std::to_string(c) + " channels of input " + xs.str());
  for (Var<T, D> p : {gamma, beta})
    if (p.defined() && (p.rank() != 1 || p.dim(0) != c))
      throw ShapeError("group_norm: affine parameter " + p.shape().str() + " does not match " +
                       std::to_string(c) + " channels of input " + xs.str());
  Tensor<T, D> y = tape.alloc(xs);
  Tensor<T, D> mean = tape.alloc(Shape{n, groups}), rstd = tape.alloc(Shape{n, groups});
  Kernels<D>::group_norm_forward(n, c, s, groups, xv.data(), detail::data_or_null(gamma),
                                 detail::data_or_null(beta), eps, y.data(), mean.data(),
                                 rstd.data());
  return detail::record_norm("group_norm", &detail::group_norm_backward<T, D>, x, gamma, beta, y,
                             mean, rstd,
                             detail::NormAttrs{n, c, s, groups, gamma.defined(), beta.defined()});
}

// Normalizes over the last `normalized_dims` dims; gamma and beta (optional) have their shape.
template <class T, class D>
Var<T, D> layer_norm(Var<T, D> x, int normalized_dims, Var<T, D> gamma = {}, Var<T, D> beta = {},
                     double eps = 1e-5) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value();
  const Shape& xs = xv.shape();
  if (normalized_dims < 1 || normalized_dims > xs.rank)
    throw ShapeError("layer_norm: cannot normalize the last " + std::to_string(normalized_dims) +
                     " dims of input " + xs.str());
  const int lead = xs.rank - normalized_dims;
  const int64_t rows = xs.prod(0, lead), m = xs.prod(lead, xs.rank);
  Shape ns;
  for (int i = lead; i < xs.rank; ++i) ns.push_back(xs[i]);
  for (Var<T, D> p : {gamma, beta})
    if (p.defined() && p.shape() != ns)
      throw ShapeError("layer_norm: affine parameter " + p.shape().str() +
                       " does not match normalized shape " + ns.str() + " of input " + xs.str());
  Tensor<T, D> y = tape.alloc(xs);
  Tensor<T, D> mean = tape.alloc(Shape{rows}), rstd = tape.alloc(Shape{rows});
  Kernels<D>::layer_norm_forward(rows, m, xv.data(), detail::data_or_null(gamma),
                                 detail::data_or_null(beta), eps, y.data(), mean.data(),
                                 rstd.data());
  return detail::record_norm("layer_norm", &detail::layer_norm_backward<T, D>, x, gamma, beta, y,
                             mean, rstd,
                             detail::NormAttrs{rows, m, 1, 1, gamma.defined(), beta.defined()});
}

}  // namespace mimic::ops
