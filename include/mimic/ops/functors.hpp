#pragma once
// Elementwise math as host/device functors, shared by the CPU and CUDA backends. A unary functor
// has f(x) (the value) and df(x, y) (the derivative dy/dx given the input x and output y).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "mimic/core/hd.hpp"

namespace mimic::fn {

// e^x for float without a libm call, so that loops over it vectorize (libm's expf is a scalar
// call: a Mish over 16M floats spent 13% of a UNet training step in expm1f/log1pf/tanhf).
// Cephes' method: x = n ln2 + r with |r| <= ln2 / 2, e^r by a degree-6 polynomial (about 1 ulp),
// 2^n through the exponent bits. Valid on [-87.3, 88.3]: 0 below, e^88.3 above (internal uses
// clamp far below that); NaN passes through.
// Doubles, and device code, use std::exp.
template <class T>
MIMIC_HD T exp_fast(T x) {
#if defined(__CUDA_ARCH__)
  return std::exp(x);
#else
  if constexpr (std::is_same_v<T, float>) {
    const float in = x;
    x = x > -87.3f ? x : -87.3f;  // NaN-safe clamp: comparisons with NaN are false
    x = x < 88.3f ? x : 88.3f;
    // n = round(x / ln2) without float<->int conversions, which GCC will not vectorize under the
    // default -ftrapping-math: adding 1.5 * 2^23 rounds to an integer held in the low mantissa
    // bits. (-ffast-math could fold (a + C) - C, so there n comes from the integer instead.)
    const float shifted = x * 1.44269504088896341f + 12582912.0f;
    int32_t shifted_bits;
    std::memcpy(&shifted_bits, &shifted, sizeof(shifted_bits));
    const int32_t ni = shifted_bits - 0x4B400000;
#if defined(__FAST_MATH__)
    const float n = static_cast<float>(ni);
#else
    const float n = shifted - 12582912.0f;
#endif
    float r = x - n * 0.693359375f;  // ln2 in two parts: the first is exact in float
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float er = p * r * r + r + 1.0f;
    const int32_t bits = (ni + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof(scale));
    // Below -87.3 the result would be subnormal: 0, as expf gives a little later. NaN stays NaN.
    return in < -87.3f ? 0.0f : (in == in ? er * scale : in);
  } else {
    return std::exp(x);
  }
#endif
}

// GELU's two parts for float without libm calls, so the loops over them vectorize (robomimic's
// GPT at batch 100 evaluates 12M GELUs forward and as many derivatives per step; libm's erff is
// a scalar call of several ns): cdf2 = 1 + erf(x / sqrt 2) and gauss = e^{-x^2 / 2}. The CUDA
// kernels run the same formula, so both backends agree to exp's last bit.
// With z = |x| / sqrt 2 (clamped to 10, where erfc is below float's range), erfc(z) =
// e^{-z^2} Q(t), t = 1 / (1 + z / 2), Q of degree 10 fitted in relative error over [0, 10]
// (tests/reference/fit_gelu_erfc.py); the rounding errors of z and z^2 are put back by fmas. For x
// < 0, 1 + erf(-z) = erfc(z) keeps its relative accuracy where 1 + erf would cancel: GELU is within
// 4e-7 relative of double everywhere (float's 1 + erf form loses 1e-5 already at x = -3).
struct GeluParts {
  float cdf2, gauss;
};
MIMIC_HD GeluParts gelu_parts_fast(float x) {
  // z = |x| / sqrt 2 as z + z_low: ln erfc changes by 2 z^2 per relative change of z, so z's own
  // rounding (6e-8) would cost 8e-6 relative at z = 8.
  const float ax = x < 0.f ? -x : x;
  float z = ax * 0.70710678118654752f;
  const float z_low = std::fma(ax, 0.70710678118654752f, -z) + ax * 1.2101617e-08f;
  z = z < 10.f ? z : 10.f;  // NaN stays NaN
  const float t = 1.f / (1.f + 0.5f * z);
  float q = 0.02916046604514122f;
  q = q * t - 0.21760542690753937f;
  q = q * t + 0.6589779853820801f;
  q = q * t - 0.9913491606712341f;
  q = q * t + 0.7052550911903381f;
  q = q * t - 0.2638104259967804f;
  q = q * t + 0.28978535532951355f;
  q = q * t + 0.22227665781974792f;
  q = q * t + 0.28547221422195435f;
  q = q * t + 0.2818281054496765f;
  q = q * t + 9.17899433261482e-06f;
  const float zz = z * z, zz_error = std::fma(z, z, -zz) + 2.f * z * z_low;
  const float gauss = exp_fast(-zz) * (1.f - zz_error);
  const float erfc = gauss * q;
  return {x < 0.f ? erfc : 2.f - erfc, gauss};
}

template <class T>
MIMIC_HD T sigmoid(T x) {
  // Split by sign so exp never overflows.
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  T e = std::exp(x);
  return e / (T(1) + e);
}
// PyTorch's softplus with beta 1 and threshold 20: linear above the threshold.
template <class T>
MIMIC_HD T softplus(T x) {
  return x > T(20) ? x : std::log1p(std::exp(x));
}

struct Neg {
  template <class T>
  MIMIC_HD T f(T x) const {
    return -x;
  }
  template <class T>
  MIMIC_HD T df(T, T) const {
    return T(-1);
  }
};
struct Exp {
  template <class T>
  MIMIC_HD T f(T x) const {
    return std::exp(x);
  }
  template <class T>
  MIMIC_HD T df(T, T y) const {
    return y;
  }
};
struct Log {
  template <class T>
  MIMIC_HD T f(T x) const {
    return std::log(x);
  }
  template <class T>
  MIMIC_HD T df(T x, T) const {
    return T(1) / x;
  }
};
struct Sqrt {
  template <class T>
  MIMIC_HD T f(T x) const {
    return std::sqrt(x);
  }
  template <class T>
  MIMIC_HD T df(T, T y) const {
    return T(0.5) / y;
  }
};
struct Abs {
  template <class T>
  MIMIC_HD T f(T x) const {
    return std::abs(x);
  }
  template <class T>
  MIMIC_HD T df(T x, T) const {
    return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
  }
};
// x ** p for a scalar exponent p.
struct PowScalar {
  double p;
  template <class T>
  MIMIC_HD T f(T x) const {
    return std::pow(x, T(p));
  }
  template <class T>
  MIMIC_HD T df(T x, T) const {
    return p == 0.0 ? T(0) : T(p) * std::pow(x, T(p - 1.0));
  }
};
// Gradient passes where lo <= x <= hi, as in PyTorch.
struct Clamp {
  double lo, hi;
  template <class T>
  MIMIC_HD T f(T x) const {
    return x < T(lo) ? T(lo) : (x > T(hi) ? T(hi) : x);
  }
  template <class T>
  MIMIC_HD T df(T x, T) const {
    return (x >= T(lo) && x <= T(hi)) ? T(1) : T(0);
  }
};
struct AddScalar {
  double c;
  template <class T>
  MIMIC_HD T f(T x) const {
    return x + T(c);
  }
  template <class T>
  MIMIC_HD T df(T, T) const {
    return T(1);
  }
};
struct MulScalar {
  double c;
  template <class T>
  MIMIC_HD T f(T x) const {
    return x * T(c);
  }
  template <class T>
  MIMIC_HD T df(T, T) const {
    return T(c);
  }
};
// c - x
struct RsubScalar {
  double c;
  template <class T>
  MIMIC_HD T f(T x) const {
    return T(c) - x;
  }
  template <class T>
  MIMIC_HD T df(T, T) const {
    return T(-1);
  }
};
// c / x
struct RdivScalar {
  double c;
  template <class T>
  MIMIC_HD T f(T x) const {
    return T(c) / x;
  }
  template <class T>
  MIMIC_HD T df(T x, T y) const {
    return -y / x;
  }
};

struct Relu {
  template <class T>
  MIMIC_HD T f(T x) const {
    return x > T(0) ? x : T(0);
  }
  template <class T>
  MIMIC_HD T df(T x, T) const {
    return x > T(0) ? T(1) : T(0);
  }
};
struct LeakyRelu {
  double slope;
  template <class T>
  MIMIC_HD T f(T x) const {
    return x > T(0) ? x : T(slope) * x;
  }
  template <class T>
  MIMIC_HD T df(T x, T) const {
    return x > T(0) ? T(1) : T(slope);
  }
};
struct Elu {
  double alpha;
  template <class T>
  MIMIC_HD T f(T x) const {
    return x > T(0) ? x : T(alpha) * (std::exp(x) - T(1));
  }
  template <class T>
  MIMIC_HD T df(T x, T y) const {
    return x > T(0) ? T(1) : y + T(alpha);
  }
};
// Exact GELU: x * Phi(x), Phi the standard normal CDF (PyTorch's default).
struct Gelu {
  template <class T>
  MIMIC_HD T f(T x) const {
    if constexpr (std::is_same_v<T, float>) return 0.5f * x * gelu_parts_fast(x).cdf2;
    return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440)));
  }
  template <class T>
  MIMIC_HD T df(T x, T) const {
    if constexpr (std::is_same_v<T, float>) {
      const GeluParts g = gelu_parts_fast(x);
      return 0.5f * g.cdf2 + x * 0.39894228040143267794f * g.gauss;
    }
    T cdf = T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752440)));
    T pdf = T(0.39894228040143267794) * std::exp(T(-0.5) * x * x);
    return cdf + x * pdf;
  }
};
// GELU with the tanh approximation (PyTorch approximate='tanh').
struct GeluTanh {
  template <class T>
  MIMIC_HD T f(T x) const {
    T u = T(0.79788456080286535588) * (x + T(0.044715) * x * x * x);
    return T(0.5) * x * (T(1) + std::tanh(u));
  }
  template <class T>
  MIMIC_HD T df(T x, T) const {
    T u = T(0.79788456080286535588) * (x + T(0.044715) * x * x * x);
    T t = std::tanh(u);
    T du = T(0.79788456080286535588) * (T(1) + T(3 * 0.044715) * x * x);
    return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du;
  }
};
struct Silu {
  template <class T>
  MIMIC_HD T f(T x) const {
    return x * sigmoid(x);
  }
  template <class T>
  MIMIC_HD T df(T x, T) const {
    T s = sigmoid(x);
    return s * (T(1) + x * (T(1) - s));
  }
};
// Mish: x * tanh(softplus(x)). With e = e^x and n = e (e + 2), tanh(log(1 + e)) = n / (n + 2),
// so one exponential gives the value, and 1 - tanh^2 = 4 (n + 1) / (n + 2)^2 and
// sigmoid(x) = e / (1 + e) give the derivative. Above x = 20 (softplus's threshold) the value is
// x and the derivative 1, as in float arithmetic.
struct Mish {
  template <class T>
  MIMIC_HD T f(T x) const {
    const T e = exp_fast(x < T(20) ? x : T(20));
    const T n = e * (e + T(2));
    return x > T(20) ? x : x * n / (n + T(2));
  }
  template <class T>
  MIMIC_HD T df(T x, T) const {
    const T e = exp_fast(x < T(20) ? x : T(20));
    const T n = e * (e + T(2)), d = n + T(2);
    const T t = n / d, sech2 = T(4) * (n + T(1)) / (d * d), s = e / (T(1) + e);
    return x > T(20) ? T(1) : t + x * sech2 * s;
  }
};
struct Tanh {
  template <class T>
  MIMIC_HD T f(T x) const {
    return std::tanh(x);
  }
  template <class T>
  MIMIC_HD T df(T, T y) const {
    return T(1) - y * y;
  }
};
struct Sigmoid {
  template <class T>
  MIMIC_HD T f(T x) const {
    return sigmoid(x);
  }
  template <class T>
  MIMIC_HD T df(T, T y) const {
    return y * (T(1) - y);
  }
};
struct Softplus {
  template <class T>
  MIMIC_HD T f(T x) const {
    return softplus(x);
  }
  template <class T>
  MIMIC_HD T df(T x, T) const {
    return x > T(20) ? T(1) : sigmoid(x);
  }
};

