#pragma once
// Winograd F(2x2, 3x3) transforms for stride-1 3x3 convolutions (Lavin & Gray, 2015). Each 2x2
// output tile comes from a 4x4 input tile d and the 3x3 kernel g as
//   y = A^T [ (G g G^T) . (B^T d B) ] A,
// so after the transforms a convolution is 16 independent GEMMs (one per tile element e):
//   M[e][Cout, P] = U[e][Cout, C] @ V[e][C, P],   P = N * tiles.
// That is 16 multiplies per tile instead of 36: 2.25x fewer GEMM FLOPs on even outputs. The
// transforms only add and halve, so they cost a few adds per value and are memory-bound:
// V holds 16/4 = 4 values per input pixel, against 9 for an im2col column matrix.
// The backward pass uses the same tiles: the data gradient is the Winograd convolution of dy with
// the flipped, transposed kernel, and the weight gradient is the adjoint of the forward
// computation: dU[e] = dY[e] @ V[e]^T with dY = A dy A^T, then dg = G^T dU G.
#include <cstdint>

#include "mimic/backend/cpu/parallel.hpp"
#include "mimic/core/conv_geometry.hpp"

namespace mimic::cpu {

// The 16 matrices of every transform lie winograd_stride (core/conv_geometry.hpp) apart.
struct Winograd {
  // U[e][rows, cols] = G g G^T for every kernel g = w[co, ci] (w is [Cout, Cin, 3, 3]). With
  // `flip_transpose`, the kernel of the data gradient instead: rows = Cin, cols = Cout and
  // g'[ci, co](i, j) = w[co, ci](2 - i, 2 - j). Destinations are written in order.
  template <class T>
  static void winograd_weight_transform(int64_t cout, int64_t cin, const T* w, T* u, int64_t stride,
                                        bool flip_transpose) {
    const int64_t rows = flip_transpose ? cin : cout, cols = flip_transpose ? cout : cin;
    parallel_for(rows, 1 + 4096 / (cols + 1), [&](int64_t r0, int64_t r1) {
      for (int64_t row = r0; row < r1; ++row)
        for (int64_t col = 0; col < cols; ++col) {
          const T* src = flip_transpose ? w + (col * cin + row) * 9 : w + (row * cin + col) * 9;
          T g[9];
          for (int k = 0; k < 9; ++k) g[k] = flip_transpose ? src[8 - k] : src[k];
          // Gg: 4 x 3, rows g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2.
          T gg[12];
          for (int j = 0; j < 3; ++j) {
            const T a = g[j], b = g[3 + j], c = g[6 + j];
            gg[j] = a;
            gg[3 + j] = T(0.5) * (a + b + c);
            gg[6 + j] = T(0.5) * (a - b + c);
            gg[9 + j] = c;
          }
          T* dst = u + row * cols + col;
          for (int r = 0; r < 4; ++r) {
            const T a = gg[3 * r], b = gg[3 * r + 1], c = gg[3 * r + 2];
            dst[(4 * r + 0) * stride] = a;
            dst[(4 * r + 1) * stride] = T(0.5) * (a + b + c);
            dst[(4 * r + 2) * stride] = T(0.5) * (a - b + c);
            dst[(4 * r + 3) * stride] = c;
          }
        }
    });
  }

