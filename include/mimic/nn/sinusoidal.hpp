#pragma once
// Sinusoidal position (diffusion step) embedding: for dim = 2 * half,
//   f_j = exp(-j ln(10000) / (half - 1)),  emb = [sin(t f_0..f_{half-1}), cos(t f_0..f_{half-1})].
#include <cmath>

#include "mimic/autograd/tape.hpp"

namespace mimic::nn {
namespace detail {

template <class T>
struct SinusoidalEmbed {
  const T* t;
  int64_t half;
  T neg_log_step;  // -ln(10000) / (half - 1)
  MIMIC_HD T operator()(int64_t i) const {
    const int64_t b = i / (2 * half), j = i % (2 * half);
    const int64_t k = j < half ? j : j - half;
    const T f = std::exp(T(k) * neg_log_step);  // in T, as PyTorch computes it
    const T arg = t[b] * f;
    return j < half ? std::sin(arg) : std::cos(arg);
  }
};

}  // namespace detail

// Timesteps [B] -> embedding [B, dim]. The timesteps carry no gradient.
template <class T, class D = Cpu>
struct SinusoidalPosEmb {
  int64_t dim = 0;
  SinusoidalPosEmb() = default;
  explicit SinusoidalPosEmb(int64_t dim_) : dim(dim_) {
    if (dim < 4 || dim % 2 != 0)
      throw ValueError("SinusoidalPosEmb: dim " + std::to_string(dim) + " must be even and >= 4");
  }
  Var<T, D> operator()(Var<T, D> timesteps) const {
    Tape<T, D>& tape = *timesteps.tape;
    const Tensor<T, D> t = timesteps.value();
    if (t.rank() != 1)
      throw ShapeError("SinusoidalPosEmb: timesteps must be [B], got " + t.shape().str());
    const int64_t half = dim / 2;
    Tensor<T, D> y = tape.alloc(Shape{t.dim(0), dim});
    const T step = T(-std::log(10000.0) / static_cast<double>(half - 1));
    Kernels<D>::generate(y.numel(), detail::SinusoidalEmbed<T>{t.data(), half, step}, y.data());
    return tape.constant(y);
  }
};

}  // namespace mimic::nn
