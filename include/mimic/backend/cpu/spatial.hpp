#pragma once
// Window operations on [N, C, H, W] images: max pooling, adaptive average pooling and crops.
// Each works plane by plane (one (n, c) pair); threads own planes of the tensor they write, so
// writes never collide and sums run in a fixed order. All are memory-bound: one read of the
// input window per output element.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "mimic/backend/cpu/parallel.hpp"
#include "mimic/backend/index/spatial.hpp"
#include "mimic/core/conv_geometry.hpp"

namespace mimic::cpu {

struct Spatial {
  // y = window maxima; argmax (nullable) receives each maximum's index within its plane.
  // The first maximum wins and NaN propagates, as in PyTorch; a window entirely in the padding
  // gives -inf and index -1. The window's in-image rows are found once per output row, so the
  // interior columns' inner loop is only loads and compares.
  template <class T>
  static void max_pool2d_forward(const Conv2dGeometry& g, const T* x, T* y, int32_t* argmax) {
    const int64_t out = g.out_plane();
    // Output columns whose whole window lies inside the image: [wo_in0, wo_in1).
    const int64_t wo_in0 = std::min<int64_t>(g.wo, (g.pw + g.sw - 1) / g.sw);
    const int64_t last = g.w - 1 - (g.kw - 1) * g.dw + g.pw;  // largest wo * sw allowed
    const int64_t wo_in1 = last < 0 ? wo_in0 : std::max(wo_in0, std::min(g.wo, last / g.sw + 1));
    parallel_for(g.n * g.c, 1 + 4096 / (out + 1), [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const T* plane = x + p * g.in_plane();
        for (int64_t ho = 0; ho < g.ho; ++ho) {
          const int64_t ih0 = ho * g.sh - g.ph;
          int64_t i_lo, i_hi;
          index::window_taps(ih0, g.dh, g.kh, g.h, i_lo, i_hi);
          T* yrow = y + p * out + ho * g.wo;
          int32_t* arow = argmax ? argmax + p * out + ho * g.wo : nullptr;
          // One window at a time for the columns at the image's edges, with the per-output
          // function the CUDA kernel runs (backend/index/spatial.hpp).
          auto window = [&](int64_t wo) {
            T value;
            const int64_t best = index::max_pool_window(g, plane, ho, wo, value);
            yrow[wo] = value;
            if (arow) arow[wo] = int32_t(best);
          };
          if (i_lo >= i_hi || wo_in0 >= wo_in1) {
            for (int64_t wo = 0; wo < g.wo; ++wo) window(wo);
            continue;
          }
          for (int64_t wo = 0; wo < wo_in0; ++wo) window(wo);
          for (int64_t wo = wo_in1; wo < g.wo; ++wo) window(wo);
          // Interior columns: the same rule, tap by tap across the whole row, so the loops
          // vectorize over wo (the running maxima live in y and argmax).
          for (int64_t i = i_lo; i < i_hi; ++i)
            for (int64_t j = 0; j < g.kw; ++j) {
              const int64_t base = (ih0 + i * g.dh) * g.w - g.pw + j * g.dw;
              const T* src = plane + base;
              const int64_t sw = g.sw;
              if (i == i_lo && j == 0) {
                for (int64_t wo = wo_in0; wo < wo_in1; ++wo) yrow[wo] = src[wo * sw];
                if (arow)
                  for (int64_t wo = wo_in0; wo < wo_in1; ++wo) arow[wo] = int32_t(base + wo * sw);
                continue;
              }
              if (arow) {
                for (int64_t wo = wo_in0; wo < wo_in1; ++wo) {
                  const T v = src[wo * sw], b = yrow[wo];
                  const bool take = v > b || (v != v && b == b);
                  yrow[wo] = take ? v : b;
                  arow[wo] = take ? int32_t(base + wo * sw) : arow[wo];
                }
              } else {
                for (int64_t wo = wo_in0; wo < wo_in1; ++wo) {
                  const T v = src[wo * sw], b = yrow[wo];
                  yrow[wo] = v > b || (v != v && b == b) ? v : b;
                }
              }
            }
        }
      }
    });
  }

