#pragma once
// Winograd F(mxm, 3x3) transforms for stride-1 3x3 convolutions (Lavin & Gray, 2015), m = 2 or 4.
// Each m x m output tile comes from an a x a input tile d (a = m + 2) and the 3x3 kernel g as
//   y = A^T [ (G g G^T) . (B^T d B) ] A,
// so after the transforms a convolution is a*a independent GEMMs (one per tile element e):
//   M[e][Cout, P] = U[e][Cout, C] @ V[e][C, P],   P = N * tiles.
// Multiplies per output: 16/4 = 4 for F(2x2) and 36/16 = 2.25 for F(4x4), against 9 for a direct
// or im2col convolution. V holds a*a/(m*m) values per input pixel (4 or 2.25, against im2col's 9).
// The transforms are a few adds per value and memory-bound.
// The backward pass is the adjoint of the forward computation on the same tiles: with
// dY = A dy A^T, the weight gradient is dU[e] = dY[e] @ V[e]^T, then dg = G^T dU G, and the data
// gradient is dV[e] = U[e]^T @ dY[e], then dx = sum over tiles of B dV B^T. Both reuse dY, so
// no flipped kernel or second input transform is needed.
// F(4x4) has larger constants (up to 8 in A, 1/24 in G), so its float rounding error is a few
// times that of F(2x2); it is still well under 1e-5 of the output's scale on ResNet layers.
#include <cstdint>

#include "mimic/backend/cpu/parallel.hpp"
#include "mimic/core/conv_geometry.hpp"

