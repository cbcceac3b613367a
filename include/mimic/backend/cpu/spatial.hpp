#pragma once
// Window operations on [N, C, H, W] images: max pooling, adaptive average pooling and crops.
// Each works plane by plane (one (n, c) pair); threads own planes of the tensor they write, so
// writes never collide and sums run in a fixed order. All are memory-bound: one read of the
// input window per output element.
#include <cmath>
#include <cstdint>

#include "mimic/backend/cpu/parallel.hpp"
#include "mimic/core/conv_geometry.hpp"

namespace mimic::cpu {

struct Spatial {
  // Index (within the plane) of the window maximum; the first maximum wins and NaN propagates,
  // as in PyTorch. Returns -1 for a window that lies entirely in the padding.
  template <class T>
  static int64_t window_argmax(const Conv2dGeometry& g, const T* plane, int64_t ho, int64_t wo) {
    int64_t best = -1;
    T best_value = T(0);
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t ih = ho * g.sh - g.ph + i * g.dh;
      if (ih < 0 || ih >= g.h) continue;
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t iw = wo * g.sw - g.pw + j * g.dw;
        if (iw < 0 || iw >= g.w) continue;
        const T v = plane[ih * g.w + iw];
        if (best < 0 || v > best_value || std::isnan(v)) {
          best = ih * g.w + iw;
          best_value = v;
          if (std::isnan(v)) return best;
        }
      }
    }
    return best;
  }

  // y = window maxima; argmax (nullable) receives each maximum's index within its plane.
  template <class T>
  static void max_pool2d_forward(const Conv2dGeometry& g, const T* x, T* y, int32_t* argmax) {
    const int64_t out = g.out_plane();
    parallel_for(g.n * g.c, 1 + 4096 / (out + 1), [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const T* plane = x + p * g.in_plane();
        for (int64_t ho = 0; ho < g.ho; ++ho)
          for (int64_t wo = 0; wo < g.wo; ++wo) {
            const int64_t at = window_argmax(g, plane, ho, wo);
            y[p * out + ho * g.wo + wo] = at < 0 ? T(-INFINITY) : plane[at];
            if (argmax) argmax[p * out + ho * g.wo + wo] = int32_t(at);
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
