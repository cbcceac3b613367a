#pragma once
// batch_norm (PyTorch's F.batch_norm) on x [N, C, *]. In training it normalizes with the batch
// statistics and moves the running ones by `momentum` (running variance unbiased, as PyTorch);
// in evaluation it uses the running statistics, which makes it a per-channel affine map.
#include <string>

#include "mimic/ops/norm.hpp"

namespace mimic::ops {
namespace detail {

struct BatchNormAttrs {
  int64_t n, c, s;
  bool training, has_gamma, has_beta;
};

template <class T, class D>
void batch_norm_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  const BatchNormAttrs a = n.template get<BatchNormAttrs>();
  int next = 1;
  const int gi = a.has_gamma ? next++ : -1;
  const int bi = a.has_beta ? next++ : -1;
  GradTarget<T, D> gx = tape.grad_target(n, 0);
  GradTarget<T, D> gg = gi > 0 ? tape.grad_target(n, gi) : GradTarget<T, D>{};
  GradTarget<T, D> gb = bi > 0 ? tape.grad_target(n, bi) : GradTarget<T, D>{};
  Kernels<D>::batch_norm_backward(a.n, a.c, a.s, a.training, tape.value(tape.input(n, 0)).data(),
                                  gi > 0 ? tape.value(tape.input(n, gi)).data() : nullptr,
                                  tape.saved(n, 0).data(), tape.saved(n, 1).data(),
                                  tape.out_grad(n).data(), gx ? gx.tensor.data() : nullptr,
                                  gx.accumulate, gg ? gg.tensor.data() : nullptr, gg.accumulate,
                                  gb ? gb.tensor.data() : nullptr, gb.accumulate);
}

}  // namespace detail

// running_mean / running_var [C] are updated in place in training (pass undefined tensors to
// always use batch statistics, as PyTorch's track_running_stats=False); gamma, beta [C] optional.
template <class T, class D>
Var<T, D> batch_norm(Var<T, D> x, Var<T, D> gamma, Var<T, D> beta, const Tensor<T, D>& running_mean,
                     const Tensor<T, D>& running_var, bool training, double momentum = 0.1,
                     double eps = 1e-5) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value();
  const Shape& xs = xv.shape();
  if (xs.rank < 2)
    throw ShapeError("batch_norm: input " + xs.str() + " has no channel axis (expected [N, C, *])");
  const int64_t n = xs[0], c = xs[1], s = xs.numel() / (n * c > 0 ? n * c : 1);
  auto check_vec = [&](const char* what, const Shape& shape) {
    if (shape.rank != 1 || shape[0] != c)
      throw ShapeError(std::string("batch_norm: ") + what + " " + shape.str() + " does not match " +
                       std::to_string(c) + " channels of input " + xs.str());
  };
  if (gamma.defined()) check_vec("weight", gamma.shape());
  if (beta.defined()) check_vec("bias", beta.shape());
  if (running_mean.defined()) check_vec("running_mean", running_mean.shape());
  if (running_var.defined()) check_vec("running_var", running_var.shape());
  const bool batch_stats = training || !running_mean.defined() || !running_var.defined();
  if (batch_stats && n * s <= 1)
    throw ShapeError("batch_norm: input " + xs.str() +
                     " has one value per channel; batch statistics need more than one");
  if (!(momentum >= 0.0 && momentum <= 1.0) || !(eps > 0.0))
    throw ValueError("batch_norm: momentum " + std::to_string(momentum) + ", eps " +
                     std::to_string(eps) + " (expected momentum in [0, 1] and eps > 0)");
  Tensor<T, D> mean = tape.alloc(Shape{c}), rstd = tape.alloc(Shape{c});
  if (batch_stats) {
    Kernels<D>::batch_norm_stats(n, c, s, xv.data(), mean.data(), rstd.data());
    Kernels<D>::batch_norm_update(
        c, n * s, momentum, eps, mean.data(), rstd.data(),
        training && running_mean.defined() ? running_mean.data() : nullptr,
        training && running_var.defined() ? running_var.data() : nullptr);
  } else {
    mean.copy_from(running_mean);
    Kernels<D>::batch_norm_eval_rstd(c, eps, running_var.data(), rstd.data());
  }
  Tensor<T, D> y = tape.alloc(xs);
  Kernels<D>::batch_norm_apply(n, c, s, xv.data(), mean.data(), rstd.data(),
                               detail::data_or_null(gamma), detail::data_or_null(beta), y.data());
  return detail::record_norm(
      "batch_norm", &detail::batch_norm_backward<T, D>, x, gamma, beta, y, mean, rstd,
      detail::BatchNormAttrs{n, c, s, batch_stats, gamma.defined(), beta.defined()});
}

}  // namespace mimic::ops
