#pragma once
// im2col / col2im for 1-D and 2-D convolutions. A convolution becomes one large GEMM over a column
// matrix col[C*K, N*Lo] whose column (n, lo) holds the K taps of every input channel that output
// position lo of sample n sees. Building col moves C*K*N*Lo elements, against 2*Cout*C*K*N*Lo
// FLOPs in the GEMM: cheap next to the GEMM for any realistic Cout.
#include <cstdint>

#include "mimic/backend/cpu/parallel.hpp"
#include "mimic/core/conv_geometry.hpp"

namespace mimic::cpu {

struct Conv {
  // col[(c*K + k), n*Lo + lo] = x[n, c, lo*s - p + k*d] or 0 outside [0, L).
  template <class T>
  static void im2col_1d(const Conv1dGeometry& g, const T* x, T* col) {
    const int64_t rows = g.c * g.k, cols = g.n * g.lo;
    parallel_for(rows, 1 + 16384 / (cols + 1), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t c = r / g.k, k = r % g.k;
        T* out = col + r * cols;
        for (int64_t n = 0; n < g.n; ++n) {
          const T* src = x + (n * g.c + c) * g.l;
          T* dst = out + n * g.lo;
          const int64_t shift = k * g.dilation - g.padding;
          if (g.stride == 1) {
            // Valid outputs lo satisfy 0 <= lo + shift < L.
            int64_t lo0 = shift < 0 ? -shift : 0, lo1 = g.l - shift;
            if (lo1 > g.lo) lo1 = g.lo;
            if (lo0 > g.lo) lo0 = g.lo;
            for (int64_t lo = 0; lo < lo0; ++lo) dst[lo] = T(0);
            for (int64_t lo = lo0; lo < lo1; ++lo) dst[lo] = src[lo + shift];
            for (int64_t lo = lo1 < lo0 ? lo0 : lo1; lo < g.lo; ++lo) dst[lo] = T(0);
          } else {
            for (int64_t lo = 0; lo < g.lo; ++lo) {
              const int64_t pos = lo * g.stride + shift;
              dst[lo] = (pos >= 0 && pos < g.l) ? src[pos] : T(0);
            }
          }
        }
      }
    });
  }

  // The adjoint: x[n, c, lo*s - p + k*d] (+)= col[(c*K + k), n*Lo + lo]. Threads own channels, so
  // writes never collide and the summation order is fixed.
  template <class T>
  static void col2im_1d(const Conv1dGeometry& g, const T* col, T* x, bool accumulate) {
    const int64_t cols = g.n * g.lo;
    parallel_for(g.c, 1 + 16384 / (g.k * cols + 1), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        for (int64_t n = 0; n < g.n; ++n) {
          T* dst = x + (n * g.c + c) * g.l;
          if (!accumulate)
            for (int64_t i = 0; i < g.l; ++i) dst[i] = T(0);
          for (int64_t k = 0; k < g.k; ++k) {
            const T* src = col + (c * g.k + k) * cols + n * g.lo;
            const int64_t shift = k * g.dilation - g.padding;
            for (int64_t lo = 0; lo < g.lo; ++lo) {
              const int64_t pos = lo * g.stride + shift;
              if (pos >= 0 && pos < g.l) dst[pos] += src[lo];
            }
          }
        }
      }
    });
  }

  // col[((c*KH + i)*KW + j), n*Ho*Wo + ho*Wo + wo] = x[n, c, ho*sh - ph + i*dh, wo*sw - pw + j*dw]
  // or 0 outside the image. Rows are independent, so threads split them.
  template <class T>
  static void im2col_2d(const Conv2dGeometry& g, const T* x, T* col) {
    const int64_t taps = g.kh * g.kw, rows = g.c * taps, plane = g.out_plane(), cols = g.n * plane;
    parallel_for(rows, 1 + 16384 / (cols + 1), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t c = r / taps, i = (r % taps) / g.kw, j = r % g.kw;
        const int64_t shift_w = j * g.dw - g.pw;
        // Output columns wo with 0 <= wo*sw + shift_w < W.
        int64_t wo0 = shift_w < 0 ? (-shift_w + g.sw - 1) / g.sw : 0;
        int64_t wo1 = g.w - shift_w <= 0 ? 0 : (g.w - shift_w + g.sw - 1) / g.sw;
        if (wo1 > g.wo) wo1 = g.wo;
        if (wo0 > wo1) wo0 = wo1;
        for (int64_t n = 0; n < g.n; ++n) {
          const T* src = x + (n * g.c + c) * g.in_plane();
          T* dst = col + r * cols + n * plane;
          for (int64_t ho = 0; ho < g.ho; ++ho, dst += g.wo) {
            const int64_t ih = ho * g.sh - g.ph + i * g.dh;
            if (ih < 0 || ih >= g.h) {
              for (int64_t wo = 0; wo < g.wo; ++wo) dst[wo] = T(0);
              continue;
            }
            const T* srow = src + ih * g.w;
            for (int64_t wo = 0; wo < wo0; ++wo) dst[wo] = T(0);
            if (g.sw == 1)
              for (int64_t wo = wo0; wo < wo1; ++wo) dst[wo] = srow[wo + shift_w];
            else
              for (int64_t wo = wo0; wo < wo1; ++wo) dst[wo] = srow[wo * g.sw + shift_w];
            for (int64_t wo = wo1; wo < g.wo; ++wo) dst[wo] = T(0);
          }
        }
      }
    });
  }

  // The adjoint of im2col_2d. Threads own input channels, so writes never collide and the
  // summation order is fixed.
  template <class T>
  static void col2im_2d(const Conv2dGeometry& g, const T* col, T* x, bool accumulate) {
    const int64_t taps = g.kh * g.kw, plane = g.out_plane(), cols = g.n * plane;
    parallel_for(g.c, 1 + 16384 / (taps * cols + 1), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        for (int64_t n = 0; n < g.n; ++n) {
          T* dst = x + (n * g.c + c) * g.in_plane();
          if (!accumulate)
            for (int64_t e = 0; e < g.in_plane(); ++e) dst[e] = T(0);
          for (int64_t i = 0; i < g.kh; ++i) {
            for (int64_t j = 0; j < g.kw; ++j) {
              const T* src = col + ((c * g.kh + i) * g.kw + j) * cols + n * plane;
              const int64_t shift_w = j * g.dw - g.pw;
              int64_t wo0 = shift_w < 0 ? (-shift_w + g.sw - 1) / g.sw : 0;
              int64_t wo1 = g.w - shift_w <= 0 ? 0 : (g.w - shift_w + g.sw - 1) / g.sw;
              if (wo1 > g.wo) wo1 = g.wo;
              for (int64_t ho = 0; ho < g.ho; ++ho) {
                const int64_t ih = ho * g.sh - g.ph + i * g.dh;
                if (ih < 0 || ih >= g.h) continue;
                T* drow = dst + ih * g.w;
                const T* srow = src + ho * g.wo;
                for (int64_t wo = wo0; wo < wo1; ++wo) drow[wo * g.sw + shift_w] += srow[wo];
              }
            }
          }
        }
      }
    });
  }
};

}  // namespace mimic::cpu
