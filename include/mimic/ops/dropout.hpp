#pragma once
// Inverted dropout: keep each element with probability 1 - p and scale it by 1 / (1 - p). The
// mask is element i of a Philox stream, so backward regenerates it instead of storing it.
#include <string>

#include "mimic/autograd/tape.hpp"
#include "mimic/core/philox.hpp"

namespace mimic::ops {
namespace detail {

struct DropoutAttrs {
  uint64_t seed, offset;
  double p;
};

// Elements [begin, end) of out = (acc +) in * mask / (1 - p), the uniforms drawn a run at a time
// (each Philox block once): the CPU launcher's path, same values as operator() below.
template <class T>
void dropout_run(const DropoutAttrs& a, const T* in, const T* acc, int64_t begin, int64_t end,
                 T* out) {
  constexpr int64_t kRun = 256;
  uint32_t raw[2 * kRun];
  T u[kRun];
  const T p = T(a.p), scale = T(1.0 / (1.0 - a.p));
  for (int64_t s = begin; s < end; s += kRun) {
    const int64_t len = end - s < kRun ? end - s : kRun;
    philox_uniform_run<T>(a.seed, a.offset + static_cast<uint64_t>(s), len, raw, u);
    for (int64_t j = 0; j < len; ++j) {
      const T kept = u[j] < p ? T(0) : in[s + j] * scale;
      out[s + j] = acc ? acc[s + j] + kept : kept;
    }
  }
}

// out[i] = in[i] * mask(i) / (1 - p)
template <class T>
struct DropoutApply {
  const T* in;
  DropoutAttrs a;
  MIMIC_HD T operator()(int64_t i) const {
    const T u = philox_uniform<T>(a.seed, a.offset + static_cast<uint64_t>(i));
    return u < T(a.p) ? T(0) : in[i] * T(1.0 / (1.0 - a.p));
  }
  void run(int64_t begin, int64_t end, T* out) const {
    dropout_run<T>(a, in, nullptr, begin, end, out);
  }
};
template <class T>
struct DropoutApplyAdd {
  const T* in;
  const T* acc;
  DropoutAttrs a;
  MIMIC_HD T operator()(int64_t i) const { return acc[i] + DropoutApply<T>{in, a}(i); }
  void run(int64_t begin, int64_t end, T* out) const {
    dropout_run<T>(a, in, acc, begin, end, out);
  }
};

template <class T, class D>
void dropout_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  GradTarget<T, D> gx = tape.grad_target(n, 0);
  if (!gx) return;
  const DropoutAttrs a = n.template get<DropoutAttrs>();
  const T* gy = tape.out_grad(n).data();
  if (gx.accumulate)
    Kernels<D>::generate(gx.tensor.numel(), DropoutApplyAdd<T>{gy, gx.tensor.data(), a},
                         gx.tensor.data());
  else
    Kernels<D>::generate(gx.tensor.numel(), DropoutApply<T>{gy, a}, gx.tensor.data());
}

}  // namespace detail

// Identity when !training or p == 0. Consumes numel elements of `rng`'s stream when active.
template <class T, class D>
Var<T, D> dropout(Var<T, D> x, double p, PhiloxStream& rng, bool training) {
  if (!(p >= 0.0 && p < 1.0))
    throw ValueError("dropout: probability " + std::to_string(p) + " is outside [0, 1)");
  if (!training || p == 0.0) return x;
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value();
  const detail::DropoutAttrs a{rng.seed, rng.advance(static_cast<uint64_t>(xv.numel())), p};
  Tensor<T, D> y = tape.alloc(xv.shape());
  Kernels<D>::generate(xv.numel(), detail::DropoutApply<T>{xv.data(), a}, y.data());
  const bool rg = tape.needs_grad({x});
  Var<T, D> out = tape.output(y, rg);
  if (rg) tape.record("dropout", &detail::dropout_backward<T, D>, out, {x}).put(a);
  return out;
}

}  // namespace mimic::ops