  // dx[argmax] += dy with the indices saved by the forward pass.
  template <class T>
  static void max_pool2d_backward_indexed(const Conv2dGeometry& g, const int32_t* argmax,
                                          const T* dy, T* dx, bool accumulate) {
    const int64_t out = g.out_plane();
    parallel_for(g.n * g.c, 1 + 4096 / (out + 1), [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        T* dplane = dx + p * g.in_plane();
        if (!accumulate)
          for (int64_t e = 0; e < g.in_plane(); ++e) dplane[e] = T(0);
        for (int64_t o = 0; o < out; ++o)
          if (argmax[p * out + o] >= 0) dplane[argmax[p * out + o]] += dy[p * out + o];
      }
    });
  }

  // Bins of adaptive pooling (PyTorch): output i covers [floor(i*H/Ho), ceil((i+1)*H/Ho)).
  static int64_t bin_start(int64_t i, int64_t in, int64_t out) { return i * in / out; }
  static int64_t bin_end(int64_t i, int64_t in, int64_t out) {
    return ((i + 1) * in + out - 1) / out;
  }

  // planes = N*C; x [planes, H, W] -> y [planes, Ho, Wo].
  template <class T>
  static void adaptive_avg_pool2d_forward(int64_t planes, int64_t h, int64_t w, int64_t ho,
                                          int64_t wo, const T* x, T* y) {
    parallel_for(planes, 1 + 4096 / (h * w + 1), [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const T* plane = x + p * h * w;
        for (int64_t i = 0; i < ho; ++i) {
          const int64_t h0 = bin_start(i, h, ho), h1 = bin_end(i, h, ho);
          for (int64_t j = 0; j < wo; ++j) {
            const int64_t w0 = bin_start(j, w, wo), w1 = bin_end(j, w, wo);
            T sum = T(0);
            for (int64_t a = h0; a < h1; ++a)
              for (int64_t b = w0; b < w1; ++b) sum += plane[a * w + b];
            y[(p * ho + i) * wo + j] = sum / T((h1 - h0) * (w1 - w0));
          }
        }
      }
    });
  }

  template <class T>
  static void adaptive_avg_pool2d_backward(int64_t planes, int64_t h, int64_t w, int64_t ho,
                                           int64_t wo, const T* dy, T* dx, bool accumulate) {
    parallel_for(planes, 1 + 4096 / (h * w + 1), [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        T* dplane = dx + p * h * w;
        if (!accumulate)
          for (int64_t e = 0; e < h * w; ++e) dplane[e] = T(0);
        for (int64_t i = 0; i < ho; ++i) {
          const int64_t h0 = bin_start(i, h, ho), h1 = bin_end(i, h, ho);
          for (int64_t j = 0; j < wo; ++j) {
            const int64_t w0 = bin_start(j, w, wo), w1 = bin_end(j, w, wo);
            const T share = dy[(p * ho + i) * wo + j] / T((h1 - h0) * (w1 - w0));
            for (int64_t a = h0; a < h1; ++a)
              for (int64_t b = w0; b < w1; ++b) dplane[a * w + b] += share;
          }
        }
      }
    });
  }

  // Crops: output sample o = n * crops + k is the [ch, cw] window of x[n] whose top-left corner
  // is (offsets[2o], offsets[2o + 1]). x [N, C, H, W] -> y [N * crops, C, ch, cw].
  template <class T>
  static void crop2d_forward(int64_t n, int64_t c, int64_t h, int64_t w, int64_t ch, int64_t cw,
                             int64_t crops, const int64_t* offsets, const T* x, T* y) {
    parallel_for(n * crops * c, 1 + 4096 / (ch * cw + 1), [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t o = p / c, ci = p % c, src_n = o / crops;
        const T* src = x + ((src_n * c + ci) * h + offsets[2 * o]) * w + offsets[2 * o + 1];
        T* dst = y + p * ch * cw;
        for (int64_t a = 0; a < ch; ++a)
          for (int64_t b = 0; b < cw; ++b) dst[a * cw + b] = src[a * w + b];
      }
    });
  }

  // dx[n] (+)= sum over the crops of n of dy, each added back at its offset.
  template <class T>
  static void crop2d_backward(int64_t n, int64_t c, int64_t h, int64_t w, int64_t ch, int64_t cw,
                              int64_t crops, const int64_t* offsets, const T* dy, T* dx,
                              bool accumulate) {
    parallel_for(n * c, 1 + 4096 / (h * w + 1), [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t ni = p / c, ci = p % c;
        T* dplane = dx + p * h * w;
        if (!accumulate)
          for (int64_t e = 0; e < h * w; ++e) dplane[e] = T(0);
        for (int64_t k = 0; k < crops; ++k) {
          const int64_t o = ni * crops + k;
          const T* src = dy + (o * c + ci) * ch * cw;
          T* dst = dplane + offsets[2 * o] * w + offsets[2 * o + 1];
          for (int64_t a = 0; a < ch; ++a)
            for (int64_t b = 0; b < cw; ++b) dst[a * w + b] += src[a * cw + b];
        }
      }
    });
  }
};

}  // namespace mimic::cpu