// Adapters that turn a unary functor into the map() callables used by the kernels.
template <class F>
struct Forward {
  F op;
  template <class T>
  MIMIC_HD T operator()(T x) const {
    return op.f(x);
  }
};
// gx = gy * df(x, y)
template <class F>
struct BackwardSet {
  F op;
  template <class T>
  MIMIC_HD T operator()(T x, T y, T gy) const {
    return gy * op.df(x, y);
  }
};
// acc + f(args...): turns any map callable into its accumulating form.
template <class F>
struct Accumulate {
  F op;
  template <class T, class... A>
  MIMIC_HD T operator()(T acc, A... a) const {
    return acc + op(a...);
  }
};

// Binary arithmetic.
struct Add {
  template <class T>
  MIMIC_HD T operator()(T a, T b) const {
    return a + b;
  }
};
struct Sub {
  template <class T>
  MIMIC_HD T operator()(T a, T b) const {
    return a - b;
  }
};
struct Mul {
  template <class T>
  MIMIC_HD T operator()(T a, T b) const {
    return a * b;
  }
};
struct Div {
  template <class T>
  MIMIC_HD T operator()(T a, T b) const {
    return a / b;
  }
};
// Elementwise minimum and maximum (NaN propagates, as torch.minimum / torch.maximum), and the
// share of the output's gradient that reaches the first argument: all of it where it was
// chosen alone, half on a tie (torch's rule), none otherwise.
struct Min {
  template <class T>
  MIMIC_HD T operator()(T a, T b) const {
    return (a < b || a != a) ? a : b;
  }
};
struct Max {
  template <class T>
  MIMIC_HD T operator()(T a, T b) const {
    return (a > b || a != a) ? a : b;
  }
};
struct MinShare {
  template <class T>
  MIMIC_HD T operator()(T a, T b) const {
    return a < b ? T(1) : (a == b ? T(0.5) : T(0));
  }
};
struct MaxShare {
  template <class T>
  MIMIC_HD T operator()(T a, T b) const {
    return a > b ? T(1) : (a == b ? T(0.5) : T(0));
  }
};
// First argument passed through (copy), or scaled.
struct Identity {
  template <class T>
  MIMIC_HD T operator()(T a) const {
    return a;
  }
};
struct Scale {
  double c;
  template <class T>
  MIMIC_HD T operator()(T a) const {
    return a * T(c);
  }
};
// acc + c * a
struct AddScaled {
  double c;
  template <class T>
  MIMIC_HD T operator()(T acc, T a) const {
    return acc + T(c) * a;
  }
};
// -gy * y / b : gradient of a / b with respect to b, given y = a / b.
struct DivGradB {
  template <class T>
  MIMIC_HD T operator()(T gy_y, T b) const {
    return -gy_y / b;
  }
};

}  // namespace mimic::fn
