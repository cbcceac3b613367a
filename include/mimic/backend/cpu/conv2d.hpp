#pragma once
// The CPU's conv2d entry points (contract: backend/contract.hpp), by one of three algorithms:
// - im2col + one GEMM per group over the whole batch:
//     y'[Cout, N*Ho*Wo] = W[Cout, Cin/G*KH*KW] @ col[Cin*KH*KW, N*Ho*Wo], laid out as [N, Cout, Ho,
//     Wo]. FLOPs: 2 * N * Ho * Wo * Cout * Cin/G * KH * KW forward, twice that backward. Batching
//     every sample into one GEMM keeps the late ResNet stages (3x3 outputs) GEMM-shaped.
// - im2col + one GEMM per sample straight into [N, Cout, Ho, Wo], for large output planes.
// - Winograd F(2x2, 3x3) or F(4x4, 3x3) for stride-1 3x3 kernels (backend/cpu/winograd.hpp):
//     a*a GEMMs of Cout x (N * tiles) x Cin (a = 4 or 6), 2.25x or 4x fewer multiplies than
//     im2col on outputs that the tiles cover exactly, in all three passes. The backward pass
//     is the forward computation's adjoint on the same tiles.
#include <cstdint>
#include <string>

#include "mimic/backend/cpu/conv.hpp"
#include "mimic/backend/cpu/elementwise.hpp"
#include "mimic/backend/cpu/gemm.hpp"
#include "mimic/backend/cpu/winograd.hpp"
#include "mimic/backend/kernel_types.hpp"
#include "mimic/core/broadcast.hpp"
#include "mimic/core/conv_geometry.hpp"
#include "mimic/core/error.hpp"
#include "mimic/core/shape.hpp"

namespace mimic::cpu {

struct Conv2d {
  // Winograd computes stride-1, undilated, ungrouped 3x3 convolutions with equal padding of at
  // most 2 (a tile's patch then starts at most 2 pixels before the image).
  static bool winograd_fits(const Conv2dGeometry& g, int64_t groups) {
    return g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
           groups == 1 && g.ph == g.pw && g.ph >= 0 && g.ph <= 2;
  }
  static int64_t winograd_tiles(const Conv2dGeometry& g, int tile) {
    return g.n * ((g.ho + tile - 1) / tile) * ((g.wo + tile - 1) / tile);
  }
  // Multiplies per channel pair and sample: (tile + 2)^2 per tile.
  static int64_t winograd_cost(const Conv2dGeometry& g, int tile) {
    return winograd_tiles(g, tile) / g.n * (tile + 2) * (tile + 2);
  }
  // The tile with fewer multiplies, 2x2 on a tie (its rounding error is smaller). On ResNet18 at
  // 84x84 the 4x4 tiles of the 21x21 and 11x11 maps take the step from 161 to 144 ms.
  static int winograd_tile(const Conv2dGeometry& g) {
    return winograd_cost(g, 4) < winograd_cost(g, 2) ? 4 : 2;
  }
  // The Winograd tile `automatic` uses, or 0 for im2col. Below 4x4 outputs the tiles are mostly
  // padding (3x3 outputs: 64 multiplies per channel pair against im2col's 81) and the GEMMs get
  // narrow, so im2col wins. E.g. ResNet18 at 84x84: 4x4 tiles on 21x21 and 11x11 maps, 2x2 on 6x6.
  static int winograd_tile_for(const Conv2dGeometry& g, int64_t groups) {
    return winograd_fits(g, groups) && g.ho >= 4 && g.wo >= 4 ? winograd_tile(g) : 0;
  }
  // Elements of the (tile + 2)^2 Winograd matrices of [rows, cols], winograd_stride apart.
  static int64_t winograd_numel(int tile, int64_t rows, int64_t cols) {
    return (tile + 2) * (tile + 2) * winograd_stride(rows, cols);
  }

  // From this many output pixels per sample, the im2col forward pass runs one GEMM per sample
  // straight into [N, Cout, Ho, Wo] instead of one over the batch into channel-major order.
  static constexpr int64_t kPerSampleGemmPlane = 256;

