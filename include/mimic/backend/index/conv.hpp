#pragma once
// Per-element index math of im2col / col2im (1-D and 2-D), as host-and-device functions: the CUDA
// kernels (cuda/mimic/cuda/conv.cuh) call them once per element, and tests run them on the host
// against the CPU backend's loops (backend/cpu/conv.hpp), so the index math is covered without a
// GPU. Layouts are the contract's (backend/contract.hpp):
//   1-D: col[c*K + k, n*Lo + lo]                     = x[n, c, lo*s - p + k*d]       or 0
//   2-D: col[(c*KH + i)*KW + j, n*Ho*Wo + ho*Wo + wo] = x[n, c, ho*sh - ph + i*dh,
//                                                          wo*sw - pw + j*dw]   or 0
// The col2im "gathers" add the taps of one image element to its start value (0, or the old value
// when accumulating) one by one in ascending tap order (k, or i then j): the order in which the
// CPU's scatter loops add them, so both backends round the same sums the same way
// (bit-identical results for the same inputs).
#include <cstdint>

#include "mimic/core/conv_geometry.hpp"
#include "mimic/core/hd.hpp"

namespace mimic::index {

// Offset into x [N, C, L] that col element (row r, column q) copies, or -1 for padding.
MIMIC_HD int64_t im2col_1d_source(const Conv1dGeometry& g, int64_t r, int64_t q) {
  const int64_t c = r / g.k, k = r - c * g.k;
  const int64_t n = q / g.lo, lo = q - n * g.lo;
  const int64_t pos = lo * g.stride - g.padding + k * g.dilation;
  return (pos >= 0 && pos < g.l) ? (n * g.c + c) * g.l + pos : int64_t(-1);
}

// Output position lo that puts tap k on image position pos, or -1 when none does.
MIMIC_HD int64_t conv_tap_output(int64_t pos, int64_t tap, int64_t stride, int64_t padding,
                                 int64_t dilation, int64_t out_len) {
  const int64_t t = pos + padding - tap * dilation;  // = lo * stride
  if (t < 0) return -1;
  const int64_t lo = t / stride;
  return (lo * stride == t && lo < out_len) ? lo : int64_t(-1);
}

// acc plus the col entries that im2col_1d copied from x element e = (n*C + c)*L + pos, added one
// by one in ascending k (acc: 0, or x[e] when accumulating, as the CPU's loop starts from).
template <class T>
MIMIC_HD T col2im_1d_gather(const Conv1dGeometry& g, const T* col, int64_t e, T acc) {
  const int64_t pos = e % g.l, nc = e / g.l;
  const int64_t c = nc % g.c, n = nc / g.c;
  const int64_t cols = g.n * g.lo;
  for (int64_t k = 0; k < g.k; ++k) {
    const int64_t lo = conv_tap_output(pos, k, g.stride, g.padding, g.dilation, g.lo);
    if (lo >= 0) acc += col[(c * g.k + k) * cols + n * g.lo + lo];
  }
  return acc;
}

// Offset into x [N, C, H, W] that col element (row r, column q) copies, or -1 for padding.
MIMIC_HD int64_t im2col_2d_source(const Conv2dGeometry& g, int64_t r, int64_t q) {
  const int64_t taps = g.kh * g.kw, plane = g.ho * g.wo;
  const int64_t c = r / taps, tap = r - c * taps;
  const int64_t i = tap / g.kw, j = tap - i * g.kw;
  const int64_t n = q / plane, p = q - n * plane;
  const int64_t ho = p / g.wo, wo = p - ho * g.wo;
  const int64_t ih = ho * g.sh - g.ph + i * g.dh, iw = wo * g.sw - g.pw + j * g.dw;
  return (ih >= 0 && ih < g.h && iw >= 0 && iw < g.w) ? ((n * g.c + c) * g.h + ih) * g.w + iw
                                                      : int64_t(-1);
}

// acc plus the col entries that im2col_2d copied from x element e = ((n*C + c)*H + ih)*W + iw,
// added one by one in ascending (i, j).
template <class T>
MIMIC_HD T col2im_2d_gather(const Conv2dGeometry& g, const T* col, int64_t e, T acc) {
  const int64_t iw = e % g.w, rest = e / g.w;
  const int64_t ih = rest % g.h, nc = rest / g.h;
  const int64_t c = nc % g.c, n = nc / g.c;
  const int64_t plane = g.ho * g.wo, cols = g.n * plane;
  for (int64_t i = 0; i < g.kh; ++i) {
    const int64_t ho = conv_tap_output(ih, i, g.sh, g.ph, g.dh, g.ho);
    if (ho < 0) continue;
    const T* row = col + ((c * g.kh + i) * g.kw) * cols + n * plane + ho * g.wo;
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t wo = conv_tap_output(iw, j, g.sw, g.pw, g.dw, g.wo);
      if (wo >= 0) acc += row[j * cols + wo];
    }
  }
  return acc;
}

}  // namespace mimic::index