namespace mimic::cpu {

// Winograd F(2x2, 3x3) keeps 16 matrices of [rows, cols] side by side. Its transforms walk all 16
// at once, so a distance that is a multiple of 4 KiB would map the 16 streams onto one cache set
// (batch 16 makes C * tiles * 4 bytes exactly that); the distance is padded to one cache line
// past a 4 KiB multiple instead.
inline int64_t winograd_stride(int64_t rows, int64_t cols) {
  return (rows * cols + 1023) / 1024 * 1024 + 16;
}

// The 1-D transforms of F(m, 3): input (B^T, a -> a), output (A^T, a -> m), kernel (G, 3 -> a)
// and their adjoints for the backward pass (B: a -> a, A: m -> a, G^T: a -> 3).
template <int M>
struct WinogradF;

template <>
struct WinogradF<2> {
  static constexpr int m = 2, a = 4;
  template <class T>
  static void input(const T* d, T* o) {
    o[0] = d[0] - d[2];
    o[1] = d[1] + d[2];
    o[2] = d[2] - d[1];
    o[3] = d[1] - d[3];
  }
  template <class T>
  static void input_adjoint(const T* q, T* o) {
    o[0] = q[0];
    o[1] = q[1] - q[2] + q[3];
    o[2] = q[1] + q[2] - q[0];
    o[3] = -q[3];
  }
  template <class T>
  static void output(const T* x, T* o) {
    o[0] = x[0] + x[1] + x[2];
    o[1] = x[1] - x[2] - x[3];
  }
  template <class T>
  static void kernel(const T* g, T* o) {
    o[0] = g[0];
    o[1] = T(0.5) * (g[0] + g[1] + g[2]);
    o[2] = T(0.5) * (g[0] - g[1] + g[2]);
    o[3] = g[2];
  }
  template <class T>
  static void output_adjoint(const T* y, T* o) {
    o[0] = y[0];
    o[1] = y[0] + y[1];
    o[2] = y[0] - y[1];
    o[3] = -y[1];
  }
  template <class T>
  static void kernel_adjoint(const T* q, T* o) {
    o[0] = q[0] + T(0.5) * (q[1] + q[2]);
    o[1] = T(0.5) * (q[1] - q[2]);
    o[2] = T(0.5) * (q[1] + q[2]) + q[3];
  }
};

// Interpolation points 0, 1, -1, 2, -2 and infinity.
template <>
struct WinogradF<4> {
  static constexpr int m = 4, a = 6;
  template <class T>
  static void input(const T* d, T* o) {
    o[0] = T(4) * d[0] - T(5) * d[2] + d[4];
    o[1] = d[3] + d[4] - T(4) * (d[1] + d[2]);
    o[2] = T(4) * (d[1] - d[2]) + d[4] - d[3];
    o[3] = T(2) * (d[3] - d[1]) + d[4] - d[2];
    o[4] = T(2) * (d[1] - d[3]) + d[4] - d[2];
    o[5] = T(4) * d[1] - T(5) * d[3] + d[5];
  }
  template <class T>
  static void input_adjoint(const T* q, T* o) {
    const T s12 = q[1] + q[2], d12 = q[2] - q[1], s34 = q[3] + q[4], d34 = q[4] - q[3];
    o[0] = T(4) * q[0];
    o[1] = T(4) * (d12 + q[5]) + T(2) * d34;
    o[2] = -(T(5) * q[0] + T(4) * s12 + s34);
    o[3] = -(d12 + T(2) * d34 + T(5) * q[5]);
    o[4] = q[0] + s12 + s34;
    o[5] = q[5];
  }
  template <class T>
  static void output(const T* x, T* o) {
    const T s12 = x[1] + x[2], d12 = x[1] - x[2], s34 = x[3] + x[4], d34 = x[3] - x[4];
    o[0] = x[0] + s12 + s34;
    o[1] = d12 + T(2) * d34;
    o[2] = s12 + T(4) * s34;
    o[3] = d12 + T(8) * d34 + x[5];
  }
  template <class T>
  static void kernel(const T* g, T* o) {
    o[0] = T(0.25) * g[0];
    o[1] = T(-1.0 / 6) * (g[0] + g[1] + g[2]);
    o[2] = T(-1.0 / 6) * (g[0] - g[1] + g[2]);
    o[3] = T(1.0 / 24) * g[0] + T(1.0 / 12) * g[1] + T(1.0 / 6) * g[2];
    o[4] = T(1.0 / 24) * g[0] - T(1.0 / 12) * g[1] + T(1.0 / 6) * g[2];
    o[5] = g[2];
  }
  template <class T>
  static void output_adjoint(const T* y, T* o) {
    const T s02 = y[0] + y[2], s13 = y[1] + y[3];
    const T f02 = y[0] + T(4) * y[2], f13 = T(2) * y[1] + T(8) * y[3];
    o[0] = y[0];
    o[1] = s02 + s13;
    o[2] = s02 - s13;
    o[3] = f02 + f13;
    o[4] = f02 - f13;
    o[5] = y[3];
  }
  template <class T>
  static void kernel_adjoint(const T* q, T* o) {
    const T s12 = q[1] + q[2], d12 = q[2] - q[1], s34 = q[3] + q[4], d34 = q[3] - q[4];
    o[0] = T(0.25) * q[0] - T(1.0 / 6) * s12 + T(1.0 / 24) * s34;
    o[1] = T(1.0 / 6) * d12 + T(1.0 / 12) * d34;
    o[2] = T(1.0 / 6) * (s34 - s12) + q[5];
  }
};

// The a*a matrices of every transform lie winograd_stride apart. Each entry point takes the
// output tile size m (2 or 4). Kernels<Cpu> reaches these only through cpu::Conv2d.
struct Winograd {
  // U[e][Cout, Cin] = G g G^T for every kernel g = w[co, ci] (w is [Cout, Cin, 3, 3]).
  template <class T>
  static void winograd_weight_transform(int tile, int64_t cout, int64_t cin, const T* w, T* u,
                                        int64_t stride) {
    if (tile == 4) return weight_transform<WinogradF<4>>(cout, cin, w, u, stride);
    weight_transform<WinogradF<2>>(cout, cin, w, u, stride);
  }

  // V[e][c, p] = (B^T d B)[e] for the a x a tile d of channel c at tile p = (n, ti, tj), whose
  // top-left input pixel is (m ti - ph, m tj - pw); pixels outside the image are zero.
  template <class T>
  static void winograd_input_transform(int tile, const Conv2dGeometry& g, const T* x, T* v,
                                       int64_t plane) {
    if (tile == 4) return input_transform<WinogradF<4>>(g, x, v, plane);
    input_transform<WinogradF<2>>(g, x, v, plane);
  }

  // dx (+)= the adjoint of winograd_input_transform applied to dV[e][C, P]: each tile adds
  // B dV B^T onto the a x a input patch it read (clipped to the image). Overlapping patches add
  // up in tile order, and threads own channels, so the sum is deterministic.
  template <class T>
  static void winograd_input_adjoint_transform(int tile, const Conv2dGeometry& g, const T* dv,
                                               int64_t plane, T* dx, bool accumulate) {
    if (tile == 4) return input_adjoint_transform<WinogradF<4>>(g, dv, plane, dx, accumulate);
    input_adjoint_transform<WinogradF<2>>(g, dv, plane, dx, accumulate);
  }