  // The plan's variant is the Winograd output tile (2 or 4), or 0 for im2col; `saved` holds
  // im2col's col [Cin*KH*KW, N*Ho*Wo] or Winograd's V (the transformed input).
  static Conv2dPlan conv2d_plan(const Conv2dGeometry& g, int64_t cout, int64_t groups,
                                Conv2dAlgorithm algorithm) {
    const bool forced_winograd = algorithm == Conv2dAlgorithm::winograd ||
                                 algorithm == Conv2dAlgorithm::winograd_2x2 ||
                                 algorithm == Conv2dAlgorithm::winograd_4x4;
    if (forced_winograd && !winograd_fits(g, groups))
      throw ValueError(
          "conv2d: Winograd needs a 3x3 kernel with stride 1, dilation 1, one group "
          "and equal padding of at most 2; got weight " +
          Shape{cout, g.c / groups, g.kh, g.kw}.str() + " with stride " + std::to_string(g.sh) +
          "x" + std::to_string(g.sw) + ", padding " + std::to_string(g.ph) + "x" +
          std::to_string(g.pw));
    int tile = 0;  // Winograd output tile, 0 for im2col
    switch (algorithm) {
      case Conv2dAlgorithm::automatic:
        tile = winograd_tile_for(g, groups);
        break;
      case Conv2dAlgorithm::im2col:
        tile = 0;
        break;
      case Conv2dAlgorithm::winograd:
        tile = winograd_tile(g);
        break;
      case Conv2dAlgorithm::winograd_2x2:
        tile = 2;
        break;
      case Conv2dAlgorithm::winograd_4x4:
        tile = 4;
        break;
    }
    const int64_t saved = tile ? winograd_numel(tile, g.c, winograd_tiles(g, tile))
                               : g.c * g.kh * g.kw * g.n * g.out_plane();
    return Conv2dPlan{saved, tile};
  }

  template <class T, class Scratch>
  static void conv2d_forward(const Conv2dGeometry& g, int64_t cout, int64_t groups,
                             const Conv2dPlan& plan, const T* x, const T* w, const T* bias, T* y,
                             T* col, Scratch&& scratch) {
    const int tile = plan.variant;
    const int64_t ck = g.c * g.kh * g.kw, cols = g.n * g.out_plane();
    const int64_t ckg = ck / groups, coutg = cout / groups;
    if (tile) {
      const int64_t tiles = winograd_tiles(g, tile);
      const int64_t su = winograd_stride(cout, g.c), sv = winograd_stride(g.c, tiles);
      const int64_t sm = winograd_stride(cout, tiles);
      T* u = scratch(winograd_numel(tile, cout, g.c));
      Winograd::winograd_weight_transform(tile, cout, g.c, w, u, su);
      Winograd::winograd_input_transform(tile, g, x, col, sv);
      T* m = scratch(winograd_numel(tile, cout, tiles));
      Gemm::gemm_strided_batched(false, false, cout, tiles, g.c, T(1), u, g.c, su, col, tiles, sv,
                                 T(0), m, tiles, sm, (tile + 2) * (tile + 2));
      Winograd::winograd_output_transform(tile, g, cout, m, sm, bias, y, false);
      return;
    }
    Conv::im2col_2d(g, x, col);
    const int64_t plane = g.out_plane();
    if (plane >= kPerSampleGemmPlane && g.n > 1) {
      // y[n] = W col[:, n] per sample, written in place: no channel-major staging buffer and no
      // transpose (2 * N * Cout * Ho * Wo values moved less; 7 MB each way for the ResNet stem).
      for (int64_t gi = 0; gi < groups; ++gi)
        Gemm::gemm_strided_batched(false, false, coutg, plane, ckg, T(1), w + gi * coutg * ckg, ckg,
                                   0, col + gi * ckg * cols, cols, plane, T(0),
                                   y + gi * coutg * plane, plane, cout * plane, g.n);
      if (bias) add_channel_bias(g.n, cout, plane, bias, y);
    } else {
      T* yc = scratch(cout * cols);
      for (int64_t gi = 0; gi < groups; ++gi)
        Gemm::gemm(false, false, coutg, cols, ckg, T(1), w + gi * coutg * ckg, ckg,
                   col + gi * ckg * cols, cols, T(0), yc + gi * coutg * cols, cols);
      from_channel_major(g.n, cout, plane, yc, bias, y);
    }
  }

  template <class T, class Scratch>
  static void conv2d_backward(const Conv2dGeometry& g, int64_t cout, int64_t groups,
                              const Conv2dPlan& plan, const T* x, const T* w, const T* dy,
                              const T* saved, T* dx, bool dx_acc, T* dw, bool dw_acc,
                              Scratch&& scratch) {
    if (plan.variant)
      return winograd_backward(g, cout, plan.variant, x, w, dy, saved, dx, dx_acc, dw, dw_acc,
                               scratch);
    const int64_t plane = g.out_plane(), cols = g.n * plane, ck = g.c * g.kh * g.kw;
    const int64_t ckg = ck / groups, coutg = cout / groups;
    T* dyc = scratch(cout * cols);
    to_channel_major(g.n, cout, plane, dy, dyc);
    if (dw) {
      // The forward pass keeps col when the weight needs a gradient: rebuilding it would cost a
      // second pass over C*KH*KW*N*Ho*Wo values (as much traffic as the GEMM's operands).
      const T* col = saved;
      if (!col) {
        T* fresh = scratch(ck * cols);
        Conv::im2col_2d(g, x, fresh);
        col = fresh;
      }
      for (int64_t gi = 0; gi < groups; ++gi)
        Gemm::gemm(false, true, coutg, ckg, cols, T(1), dyc + gi * coutg * cols, cols,
                   col + gi * ckg * cols, cols, T(dw_acc ? 1 : 0), dw + gi * coutg * ckg, ckg);
    }
    if (dx) {
      T* dcol = scratch(ck * cols);
      for (int64_t gi = 0; gi < groups; ++gi)
        Gemm::gemm(true, false, ckg, cols, coutg, T(1), w + gi * coutg * ckg, ckg,
                   dyc + gi * coutg * cols, cols, T(0), dcol + gi * ckg * cols, cols);
      Conv::col2im_2d(g, dcol, dx, dx_acc);
    }
  }

