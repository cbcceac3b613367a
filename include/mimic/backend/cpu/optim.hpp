#pragma once
// Fused optimizer passes over contiguous parameter ranges. Adam reads p, g, m, v and writes p, m,
// v: 28 bytes per float parameter; for the 65.8M-parameter UNet that is ~1.8 GB per step, so one
// fused pass (instead of ~8 elementwise passes) matters.
#include <cmath>
#include <cstdint>

#include "mimic/backend/cpu/parallel.hpp"
#include "mimic/backend/kernel_types.hpp"

namespace mimic::cpu {

struct Optim {
  template <class T>
  static void adam_step(int64_t n, T* p, const T* g, T* m, T* v, const AdamHyper& h) {
    const T b1 = T(h.beta1), b2 = T(h.beta2), wd = T(h.weight_decay), eps = T(h.eps);
    const T decay = T(1.0 - h.lr * h.weight_decay), step = T(h.step_size), ibc2 = T(h.inv_sqrt_bc2);
    parallel_for(n, 16384, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) {
        T gi = g[i];
        T pi = p[i];
        if (h.decoupled)
          pi *= decay;
        else
          gi += wd * pi;
        m[i] = b1 * m[i] + (T(1) - b1) * gi;
        v[i] = b2 * v[i] + (T(1) - b2) * gi * gi;
        p[i] = pi - step * m[i] / (std::sqrt(v[i]) * ibc2 + eps);
      }
    });
  }
  // p -= lr * (g + wd p), with momentum buffer when momentum > 0 (torch.optim.SGD, dampening 0).
  template <class T>
  static void sgd_step(int64_t n, T* p, const T* g, T* buf, double lr, double momentum,
                       double weight_decay, bool first) {
    parallel_for(n, 16384, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) {
        T d = g[i] + T(weight_decay) * p[i];
        if (momentum > 0) {
          buf[i] = first ? d : T(momentum) * buf[i] + d;
          d = buf[i];
        }
        p[i] -= T(lr) * d;
      }
    });
  }
  // ema = decay * ema + (1 - decay) * p
  template <class T>
  static void ema_update(int64_t n, T* ema, const T* p, double decay) {
    const T d = T(decay), r = T(1.0 - decay);
    parallel_for(n, 16384, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) ema[i] = d * ema[i] + r * p[i];
    });
  }
  // Sum of squares, accumulated in double in fixed chunks (deterministic for a thread count).
  template <class T>
  static double sum_squares(int64_t n, const T* x) {
    double total = 0;
    const int64_t chunk = 1 << 16;
    for (int64_t c = 0; c < n; c += chunk) {
      double part = 0;
      const int64_t end = c + chunk < n ? c + chunk : n;
      for (int64_t i = c; i < end; ++i) part += double(x[i]) * double(x[i]);
      total += part;
    }
    return total;
  }
  template <class T>
  static void scale(int64_t n, T* x, double s) {
    parallel_for(n, 16384, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) x[i] *= T(s);
    });
  }
};

}  // namespace mimic::cpu
