#pragma once
// Losses as compositions of differentiable ops; each returns a scalar Var (mean reduction).
#include <cmath>
#include <string>

#include "mimic/ops/binary.hpp"
#include "mimic/ops/functors.hpp"
#include "mimic/ops/gather.hpp"
#include "mimic/ops/reduce.hpp"
#include "mimic/ops/shape.hpp"
#include "mimic/ops/softmax.hpp"
#include "mimic/ops/unary.hpp"

namespace mimic::loss {
namespace detail {

template <class T, class D>
void check_same_shape(const char* name, Var<T, D> a, Var<T, D> b) {
  if (a.shape() != b.shape())
    throw ShapeError(std::string(name) + ": prediction " + a.shape().str() + " and target " +
                     b.shape().str() + " differ");
}

}  // namespace detail
}  // namespace mimic::loss

namespace mimic::fn {
// Huber / SmoothL1 on a difference d: 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta.
struct SmoothL1 {
  double beta;
  template <class T>
  MIMIC_HD T f(T d) const {
    const T a = d < T(0) ? -d : d;
    return a < T(beta) ? T(0.5) * d * d / T(beta) : a - T(0.5 * beta);
  }
  template <class T>
  MIMIC_HD T df(T d, T) const {
    const T a = d < T(0) ? -d : d;
    return a < T(beta) ? d / T(beta) : (d > T(0) ? T(1) : T(-1));
  }
};
}  // namespace mimic::fn

namespace mimic::loss {

// mean((a - b)^2)
template <class T, class D>
Var<T, D> mse(Var<T, D> pred, Var<T, D> target) {
  detail::check_same_shape("mse", pred, target);
  Var<T, D> d = pred - target;
  return ops::mean(d * d);
}

// Mean of (a - b)^2 over the elements where mask is 1; mask broadcasts to the inputs (for
// example a pad mask [B, T, 1] against actions [B, T, A]).
template <class T, class D>
Var<T, D> masked_mse(Var<T, D> pred, Var<T, D> target, Var<T, D> mask) {
  detail::check_same_shape("masked_mse", pred, target);
  Var<T, D> d = pred - target;
  const double repeat = double(pred.numel()) / double(mask.numel());
  return ops::sum(d * d * mask) / (ops::sum(mask) * repeat + 1e-12);
}

// SmoothL1 (Huber) with threshold beta, mean over elements (torch.nn.SmoothL1Loss).
template <class T, class D>
Var<T, D> smooth_l1(Var<T, D> pred, Var<T, D> target, double beta = 1.0) {
  detail::check_same_shape("smooth_l1", pred, target);
  if (!(beta > 0)) throw ValueError("smooth_l1: beta must be > 0, got " + std::to_string(beta));
  return ops::mean(ops::unary("smooth_l1", pred - target, fn::SmoothL1{beta}));
}

// mean(1 - cos(a, b)) with the cosine over the last dim (torch's eps 1e-8 on the norm product).
template <class T, class D>
Var<T, D> cosine(Var<T, D> pred, Var<T, D> target) {
  detail::check_same_shape("cosine", pred, target);
  Var<T, D> dot = ops::sum(pred * target, {-1});
  Var<T, D> na = ops::sum(pred * pred, {-1}), nb = ops::sum(target * target, {-1});
  Var<T, D> denom = ops::sqrt(ops::clamp(na * nb, 1e-16, INFINITY));
  return ops::mean(1.0 - dot / denom);
}

// robomimic's action loss: l2 * MSE + l1 * SmoothL1 + cos * cosine over the first 3 dims.
struct ActionLossWeights {
  double l2 = 1.0, l1 = 0.0, cos = 0.0;
};
template <class T, class D>
Var<T, D> action_loss(Var<T, D> pred, Var<T, D> target, const ActionLossWeights& w) {
  Var<T, D> total = ops::mul_scalar(mse(pred, target), w.l2);
  if (w.l1 != 0) total = total + ops::mul_scalar(smooth_l1(pred, target), w.l1);
  if (w.cos != 0) {
    const int last = pred.rank() - 1;
    const int64_t k = std::min<int64_t>(3, pred.dim(last));
    total =
        total + ops::mul_scalar(
                    cosine(ops::slice(pred, last, 0, k), ops::slice(target, last, 0, k)), w.cos);
  }
  return total;
}

// InfoNCE over candidate energies [B, N]: cross entropy of softmax(-E) with the true candidate
// at `label` for every row (Implicit BC).
template <class T, class D>
Var<T, D> info_nce(Var<T, D> energies, const Tensor<int64_t, D>& labels) {
  if (energies.rank() != 2 || labels.rank() != 2 || labels.dim(0) != energies.dim(0) ||
      labels.dim(1) != 1)
    throw ShapeError("info_nce: energies " + energies.shape().str() + " and labels " +
                     labels.shape().str() + " are not [B, N] and [B, 1]");
  Var<T, D> logp = ops::log_softmax(-energies, 1);
  return -ops::mean(ops::gather(logp, 1, labels));
}

}  // namespace mimic::loss