 private:
  // The adjoint of the forward pass on its tiles: dY = A dy A^T feeds both the weight gradient
  // (dU[e] = dY[e] V[e]^T, dw = G^T dU G) and the data gradient (dV[e] = U[e]^T dY[e], then the
  // adjoint input transform). U is transformed again rather than kept: it is cheap (0.2 ms for
  // 256 x 256 kernels), and keeping it in the arena slowed the ResNet18 forward pass by 2 ms.
  template <class T, class Scratch>
  static void winograd_backward(const Conv2dGeometry& g, int64_t cout, int tile, const T* x,
                                const T* w, const T* dy, const T* saved, T* dx, bool dx_acc, T* dw,
                                bool dw_acc, Scratch& scratch) {
    if (!dw && !dx) return;
    const int elements = (tile + 2) * (tile + 2);
    const int64_t tiles = winograd_tiles(g, tile);
    const int64_t sv = winograd_stride(g.c, tiles), sy = winograd_stride(cout, tiles);
    const int64_t su = winograd_stride(cout, g.c);
    T* dyt = scratch(winograd_numel(tile, cout, tiles));
    Winograd::winograd_output_grad_transform(tile, g, cout, dy, dyt, sy);
    if (dw) {
      const T* v = saved;
      if (!v) {
        T* fresh = scratch(winograd_numel(tile, g.c, tiles));
        Winograd::winograd_input_transform(tile, g, x, fresh, sv);
        v = fresh;
      }
      T* du = scratch(winograd_numel(tile, cout, g.c));
      Gemm::gemm_strided_batched(false, true, cout, g.c, tiles, T(1), dyt, tiles, sy, v, tiles, sv,
                                 T(0), du, g.c, su, elements);
      Winograd::winograd_weight_grad_transform(tile, cout, g.c, du, su, dw, dw_acc);
    }
    if (dx) {
      T* u = scratch(winograd_numel(tile, cout, g.c));
      Winograd::winograd_weight_transform(tile, cout, g.c, w, u, su);
      T* dv = scratch(winograd_numel(tile, g.c, tiles));
      Gemm::gemm_strided_batched(true, false, g.c, tiles, cout, T(1), u, g.c, su, dyt, tiles, sy,
                                 T(0), dv, tiles, sv, elements);
      Winograd::winograd_input_adjoint_transform(tile, g, dv, sv, dx, dx_acc);
    }
  }

  // The layout changes between [N, C, L] and the GEMMs' channel-major [C, N, L], as strided
  // elementwise copies (the same passes ops/layout.hpp makes for conv1d).
  struct Copy1 {
    template <class T>
    T operator()(T a) const {
      return a;
    }
  };
  struct Add2 {
    template <class T>
    T operator()(T a, T b) const {
      return a + b;
    }
  };
  // xc [C, N, L] = x [N, C, L].
  template <class T>
  static void to_channel_major(int64_t n, int64_t c, int64_t l, const T* x, T* xc) {
    Strides st;  // x read as [C, N, L]
    st.s[0] = l;
    st.s[1] = c * l;
    st.s[2] = 1;
    Elementwise::broadcast_map(Shape{c, n, l}, Copy1{}, xc, x, st);
  }
  // y [N, C, L] = yc [C, N, L] (+ bias[C] when given).
  template <class T>
  static void from_channel_major(int64_t n, int64_t c, int64_t l, const T* yc, const T* bias,
                                 T* y) {
    Strides st;  // yc read as [N, C, L]
    st.s[0] = l;
    st.s[1] = n * l;
    st.s[2] = 1;
    if (!bias) return Elementwise::broadcast_map(Shape{n, c, l}, Copy1{}, y, yc, st);
    Strides sb;
    sb.s[1] = 1;
    Elementwise::broadcast_map(Shape{n, c, l}, Add2{}, y, yc, st, bias, sb);
  }
  // y[n, c, :] += bias[c].
  template <class T>
  static void add_channel_bias(int64_t n, int64_t c, int64_t plane, const T* bias, T* y) {
    const Shape s{n, c, plane};
    Strides sb;
    sb.s[1] = 1;
    Elementwise::broadcast_map(s, Add2{}, y, y, contiguous_strides(s), bias, sb);
  }
};

}  // namespace mimic::cpu