  // V[e][c, p] = (B^T d B)[e] for the 4x4 tile d of channel c at tile p = (n, ti, tj), whose
  // top-left input pixel is (2 ti - ph, 2 tj - pw); pixels outside the image are zero.
  // Per tile row, the four input rows are copied into zero-padded rows, B^T runs down them as
  // whole-row vector arithmetic, then B combines columns tile by tile.
  template <class T>
  static void winograd_input_transform(const Conv2dGeometry& g, const T* x, T* v, int64_t plane) {
    const int64_t th = (g.ho + 1) / 2, tw = (g.wo + 1) / 2, tiles = g.n * th * tw;
    const int64_t span = 2 * tw + 2;  // padded columns the tiles of one row read
    constexpr int64_t kMaxSpan = 1024;
    if (span > kMaxSpan) return input_transform_by_tile(g, x, v, plane);
    parallel_for(g.c, 1 + 4096 / (tiles + 1), [&](int64_t c0, int64_t c1) {
      alignas(64) T rows[4][kMaxSpan], bt[4][kMaxSpan];
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t n = 0; n < g.n; ++n) {
          const T* src = x + (n * g.c + c) * g.in_plane();
          T* dst = v + c * tiles + n * th * tw;
          for (int64_t ti = 0; ti < th; ++ti, dst += tw) {
            for (int r = 0; r < 4; ++r) {
              const int64_t ih = 2 * ti - g.ph + r;
              T* row = rows[r];
              if (ih < 0 || ih >= g.h) {
                for (int64_t k = 0; k < span; ++k) row[k] = T(0);
                continue;
              }
              const T* in = src + ih * g.w;
              for (int64_t k = 0; k < span; ++k) {
                const int64_t iw = k - g.pw;
                row[k] = iw >= 0 && iw < g.w ? in[iw] : T(0);
              }
            }
            // B^T d: rows d0 - d2, d1 + d2, d2 - d1, d1 - d3.
            for (int64_t k = 0; k < span; ++k) {
              bt[0][k] = rows[0][k] - rows[2][k];
              bt[1][k] = rows[1][k] + rows[2][k];
              bt[2][k] = rows[2][k] - rows[1][k];
              bt[3][k] = rows[1][k] - rows[3][k];
            }
            // (B^T d) B: the same combination of columns 2 tj .. 2 tj + 3.
            for (int r = 0; r < 4; ++r) {
              const T* q = bt[r];
              T* o0 = dst + (4 * r) * plane;
              T* o1 = o0 + plane;
              T* o2 = o1 + plane;
              T* o3 = o2 + plane;
              for (int64_t tj = 0; tj < tw; ++tj) {
                const T q0 = q[2 * tj], q1 = q[2 * tj + 1], q2 = q[2 * tj + 2], q3 = q[2 * tj + 3];
                o0[tj] = q0 - q2;
                o1[tj] = q1 + q2;
                o2[tj] = q2 - q1;
                o3[tj] = q1 - q3;
              }
            }
          }
        }
    });
  }