  // y[n, co, m ti + i, m tj + j] (+)= (A^T M A)[i, j] (+ bias[co]) for the tiles of
  // M[e][Cout, P]; `g` is the geometry of the convolution (its output side is written).
  template <class T>
  static void winograd_output_transform(int tile, const Conv2dGeometry& g, int64_t cout,
                                        const T* mt, int64_t plane, const T* bias, T* y,
                                        bool accumulate) {
    if (tile == 4) return output_transform<WinogradF<4>>(g, cout, mt, plane, bias, y, accumulate);
    output_transform<WinogradF<2>>(g, cout, mt, plane, bias, y, accumulate);
  }

  // dY[e][co, p] = (A dy A^T)[e] for the m x m tile of dy[n, co] at tile p (zero past the edge):
  // the adjoint of the output transform, feeding the weight-gradient GEMMs.
  template <class T>
  static void winograd_output_grad_transform(int tile, const Conv2dGeometry& g, int64_t cout,
                                             const T* dy, T* dyt, int64_t plane) {
    if (tile == 4) return output_grad_transform<WinogradF<4>>(g, cout, dy, dyt, plane);
    output_grad_transform<WinogradF<2>>(g, cout, dy, dyt, plane);
  }

  // dw[co, ci] (+)= G^T dU[co, ci] G, with dU[e][Cout, Cin] from the weight-gradient GEMMs.
  template <class T>
  static void winograd_weight_grad_transform(int tile, int64_t cout, int64_t cin, const T* du,
                                             int64_t plane, T* dw, bool accumulate) {
    if (tile == 4) return weight_grad_transform<WinogradF<4>>(cout, cin, du, plane, dw, accumulate);
    weight_grad_transform<WinogradF<2>>(cout, cin, du, plane, dw, accumulate);
  }

 private:
  // Applies the 1-D transform fn (n values -> a values) down each column of the n x n tile, then
  // along each resulting row, and writes the a x a result to a*a matrices `plane` apart.
  template <int N, int A, class T, class Fn>
  static void separable_to_matrices(const T (&tile)[N][N], Fn fn, T* dst, int64_t plane) {
    T rows[A][N], column[N], out[A];
    for (int s = 0; s < N; ++s) {
      for (int r = 0; r < N; ++r) column[r] = tile[r][s];
      fn(column, out);
      for (int r = 0; r < A; ++r) rows[r][s] = out[r];
    }
    for (int r = 0; r < A; ++r) {
      fn(rows[r], out);
      for (int k = 0; k < A; ++k) dst[(A * r + k) * plane] = out[k];
    }
  }

  template <class F, class T>
  static void weight_transform(int64_t cout, int64_t cin, const T* w, T* u, int64_t stride) {
    constexpr int a = F::a;
    parallel_for(cout, 1 + 4096 / (cin + 1), [&](int64_t r0, int64_t r1) {
      for (int64_t co = r0; co < r1; ++co)
        for (int64_t ci = 0; ci < cin; ++ci) {
          const T* src = w + (co * cin + ci) * 9;
          T g[3][3];
          for (int k = 0; k < 9; ++k) g[k / 3][k % 3] = src[k];
          // G g G^T: G down each kernel column, then along each resulting row.
          separable_to_matrices<3, a>(
              g, [](const T* in, T* out) { F::kernel(in, out); }, u + co * cin + ci, stride);
        }
    });
  }

