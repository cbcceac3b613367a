#pragma once
// Per-element optimizer updates, written once for both backends: backend/cpu/optim.hpp runs them
// in its parallel loops, cuda/mimic/cuda/optim.cuh in grid-stride kernels, so the CPU tests
// exercise the math the GPU runs. Each takes the element's values by reference and does exactly
// the operations of the contract (backend/contract.hpp), in the same order.
#include <cmath>
#include <cstdint>

#include "mimic/backend/kernel_types.hpp"
#include "mimic/core/hd.hpp"

namespace mimic::index {

// AdamHyper converted once to the element type (what the loop body reads).
template <class T>
struct AdamCoeffs {
  T b1, b2, wd, eps, decay, step, ibc2;
  bool decoupled;
  static AdamCoeffs from(const AdamHyper& h) {
    return {T(h.beta1),
            T(h.beta2),
            T(h.weight_decay),
            T(h.eps),
            T(1.0 - h.lr * h.weight_decay),
            T(h.step_size),
            T(h.inv_sqrt_bc2),
            h.decoupled};
  }
};

// Adam / AdamW on one parameter: p, m, v updated in place from the gradient g.
template <class T>
MIMIC_HD void adam_update(T& p, T g, T& m, T& v, const AdamCoeffs<T>& c) {
  T pi = p;
  if (c.decoupled)
    pi *= c.decay;
  else
    g += c.wd * pi;
  m = c.b1 * m + (T(1) - c.b1) * g;
  v = c.b2 * v + (T(1) - c.b2) * g * g;
  p = pi - c.step * m / (std::sqrt(v) * c.ibc2 + c.eps);
}

// SGD (torch.optim.SGD, dampening 0) on one parameter; buf is touched only when momentum > 0.
template <class T>
MIMIC_HD void sgd_update(T& p, T g, T& buf, T lr, T momentum, T wd, bool use_momentum, bool first) {
  T d = g + wd * p;
  if (use_momentum) {
    buf = first ? d : momentum * buf + d;
    d = buf;
  }
  p -= lr * d;
}

// ema = d * ema + r * p, with r = 1 - decay computed in double by the caller.
template <class T>
MIMIC_HD T ema_value(T ema, T p, T d, T r) {
  return d * ema + r * p;
}

// x^2 in double: the term sum_squares adds.
template <class T>
MIMIC_HD double square_in_double(T x) {
  return double(x) * double(x);
}

}  // namespace mimic::index