  // The same transform one tile at a time, for rows too wide for the staging buffers.
  template <class T>
  static void input_transform_by_tile(const Conv2dGeometry& g, const T* x, T* v, int64_t plane) {
    const int64_t th = (g.ho + 1) / 2, tw = (g.wo + 1) / 2, tiles = g.n * th * tw;
    parallel_for(g.c, 1 + 4096 / (tiles + 1), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t n = 0; n < g.n; ++n) {
          const T* src = x + (n * g.c + c) * g.in_plane();
          T* dst = v + c * tiles + n * th * tw;
          for (int64_t ti = 0; ti < th; ++ti)
            for (int64_t tj = 0; tj < tw; ++tj, ++dst) {
              T d[16];
              const int64_t r0 = 2 * ti - g.ph, s0 = 2 * tj - g.pw;
              for (int r = 0; r < 4; ++r) {
                const int64_t ih = r0 + r;
                const bool row_in = ih >= 0 && ih < g.h;
                for (int s = 0; s < 4; ++s) {
                  const int64_t iw = s0 + s;
                  d[4 * r + s] = row_in && iw >= 0 && iw < g.w ? src[ih * g.w + iw] : T(0);
                }
              }
              // B^T d: rows d0 - d2, d1 + d2, d2 - d1, d1 - d3.
              T bd[16];
              for (int s = 0; s < 4; ++s) {
                bd[s] = d[s] - d[8 + s];
                bd[4 + s] = d[4 + s] + d[8 + s];
                bd[8 + s] = d[8 + s] - d[4 + s];
                bd[12 + s] = d[4 + s] - d[12 + s];
              }
              // (B^T d) B: the same combination of columns.
              for (int r = 0; r < 4; ++r) {
                const T* q = bd + 4 * r;
                dst[(4 * r + 0) * plane] = q[0] - q[2];
                dst[(4 * r + 1) * plane] = q[1] + q[2];
                dst[(4 * r + 2) * plane] = q[2] - q[1];
                dst[(4 * r + 3) * plane] = q[1] - q[3];
              }
            }
        }
    });
  }

  // y[n, co, 2 ti + a, 2 tj + b] (+)= (A^T M A)[a, b] (+ bias[co]) for the tiles of M[e][Cout, P];
  // `g` is the geometry of the convolution (its output side is written), `cout` its channels.
  template <class T>
  static void winograd_output_transform(const Conv2dGeometry& g, int64_t cout, const T* m,
                                        int64_t plane, const T* bias, T* y, bool accumulate) {
    const int64_t th = (g.ho + 1) / 2, tw = (g.wo + 1) / 2, tiles = g.n * th * tw;
    parallel_for(cout, 1 + 4096 / (tiles + 1), [&](int64_t c0, int64_t c1) {
      for (int64_t co = c0; co < c1; ++co) {
        const T b = bias ? bias[co] : T(0);
        for (int64_t n = 0; n < g.n; ++n) {
          T* out = y + (n * cout + co) * g.out_plane();
          const T* src = m + co * tiles + n * th * tw;
          for (int64_t ti = 0; ti < th; ++ti)
            for (int64_t tj = 0; tj < tw; ++tj, ++src) {
              // A^T M: rows M0 + M1 + M2 and M1 - M2 - M3.
              T am[8];
              for (int s = 0; s < 4; ++s) {
                const T m0 = src[s * plane], m1 = src[(4 + s) * plane];
                const T m2 = src[(8 + s) * plane], m3 = src[(12 + s) * plane];
                am[s] = m0 + m1 + m2;
                am[4 + s] = m1 - m2 - m3;
              }
              for (int a = 0; a < 2; ++a) {
                const int64_t oh = 2 * ti + a;
                if (oh >= g.ho) break;
                const T* q = am + 4 * a;
                const T vals[2] = {q[0] + q[1] + q[2] + b, q[1] - q[2] - q[3] + b};
                for (int c = 0; c < 2; ++c) {
                  const int64_t ow = 2 * tj + c;
                  if (ow >= g.wo) break;
                  T& dst = out[oh * g.wo + ow];
                  dst = accumulate ? dst + vals[c] : vals[c];
                }
              }
            }
        }
      }
    });
  }

  // dY[e][co, p] = (A dy A^T)[e] for the 2x2 tile of dy[n, co] at tile p (zero past the edge):
  // the adjoint of the output transform, feeding the weight-gradient GEMMs.
  template <class T>
  static void winograd_output_grad_transform(const Conv2dGeometry& g, int64_t cout, const T* dy,
                                             T* dyt, int64_t plane) {
    const int64_t th = (g.ho + 1) / 2, tw = (g.wo + 1) / 2, tiles = g.n * th * tw;
    parallel_for(cout, 1 + 4096 / (tiles + 1), [&](int64_t c0, int64_t c1) {
      for (int64_t co = c0; co < c1; ++co)
        for (int64_t n = 0; n < g.n; ++n) {
          const T* src = dy + (n * cout + co) * g.out_plane();
          T* dst = dyt + co * tiles + n * th * tw;
          for (int64_t ti = 0; ti < th; ++ti)
            for (int64_t tj = 0; tj < tw; ++tj, ++dst) {
              T t[4];
              for (int a = 0; a < 2; ++a)
                for (int c = 0; c < 2; ++c) {
                  const int64_t oh = 2 * ti + a, ow = 2 * tj + c;
                  t[2 * a + c] = oh < g.ho && ow < g.wo ? src[oh * g.wo + ow] : T(0);
                }
              // A t: rows t0, t0 + t1, t0 - t1, -t1 (A = A^T transposed, 4 x 2).
              const T at[8] = {t[0],        t[1],        t[0] + t[2], t[1] + t[3],
                               t[0] - t[2], t[1] - t[3], -t[2],       -t[3]};
              for (int r = 0; r < 4; ++r) {
                const T p = at[2 * r], q = at[2 * r + 1];
                dst[(4 * r + 0) * plane] = p;
                dst[(4 * r + 1) * plane] = p + q;
                dst[(4 * r + 2) * plane] = p - q;
                dst[(4 * r + 3) * plane] = -q;
              }
            }
        }
    });
  }

  // dw[co, ci] (+)= G^T dU[co, ci] G, with dU[e][Cout, Cin] from the weight-gradient GEMMs.
  template <class T>
  static void winograd_weight_grad_transform(int64_t cout, int64_t cin, const T* du, int64_t plane,
                                             T* dw, bool accumulate) {
    parallel_for(cout, 1 + 4096 / (cin + 1), [&](int64_t c0, int64_t c1) {
      for (int64_t co = c0; co < c1; ++co)
        for (int64_t ci = 0; ci < cin; ++ci) {
          const int64_t at = co * cin + ci;
          T q[16];
          for (int e = 0; e < 16; ++e) q[e] = du[e * plane + at];
          // G^T q: rows q0 + (q1 + q2) / 2, (q1 - q2) / 2, (q1 + q2) / 2 + q3.
          T gq[12];
          for (int s = 0; s < 4; ++s) {
            const T a = q[s], b = q[4 + s], c = q[8 + s], d = q[12 + s];
            gq[s] = a + T(0.5) * (b + c);
            gq[4 + s] = T(0.5) * (b - c);
            gq[8 + s] = T(0.5) * (b + c) + d;
          }
          T* out = dw + at * 9;
          for (int r = 0; r < 3; ++r) {
            const T a = gq[4 * r], b = gq[4 * r + 1], c = gq[4 * r + 2], d = gq[4 * r + 3];
            const T vals[3] = {a + T(0.5) * (b + c), T(0.5) * (b - c), T(0.5) * (b + c) + d};
            for (int j = 0; j < 3; ++j)
              out[3 * r + j] = accumulate ? out[3 * r + j] + vals[j] : vals[j];
          }
        }
    });
  }
};

}  // namespace mimic::cpu
