#pragma once
// The pointwise LSTM cell (backend/contract.hpp: lstm_cell_forward / lstm_cell_backward) for one
// element (b, j), as host-and-device functions. The CUDA kernels (cuda/mimic/cuda/recurrent.cuh)
// call them once per element; tests run them on the host against the CPU backend
// (backend/cpu/recurrent.hpp, whose forward uses Eigen's vectorized sigmoid/tanh, so the two agree
// to rounding, not bit for bit). Gates [B, 4H] are (i, f, g, o), element j of gate q at
// gates[b*4H + q*H + j].
#include <cmath>
#include <cstdint>

#include "mimic/core/hd.hpp"

namespace mimic::index {

// 1 / (1 + e^-x): e^-x overflows to inf for x < -88 (float), giving 0, never NaN.
template <class T>
MIMIC_HD T lstm_sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// Forward for element j of row b: overwrites the four pre-activations with activations and writes
// c, tanh(c), h. c_prev nullable (zeros).
template <class T>
MIMIC_HD void lstm_forward_element(int64_t hidden, int64_t b, int64_t j, T* gates, const T* c_prev,
                                   T* c, T* tanh_c, T* h) {
  const int64_t H = hidden;
  T* g = gates + b * 4 * H + j;
  const T i = lstm_sigmoid(g[0]), f = lstm_sigmoid(g[H]), gg = std::tanh(g[2 * H]),
          o = lstm_sigmoid(g[3 * H]);
  g[0] = i;
  g[H] = f;
  g[2 * H] = gg;
  g[3 * H] = o;
  const int64_t e = b * H + j;
  const T cj = c_prev != nullptr ? f * c_prev[e] + i * gg : i * gg;
  const T t = std::tanh(cj);
  c[e] = cj;
  tanh_c[e] = t;
  h[e] = o * t;
}

// Backward for element j of row b, the same formula as the CPU's loop: dh = dh_out + dh_rec,
// dc' = dc + dh o (1 - tanh_c^2); d(pre-activations) through the sigmoid / tanh derivatives;
// dc becomes dc' f (dL/dc_prev).
template <class T>
MIMIC_HD void lstm_backward_element(int64_t hidden, int64_t b, int64_t j, const T* gates,
                                    const T* c_prev, const T* tanh_c, const T* dh_out,
                                    int64_t ld_dh_out, const T* dh_rec, T* dc, T* dgates) {
  const int64_t H = hidden, e = b * H + j;
  const T* g = gates + b * 4 * H + j;
  const T i = g[0], f = g[H], gg = g[2 * H], o = g[3 * H];
  const T dh = dh_out[b * ld_dh_out + j] + (dh_rec != nullptr ? dh_rec[e] : T(0));
  const T t = tanh_c[e];
  const T dcj = dc[e] + dh * o * (T(1) - t * t);
  const T cpj = c_prev != nullptr ? c_prev[e] : T(0);
  T* dg = dgates + b * 4 * H + j;
  dg[0] = dcj * gg * i * (T(1) - i);
  dg[H] = dcj * cpj * f * (T(1) - f);
  dg[2 * H] = dcj * i * (T(1) - gg * gg);
  dg[3 * H] = dh * t * o * (T(1) - o);
  dc[e] = dcj * f;
}

}  // namespace mimic::index
