#pragma once
// Global gradient norm and clipping (torch.nn.utils.clip_grad_norm_ semantics).
#include <cmath>

#include "mimic/optim/param_ranges.hpp"

namespace mimic::optim {

// L2 norm of all gradients (padding is zero and does not count).
template <class T, class D>
double grad_norm(const nn::ParamStore<T, D>& store) {
  return std::sqrt(Kernels<D>::sum_squares(store.grads().numel(), store.grads().data()));
}

// Scales the gradients by max_norm / (norm + 1e-6) when that is below 1; returns the norm
// before clipping.
template <class T, class D>
double clip_grad_norm(const nn::ParamStore<T, D>& store, double max_norm) {
  const double norm = grad_norm(store);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1) Kernels<D>::scale(store.grads().numel(), store.grads().data(), coef);
  return norm;
}

}  // namespace mimic::optim