  // Per tile row, the a input rows are copied into zero-padded rows, B^T runs down them column
  // by column, then B combines the columns of each tile.
  template <class F, class T>
  static void input_transform(const Conv2dGeometry& g, const T* x, T* v, int64_t plane) {
    constexpr int m = F::m, a = F::a;
    const int64_t th = (g.ho + m - 1) / m, tw = (g.wo + m - 1) / m, tiles = g.n * th * tw;
    const int64_t span = m * tw + 2;  // padded columns the tiles of one row read
    constexpr int64_t kMaxSpan = 1024;
    if (span > kMaxSpan) return input_transform_by_tile<F>(g, x, v, plane);
    parallel_for(g.c, 1 + 4096 / (tiles + 1), [&](int64_t c0, int64_t c1) {
      alignas(64) T rows[a][kMaxSpan], bt[a][kMaxSpan];
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t n = 0; n < g.n; ++n) {
          const T* src = x + (n * g.c + c) * g.in_plane();
          T* dst = v + c * tiles + n * th * tw;
          for (int64_t ti = 0; ti < th; ++ti, dst += tw) {
            for (int r = 0; r < a; ++r) {
              const int64_t ih = m * ti - g.ph + r;
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
            for (int64_t k = 0; k < span; ++k) {
              T d[a], o[a];
              for (int r = 0; r < a; ++r) d[r] = rows[r][k];
              F::input(d, o);
              for (int r = 0; r < a; ++r) bt[r][k] = o[r];
            }
            for (int r = 0; r < a; ++r) {
              T* out = dst + a * r * plane;
              for (int64_t tj = 0; tj < tw; ++tj) {
                T o[a];
                F::input(bt[r] + m * tj, o);
                for (int k = 0; k < a; ++k) out[k * plane + tj] = o[k];
              }
            }
          }
        }
    });
  }

