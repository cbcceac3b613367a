#pragma once
// Per-element index math of the spatial family (backend/contract.hpp: max pooling, adaptive
// average pooling, crops), as host-and-device functions. The CUDA kernels (cuda/spatial.cuh) are
// grid-stride loops around them; each computes one element of the tensor being written, reading
// its inputs in the same order as the CPU backend (backend/cpu/spatial.hpp), so the two agree bit
// for bit. Host tests run them over whole tensors against the CPU backend.
#include <cmath>
#include <cstdint>

#include "mimic/core/conv_geometry.hpp"
#include "mimic/core/hd.hpp"

namespace mimic::index {

MIMIC_HD int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
MIMIC_HD int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

// Kernel taps [lo, hi) with 0 <= base + i * d < size (the CPU forward's `taps`).
MIMIC_HD void window_taps(int64_t base, int64_t d, int64_t k, int64_t size, int64_t& lo,
                          int64_t& hi) {
  lo = base >= 0 ? 0 : (-base + d - 1) / d;
  hi = base >= size ? 0 : min64(k, (size - 1 - base) / d + 1);
  if (hi < lo) hi = lo;
}

// Outputs [lo, hi) whose window span o * stride - pad + [0, (k - 1) * d] contains position pos,
// clipped to [0, out). A superset of the windows that use pos (with dilation a window may skip
// it); callers check the saved index, not the span.
MIMIC_HD void covering_outputs(int64_t pos, int64_t pad, int64_t stride, int64_t d, int64_t k,
                               int64_t out, int64_t& lo, int64_t& hi) {
  const int64_t first = pos + pad - (k - 1) * d;  // o * stride >= first
  lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  const int64_t last = pos + pad;  // o * stride <= last
  hi = last < 0 ? 0 : min64(out, last / stride + 1);
  if (hi < lo) hi = lo;
}

// Maximum of output (ho, wo)'s window in one plane; returns its index in the plane (-1 and -inf
// for a window entirely in the padding). Taps in row-major order; a later tap replaces the best
// only when larger, or when NaN while the best is not: the first maximum wins, NaN propagates.
template <class T>
MIMIC_HD int64_t max_pool_window(const Conv2dGeometry& g, const T* plane, int64_t ho, int64_t wo,
                                 T& value) {
  const int64_t ih0 = ho * g.sh - g.ph, iw0 = wo * g.sw - g.pw;
  int64_t i_lo, i_hi, j_lo, j_hi;
  window_taps(ih0, g.dh, g.kh, g.h, i_lo, i_hi);
  window_taps(iw0, g.dw, g.kw, g.w, j_lo, j_hi);
  int64_t best = -1;
  T best_value = T(-INFINITY);
  if (i_lo < i_hi && j_lo < j_hi) {
    best = (ih0 + i_lo * g.dh) * g.w + iw0 + j_lo * g.dw;
    best_value = plane[best];
  }
  for (int64_t i = i_lo; i < i_hi; ++i) {
    const int64_t row = (ih0 + i * g.dh) * g.w + iw0;
    for (int64_t j = j_lo; j < j_hi; ++j) {
      const int64_t at = row + j * g.dw;
      const T v = plane[at];
      const bool take = v > best_value || (v != v && best_value == best_value);
      best_value = take ? v : best_value;
      best = take ? at : best;
    }
  }
  value = best_value;
  return best;
}

// Gradient of input pixel (ih, iw) of one plane: init plus dy of every output whose saved argmax
// is this pixel, added in increasing output order (the CPU scatter's order).
template <class T>
MIMIC_HD T max_pool_backward_pixel(const Conv2dGeometry& g, const int32_t* argmax_plane,
                                   const T* dy_plane, int64_t ih, int64_t iw, T init) {
  int64_t ho_lo, ho_hi, wo_lo, wo_hi;
  covering_outputs(ih, g.ph, g.sh, g.dh, g.kh, g.ho, ho_lo, ho_hi);
  covering_outputs(iw, g.pw, g.sw, g.dw, g.kw, g.wo, wo_lo, wo_hi);
  const int64_t self = ih * g.w + iw;
  T acc = init;
  for (int64_t ho = ho_lo; ho < ho_hi; ++ho)
    for (int64_t wo = wo_lo; wo < wo_hi; ++wo) {
      const int64_t o = ho * g.wo + wo;
      if (argmax_plane[o] == self) acc += dy_plane[o];
    }
  return acc;
}

// Bins of adaptive pooling (PyTorch): output i covers [floor(i*in/out), ceil((i+1)*in/out)).
MIMIC_HD int64_t adaptive_bin_start(int64_t i, int64_t in, int64_t out) { return i * in / out; }
MIMIC_HD int64_t adaptive_bin_end(int64_t i, int64_t in, int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}
// Bins [lo, hi) that contain input position a: bin_end(i) > a iff i >= floor(a*out/in), and
// bin_start(i) <= a iff i < ceil((a+1)*out/in).
MIMIC_HD void adaptive_bins_covering(int64_t a, int64_t in, int64_t out, int64_t& lo, int64_t& hi) {
  lo = a * out / in;
  hi = min64(out, ((a + 1) * out + in - 1) / in);
  if (hi < lo) hi = lo;
}

// Output (i, j) of one plane: the bin's mean, summed row by row.
template <class T>
MIMIC_HD T adaptive_avg_output(const T* plane, int64_t h, int64_t w, int64_t ho, int64_t wo,
                               int64_t i, int64_t j) {
  const int64_t h0 = adaptive_bin_start(i, h, ho), h1 = adaptive_bin_end(i, h, ho);
  const int64_t w0 = adaptive_bin_start(j, w, wo), w1 = adaptive_bin_end(j, w, wo);
  T sum = T(0);
  for (int64_t a = h0; a < h1; ++a)
    for (int64_t b = w0; b < w1; ++b) sum += plane[a * w + b];
  return sum / T((h1 - h0) * (w1 - w0));
}

// Gradient of input pixel (a, b) of one plane: init plus each covering bin's dy / count, in
// increasing bin order (the CPU scatter's order).
template <class T>
MIMIC_HD T adaptive_avg_backward_pixel(const T* dy_plane, int64_t h, int64_t w, int64_t ho,
                                       int64_t wo, int64_t a, int64_t b, T init) {
  int64_t i_lo, i_hi, j_lo, j_hi;
  adaptive_bins_covering(a, h, ho, i_lo, i_hi);
  adaptive_bins_covering(b, w, wo, j_lo, j_hi);
  T acc = init;
  for (int64_t i = i_lo; i < i_hi; ++i) {
    const int64_t h0 = adaptive_bin_start(i, h, ho), h1 = adaptive_bin_end(i, h, ho);
    if (a < h0 || a >= h1) continue;
    for (int64_t j = j_lo; j < j_hi; ++j) {
      const int64_t w0 = adaptive_bin_start(j, w, wo), w1 = adaptive_bin_end(j, w, wo);
      if (b < w0 || b >= w1) continue;
      acc += dy_plane[i * wo + j] / T((h1 - h0) * (w1 - w0));
    }
  }
  return acc;
}

// Flat index in x [N, C, H, W] of element e of y [N * crops, C, ch, cw].
MIMIC_HD int64_t crop2d_source(int64_t c, int64_t h, int64_t w, int64_t ch, int64_t cw,
                               int64_t crops, const int64_t* offsets, int64_t e) {
  const int64_t b = e % cw, a = (e / cw) % ch, p = e / (ch * cw);
  const int64_t o = p / c, ci = p % c, src_n = o / crops;
  return ((src_n * c + ci) * h + offsets[2 * o] + a) * w + offsets[2 * o + 1] + b;
}

// Gradient of element e of x [N, C, H, W]: init plus dy of every crop of its sample that covers
// it, in increasing crop order (the CPU's order).
template <class T>
MIMIC_HD T crop2d_backward_pixel(int64_t c, int64_t h, int64_t w, int64_t ch, int64_t cw,
                                 int64_t crops, const int64_t* offsets, const T* dy, int64_t e,
                                 T init) {
  const int64_t col = e % w, row = (e / w) % h, p = e / (h * w);
  const int64_t ni = p / c, ci = p % c;
  T acc = init;
  for (int64_t k = 0; k < crops; ++k) {
    const int64_t o = ni * crops + k;
    const int64_t r = row - offsets[2 * o], q = col - offsets[2 * o + 1];
    if (r >= 0 && r < ch && q >= 0 && q < cw) acc += dy[((o * c + ci) * ch + r) * cw + q];
  }
  return acc;
}

}  // namespace mimic::index
