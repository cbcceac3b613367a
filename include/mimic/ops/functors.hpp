#pragma once
// Elementwise math as host/device functors, shared by the CPU and CUDA backends. A unary functor
// has f(x) (the value) and df(x, y) (the derivative dy/dx given the input x and output y).
#include <cmath>

#include "mimic/core/hd.hpp"

namespace mimic::fn {

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
    return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440)));
  }
  template <class T>
  MIMIC_HD T df(T x, T) const {
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
// Mish: x * tanh(softplus(x)).
struct Mish {
  template <class T>
  MIMIC_HD T f(T x) const {
    return x * std::tanh(softplus(x));
  }
  template <class T>
  MIMIC_HD T df(T x, T) const {
    T t = std::tanh(softplus(x));
    return t + x * (T(1) - t * t) * sigmoid(x);
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