  // The same transform one tile at a time, for rows too wide for the staging buffers.
  template <class F, class T>
  static void input_transform_by_tile(const Conv2dGeometry& g, const T* x, T* v, int64_t plane) {
    constexpr int m = F::m, a = F::a;
    const int64_t th = (g.ho + m - 1) / m, tw = (g.wo + m - 1) / m, tiles = g.n * th * tw;
    parallel_for(g.c, 1 + 4096 / (tiles + 1), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t n = 0; n < g.n; ++n) {
          const T* src = x + (n * g.c + c) * g.in_plane();
          T* dst = v + c * tiles + n * th * tw;
          for (int64_t ti = 0; ti < th; ++ti)
            for (int64_t tj = 0; tj < tw; ++tj, ++dst) {
              T d[a][a];
              for (int r = 0; r < a; ++r) {
                const int64_t ih = m * ti - g.ph + r;
                for (int s = 0; s < a; ++s) {
                  const int64_t iw = m * tj - g.pw + s;
                  d[r][s] = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w ? src[ih * g.w + iw] : T(0);
                }
              }
              separable_to_matrices<a, a>(
                  d, [](const T* in, T* out) { F::input(in, out); }, dst, plane);
            }
        }
    });
  }

  template <class F, class T>
  static void input_adjoint_transform(const Conv2dGeometry& g, const T* dv, int64_t plane, T* dx,
                                      bool accumulate) {
    constexpr int m = F::m, a = F::a;
    const int64_t th = (g.ho + m - 1) / m, tw = (g.wo + m - 1) / m, tiles = g.n * th * tw;
    parallel_for(g.c, 1 + 4096 / (tiles + 1), [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t n = 0; n < g.n; ++n) {
          T* dst = dx + (n * g.c + c) * g.in_plane();
          if (!accumulate)
            for (int64_t i = 0; i < g.in_plane(); ++i) dst[i] = T(0);
          const T* src = dv + c * tiles + n * th * tw;
          for (int64_t ti = 0; ti < th; ++ti) {
            const int64_t ih0 = m * ti - g.ph;
            const int r0 = ih0 < 0 ? int(-ih0) : 0;
            const int r1 = ih0 + a > g.h ? int(g.h - ih0) : a;
            for (int64_t tj = 0; tj < tw; ++tj, ++src) {
              const int64_t iw0 = m * tj - g.pw;
              const int s0 = iw0 < 0 ? int(-iw0) : 0;
              const int s1 = iw0 + a > g.w ? int(g.w - iw0) : a;
              // B down each column of dV, then B along each row.
              T bq[a][a], column[a], res[a];
              for (int s = 0; s < a; ++s) {
                for (int r = 0; r < a; ++r) column[r] = src[(a * r + s) * plane];
                F::input_adjoint(column, res);
                for (int r = 0; r < a; ++r) bq[r][s] = res[r];
              }
              for (int r = r0; r < r1; ++r) {
                F::input_adjoint(bq[r], res);
                T* row = dst + (ih0 + r) * g.w + iw0;
                for (int s = s0; s < s1; ++s) row[s] += res[s];
              }
            }
          }
        }
    });
  }

  template <class F, class T>
  static void output_transform(const Conv2dGeometry& g, int64_t cout, const T* mt, int64_t plane,
                               const T* bias, T* y, bool accumulate) {
    constexpr int m = F::m, a = F::a;
    const int64_t th = (g.ho + m - 1) / m, tw = (g.wo + m - 1) / m, tiles = g.n * th * tw;
    parallel_for(cout, 1 + 4096 / (tiles + 1), [&](int64_t c0, int64_t c1) {
      for (int64_t co = c0; co < c1; ++co) {
        const T b = bias ? bias[co] : T(0);
        for (int64_t n = 0; n < g.n; ++n) {
          T* out = y + (n * cout + co) * g.out_plane();
          const T* src = mt + co * tiles + n * th * tw;
          for (int64_t ti = 0; ti < th; ++ti)
            for (int64_t tj = 0; tj < tw; ++tj, ++src) {
              // A^T down each column of the tile, then A along each of the m rows.
              T am[m][a], column[a], res[m];
              for (int s = 0; s < a; ++s) {
                for (int r = 0; r < a; ++r) column[r] = src[(a * r + s) * plane];
                F::output(column, res);
                for (int i = 0; i < m; ++i) am[i][s] = res[i];
              }
              const int64_t rows = g.ho - m * ti < m ? g.ho - m * ti : m;
              const int64_t cols = g.wo - m * tj < m ? g.wo - m * tj : m;
              for (int64_t i = 0; i < rows; ++i) {
                F::output(am[i], res);
                T* dst = out + (m * ti + i) * g.wo + m * tj;
                for (int64_t j = 0; j < cols; ++j)
                  dst[j] = accumulate ? dst[j] + res[j] + b : res[j] + b;
              }
            }
        }
      }
    });
  }

  template <class F, class T>
  static void output_grad_transform(const Conv2dGeometry& g, int64_t cout, const T* dy, T* dyt,
                                    int64_t plane) {
    constexpr int m = F::m, a = F::a;
    const int64_t th = (g.ho + m - 1) / m, tw = (g.wo + m - 1) / m, tiles = g.n * th * tw;
    parallel_for(cout, 1 + 4096 / (tiles + 1), [&](int64_t c0, int64_t c1) {
      for (int64_t co = c0; co < c1; ++co)
        for (int64_t n = 0; n < g.n; ++n) {
          const T* src = dy + (n * cout + co) * g.out_plane();
          T* dst = dyt + co * tiles + n * th * tw;
          for (int64_t ti = 0; ti < th; ++ti)
            for (int64_t tj = 0; tj < tw; ++tj, ++dst) {
              T t[m][m];
              for (int i = 0; i < m; ++i)
                for (int j = 0; j < m; ++j) {
                  const int64_t oh = m * ti + i, ow = m * tj + j;
                  t[i][j] = oh < g.ho && ow < g.wo ? src[oh * g.wo + ow] : T(0);
                }
              // A t A^T.
              separable_to_matrices<m, a>(
                  t, [](const T* in, T* out) { F::output_adjoint(in, out); }, dst, plane);
            }
        }
    });
  }

  template <class F, class T>
  static void weight_grad_transform(int64_t cout, int64_t cin, const T* du, int64_t plane, T* dw,
                                    bool accumulate) {
    constexpr int a = F::a;
    parallel_for(cout, 1 + 4096 / (cin + 1), [&](int64_t c0, int64_t c1) {
      for (int64_t co = c0; co < c1; ++co)
        for (int64_t ci = 0; ci < cin; ++ci) {
          const int64_t at = co * cin + ci;
          // G^T down each column of dU, then G along each of the 3 rows.
          T gq[3][a], column[a], out[3];
          for (int s = 0; s < a; ++s) {
            for (int r = 0; r < a; ++r) column[r] = du[(a * r + s) * plane + at];
            F::kernel_adjoint(column, out);
            for (int i = 0; i < 3; ++i) gq[i][s] = out[i];
          }
          T* dst = dw + at * 9;
          for (int i = 0; i < 3; ++i) {
            F::kernel_adjoint(gq[i], out);
            for (int j = 0; j < 3; ++j)
              dst[3 * i + j] = accumulate ? dst[3 * i + j] + out[j] : out[j];
          }
        }
    });
  }
};

}  // namespace mimic::cpu
