#pragma once
// Softmax-family kernels over one axis of a tensor viewed as [outer, n, inner].
// Each row of n values is read twice and written once (~12n bytes in float), bound by memory.
#include <cmath>
#include <cstdint>
#include <limits>

#include "mimic/backend/cpu/parallel.hpp"

namespace mimic::cpu {

struct Softmax {
  // y = softmax(x) (or log_softmax when `log`) along the middle axis.
  template <class T>
  static void softmax_forward(int64_t outer, int64_t n, int64_t inner, const T* x, T* y, bool log) {
    for_each_row(outer, n, inner, [&](int64_t base, int64_t step) {
      T mx = -std::numeric_limits<T>::infinity();
      for (int64_t k = 0; k < n; ++k) mx = std::max(mx, x[base + k * step]);
      if (mx == -std::numeric_limits<T>::infinity()) mx = T(0);  // all -inf: avoid inf - inf
      T sum = T(0);
      for (int64_t k = 0; k < n; ++k) sum += std::exp(x[base + k * step] - mx);
      if (log) {
        const T lse = mx + std::log(sum);
        for (int64_t k = 0; k < n; ++k) y[base + k * step] = x[base + k * step] - lse;
      } else {
        const T inv = T(1) / sum;
        for (int64_t k = 0; k < n; ++k)
          y[base + k * step] = std::exp(x[base + k * step] - mx) * inv;
      }
    });
  }
  // Softmax: gx = y * (gy - sum(gy * y)); log-softmax: gx = gy - exp(y) * sum(gy).
  template <class T>
  static void softmax_backward(int64_t outer, int64_t n, int64_t inner, const T* y, const T* gy,
                               T* gx, bool log, bool accumulate) {
    for_each_row(outer, n, inner, [&](int64_t base, int64_t step) {
      T dot = T(0);
      for (int64_t k = 0; k < n; ++k) {
        const int64_t i = base + k * step;
        dot += log ? gy[i] : gy[i] * y[i];
      }
      for (int64_t k = 0; k < n; ++k) {
        const int64_t i = base + k * step;
        const T g = log ? gy[i] - std::exp(y[i]) * dot : y[i] * (gy[i] - dot);
        gx[i] = accumulate ? gx[i] + g : g;
      }
    });
  }
  // y[row] = log(sum(exp(x))) along the middle axis; y has outer * inner elements.
  template <class T>
  static void logsumexp_forward(int64_t outer, int64_t n, int64_t inner, const T* x, T* y) {
    for_each_row(outer, n, inner, [&](int64_t base, int64_t step) {
      T mx = -std::numeric_limits<T>::infinity();
      for (int64_t k = 0; k < n; ++k) mx = std::max(mx, x[base + k * step]);
      const int64_t o = base / (n * inner), j = base % inner;
      if (mx == -std::numeric_limits<T>::infinity()) {
        y[o * inner + j] = mx;
        return;
      }
      T sum = T(0);
      for (int64_t k = 0; k < n; ++k) sum += std::exp(x[base + k * step] - mx);
      y[o * inner + j] = mx + std::log(sum);
    });
  }
  // gx = gy * exp(x - y) with y, gy broadcast along the middle axis.
  template <class T>
  static void logsumexp_backward(int64_t outer, int64_t n, int64_t inner, const T* x, const T* y,
                                 const T* gy, T* gx, bool accumulate) {
    for_each_row(outer, n, inner, [&](int64_t base, int64_t step) {
      const int64_t r = (base / (n * inner)) * inner + base % inner;
      for (int64_t k = 0; k < n; ++k) {
        const int64_t i = base + k * step;
        const T g = gy[r] * std::exp(x[i] - y[r]);
        gx[i] = accumulate ? gx[i] + g : g;
      }
    });
  }

 private:
  // Calls fn(base, step) for every row: element k of the row is at base + k * step.
  template <class Fn>
  static void for_each_row(int64_t outer, int64_t n, int64_t inner, const Fn& fn) {
    const int64_t rows = outer * inner;
    parallel_for(rows, 1 + 16384 / (n + 1), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t o = r / inner, j = r % inner;
        fn(o * n * inner + j, inner);
      }
    });
  }
};

}  // namespace mimic::cpu
