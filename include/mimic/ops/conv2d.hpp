#pragma once
// conv2d (PyTorch semantics, with groups), by one of two algorithms:
// - im2col + one GEMM per group over the whole batch:
//     y'[Cout, N*Ho*Wo] = W[Cout, Cin/G*KH*KW] @ col[Cin*KH*KW, N*Ho*Wo], laid out as [N, Cout, Ho,
//     Wo]. FLOPs: 2 * N * Ho * Wo * Cout * Cin/G * KH * KW forward, twice that backward. Batching
//     every sample into one GEMM keeps the late ResNet stages (3x3 outputs) GEMM-shaped.
// - Winograd F(2x2, 3x3) or F(4x4, 3x3) for stride-1 3x3 kernels (backend/cpu/winograd.hpp):
//     a*a GEMMs of Cout x (N * tiles) x Cin (a = 4 or 6), 2.25x or 4x fewer multiplies than
//     im2col on outputs that the tiles cover exactly, in all three passes. The backward pass
//     is the forward computation's adjoint on the same tiles.
#include <span>
#include <string>

#include "mimic/ops/conv1d.hpp"

namespace mimic::ops {

// `automatic` picks Winograd where it fits and pays (see winograd_tile_for); `winograd` forces
// it with the tile size chosen the same way; the others force one algorithm and tile.
enum class Conv2dAlgorithm : uint8_t { automatic, im2col, winograd, winograd_2x2, winograd_4x4 };

// Per-axis stride, padding and dilation, the number of channel groups and the algorithm.
struct Conv2dOptions {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1, groups = 1;
  Conv2dAlgorithm algorithm = Conv2dAlgorithm::automatic;
  static Conv2dOptions square(int64_t stride, int64_t padding, int64_t dilation = 1,
                              int64_t groups = 1) {
    return {stride, stride, padding, padding, dilation, dilation, groups};
  }
};

namespace detail {

// Winograd computes stride-1, undilated, ungrouped 3x3 convolutions with equal padding of at
// most 2 (a tile's patch then starts at most 2 pixels before the image).
inline bool winograd_fits(const Conv2dGeometry& g, int64_t groups) {
  return g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
         groups == 1 && g.ph == g.pw && g.ph >= 0 && g.ph <= 2;
}
inline int64_t winograd_tiles(const Conv2dGeometry& g, int tile) {
  return g.n * ((g.ho + tile - 1) / tile) * ((g.wo + tile - 1) / tile);
}
// Multiplies per channel pair and sample: (tile + 2)^2 per tile.
inline int64_t winograd_cost(const Conv2dGeometry& g, int tile) {
  return winograd_tiles(g, tile) / g.n * (tile + 2) * (tile + 2);
}
// The tile with fewer multiplies, 2x2 on a tie (its rounding error is smaller). On ResNet18 at
// 84x84 the 4x4 tiles of the 21x21 and 11x11 maps take the step from 161 to 144 ms.
inline int winograd_tile(const Conv2dGeometry& g) {
  return winograd_cost(g, 4) < winograd_cost(g, 2) ? 4 : 2;
}
// The Winograd tile `automatic` uses, or 0 for im2col. Below 4x4 outputs the tiles are mostly
// padding (3x3 outputs: 64 multiplies per channel pair against im2col's 81) and the GEMMs get
// narrow, so im2col wins. E.g. ResNet18 at 84x84: 4x4 tiles on 21x21 and 11x11 maps, 2x2 on 6x6.
inline int winograd_tile_for(const Conv2dGeometry& g, int64_t groups) {
  return winograd_fits(g, groups) && g.ho >= 4 && g.wo >= 4 ? winograd_tile(g) : 0;
}

// The (tile + 2)^2 Winograd matrices of [rows, cols], winograd_stride apart.
inline Shape winograd_shape(int tile, int64_t rows, int64_t cols) {
  return Shape{(tile + 2) * (tile + 2) * winograd_stride(rows, cols)};
}

// From this many output pixels per sample, the im2col forward pass runs one GEMM per sample
// straight into [N, Cout, Ho, Wo] instead of one over the batch into channel-major order.
inline constexpr int64_t kConv2dPerSampleGemmPlane = 256;

// y[n, c, :] += bias[c].
template <class T, class D>
void add_channel_bias(int64_t n, int64_t c, int64_t plane, const T* bias, T* y) {
  const Shape s{n, c, plane};
  Strides sb;
  sb.s[1] = 1;
  Kernels<D>::broadcast_map(s, fn::Add{}, y, y, contiguous_strides(s), bias, sb);
}

// Packed in 32 bits to fit a tape node's payload; each size is far below 2^31.
struct Conv2dAttrs {
  int32_t geometry[14];  // Conv2dGeometry, field by field; image side = input x
  int32_t cout, groups;
  bool has_bias;
  int8_t winograd_tile;  // 0: im2col
  bool saved_col;        // the forward pass kept col (or Winograd's V) for the weight gradient

  Conv2dAttrs() = default;
  Conv2dAttrs(const Conv2dGeometry& g, int64_t cout_, int64_t groups_, bool bias, int tile,
              bool col)
      : geometry{int32_t(g.n),  int32_t(g.c),  int32_t(g.h),  int32_t(g.w),  int32_t(g.kh),
                 int32_t(g.kw), int32_t(g.ho), int32_t(g.wo), int32_t(g.sh), int32_t(g.sw),
                 int32_t(g.ph), int32_t(g.pw), int32_t(g.dh), int32_t(g.dw)},
        cout(int32_t(cout_)),
        groups(int32_t(groups_)),
        has_bias(bias),
        winograd_tile(int8_t(tile)),
        saved_col(col) {}
  Conv2dGeometry unpack() const {
    const int32_t* v = geometry;
    return {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13]};
  }
};

// The adjoint of the forward pass on its tiles: dY = A dy A^T feeds both the weight gradient
// (dU[e] = dY[e] V[e]^T, dw = G^T dU G) and the data gradient (dV[e] = U[e]^T dY[e], then the
// adjoint input transform). U is transformed again rather than kept: it is cheap (0.2 ms for
// 256 x 256 kernels), and keeping it in the arena slowed the ResNet18 forward pass by 2 ms.
template <class T, class D>
void conv2d_winograd_backward(Tape<T, D>& tape, const Node<T, D>& n, const Conv2dAttrs& a) {
  const Conv2dGeometry g = a.unpack();
  const int tile = a.winograd_tile, elements = (tile + 2) * (tile + 2);
  const int64_t cout = a.cout, tiles = winograd_tiles(g, tile);
  const int64_t sv = winograd_stride(g.c, tiles), sy = winograd_stride(cout, tiles);
  const int64_t su = winograd_stride(cout, g.c);
  const Tensor<T, D> x = tape.value(tape.input(n, 0)), w = tape.value(tape.input(n, 1));
  const Tensor<T, D>& dy = tape.out_grad(n);
  GradTarget<T, D> gw = tape.grad_target(n, 1), gx = tape.grad_target(n, 0);
  if (gw || gx) {
    Tensor<T, D> dyt = tape.scratch(winograd_shape(tile, cout, tiles));
    Kernels<D>::winograd_output_grad_transform(tile, g, cout, dy.data(), dyt.data(), sy);
    if (gw) {
      Tensor<T, D> v = a.saved_col ? tape.saved(n, 0) : Tensor<T, D>();
      if (!v.defined()) {
        v = tape.scratch(winograd_shape(tile, g.c, tiles));
        Kernels<D>::winograd_input_transform(tile, g, x.data(), v.data(), sv);
      }
      Tensor<T, D> du = tape.scratch(winograd_shape(tile, cout, g.c));
      Kernels<D>::gemm_strided_batched(false, true, cout, g.c, tiles, T(1), dyt.data(), tiles, sy,
                                       v.data(), tiles, sv, T(0), du.data(), g.c, su, elements);
      Kernels<D>::winograd_weight_grad_transform(tile, cout, g.c, du.data(), su, gw.tensor.data(),
                                                 gw.accumulate);
    }
    if (gx) {
      Tensor<T, D> u = tape.scratch(winograd_shape(tile, cout, g.c));
      Kernels<D>::winograd_weight_transform(tile, cout, g.c, w.data(), u.data(), su);
      Tensor<T, D> dv = tape.scratch(winograd_shape(tile, g.c, tiles));
      Kernels<D>::gemm_strided_batched(true, false, g.c, tiles, cout, T(1), u.data(), g.c, su,
                                       dyt.data(), tiles, sy, T(0), dv.data(), tiles, sv, elements);
      Kernels<D>::winograd_input_adjoint_transform(tile, g, dv.data(), sv, gx.tensor.data(),
                                                   gx.accumulate);
    }
  }
  if (a.has_bias) bias_grad(tape.grad_target(n, 2), dy);
}

template <class T, class D>
void conv2d_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  const Conv2dAttrs a = n.template get<Conv2dAttrs>();
  if (a.winograd_tile) return conv2d_winograd_backward(tape, n, a);
  const Conv2dGeometry g = a.unpack();
  const Tensor<T, D> x = tape.value(tape.input(n, 0)), w = tape.value(tape.input(n, 1));
  const Tensor<T, D>& dy = tape.out_grad(n);
  const int64_t cols = g.n * g.out_plane(), ck = g.c * g.kh * g.kw;
  const int64_t ckg = ck / a.groups, coutg = a.cout / a.groups;
  Tensor<T, D> dyc = tape.scratch(Shape{a.cout, cols});
  to_channel_major<T, D>(g.n, a.cout, g.out_plane(), dy.data(), dyc.data());
  if (GradTarget<T, D> gw = tape.grad_target(n, 1)) {
    // The forward pass keeps col when the weight needs a gradient: rebuilding it would cost a
    // second pass over C*KH*KW*N*Ho*Wo values (as much traffic as the GEMM's operands).
    Tensor<T, D> col = a.saved_col ? tape.saved(n, 0) : Tensor<T, D>();
    if (!col.defined()) {
      col = tape.scratch(Shape{ck, cols});
      Kernels<D>::im2col_2d(g, x.data(), col.data());
    }
    for (int64_t gi = 0; gi < a.groups; ++gi)
      Kernels<D>::gemm(false, true, coutg, ckg, cols, T(1), dyc.data() + gi * coutg * cols, cols,
                       col.data() + gi * ckg * cols, cols, T(gw.accumulate ? 1 : 0),
                       gw.tensor.data() + gi * coutg * ckg, ckg);
  }
  if (GradTarget<T, D> gx = tape.grad_target(n, 0)) {
    Tensor<T, D> dcol = tape.scratch(Shape{ck, cols});
    for (int64_t gi = 0; gi < a.groups; ++gi)
      Kernels<D>::gemm(true, false, ckg, cols, coutg, T(1), w.data() + gi * coutg * ckg, ckg,
                       dyc.data() + gi * coutg * cols, cols, T(0), dcol.data() + gi * ckg * cols,
                       cols);
    Kernels<D>::col2im_2d(g, dcol.data(), gx.tensor.data(), gx.accumulate);
  }
  if (a.has_bias) bias_grad(tape.grad_target(n, 2), dy);
}

}  // namespace detail

// x [N, Cin, H, W], w [Cout, Cin/groups, KH, KW], optional b [Cout] -> [N, Cout, Ho, Wo] with
// Ho = (H + 2 ph - dh (KH - 1) - 1) / sh + 1 (and Wo alike).
template <class T, class D>
Var<T, D> conv2d(Var<T, D> x, Var<T, D> w, Var<T, D> b, const Conv2dOptions& o) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value(), wv = w.value();
  const Shape& xs = xv.shape();
  const Shape& ws = wv.shape();
  detail::check_conv_args("conv2d", o.stride_h, o.pad_h, o.dil_h);
  detail::check_conv_args("conv2d", o.stride_w, o.pad_w, o.dil_w);
  if (o.groups < 1 || (xs.rank == 4 && xs[1] % o.groups != 0) ||
      (ws.rank == 4 && ws[0] % o.groups != 0))
    throw ValueError("conv2d: " + std::to_string(o.groups) + " groups must divide the " +
                     (xs.rank == 4 ? std::to_string(xs[1]) : std::string("?")) + " input and the " +
                     (ws.rank == 4 ? std::to_string(ws[0]) : std::string("?")) +
                     " output channels");
  if (xs.rank != 4 || ws.rank != 4 || ws[1] * o.groups != xs[1])
    throw ShapeError("conv2d: input " + xs.str() + " does not fit weight " + ws.str() + " with " +
                     std::to_string(o.groups) +
                     " groups (expected [N, Cin, H, W] and [Cout, Cin/groups, KH, KW])");
  detail::check_bias("conv2d", b, ws[0]);
  const int64_t span_h = xs[2] + 2 * o.pad_h - o.dil_h * (ws[2] - 1) - 1;
  const int64_t span_w = xs[3] + 2 * o.pad_w - o.dil_w * (ws[3] - 1) - 1;
  if (span_h < 0 || span_w < 0)
    throw ShapeError("conv2d: input " + xs.str() + " is smaller than the dilated kernel of " +
                     ws.str() + " with padding " + std::to_string(o.pad_h) + "x" +
                     std::to_string(o.pad_w));
  const Conv2dGeometry g{xs[0],
                         xs[1],
                         xs[2],
                         xs[3],
                         ws[2],
                         ws[3],
                         span_h / o.stride_h + 1,
                         span_w / o.stride_w + 1,
                         o.stride_h,
                         o.stride_w,
                         o.pad_h,
                         o.pad_w,
                         o.dil_h,
                         o.dil_w};
  const int64_t cout = ws[0], ck = g.c * g.kh * g.kw, cols = g.n * g.out_plane();
  const int64_t ckg = ck / o.groups, coutg = cout / o.groups;
  const bool forced_winograd = o.algorithm == Conv2dAlgorithm::winograd ||
                               o.algorithm == Conv2dAlgorithm::winograd_2x2 ||
                               o.algorithm == Conv2dAlgorithm::winograd_4x4;
  if (forced_winograd && !detail::winograd_fits(g, o.groups))
    throw ValueError(
        "conv2d: Winograd needs a 3x3 kernel with stride 1, dilation 1, one group "
        "and equal padding of at most 2; got weight " +
        ws.str() + " with stride " + std::to_string(o.stride_h) + "x" + std::to_string(o.stride_w) +
        ", padding " + std::to_string(o.pad_h) + "x" + std::to_string(o.pad_w));
  int tile = 0;  // Winograd output tile, 0 for im2col
  switch (o.algorithm) {
    case Conv2dAlgorithm::automatic:
      tile = detail::winograd_tile_for(g, o.groups);
      break;
    case Conv2dAlgorithm::im2col:
      tile = 0;
      break;
    case Conv2dAlgorithm::winograd:
      tile = detail::winograd_tile(g);
      break;
    case Conv2dAlgorithm::winograd_2x2:
      tile = 2;
      break;
    case Conv2dAlgorithm::winograd_4x4:
      tile = 4;
      break;
  }
  // col (or Winograd's V) is kept for the weight gradient when one is needed; the other
  // temporaries live only during this call.
  auto scope = tape.scratch_scope();
  const bool keep_col = tape.recording() && w.requires_grad();
  const T* bias = b.defined() ? b.value().data() : nullptr;
  const Shape col_shape =
      tile ? detail::winograd_shape(tile, g.c, detail::winograd_tiles(g, tile)) : Shape{ck, cols};
  Tensor<T, D> col = keep_col ? tape.alloc(col_shape) : tape.scratch(col_shape);
  Tensor<T, D> y = tape.alloc(Shape{g.n, cout, g.ho, g.wo});
  if (tile) {
    const int64_t tiles = detail::winograd_tiles(g, tile);
    const int64_t su = winograd_stride(cout, g.c), sv = winograd_stride(g.c, tiles);
    const int64_t sm = winograd_stride(cout, tiles);
    Tensor<T, D> u = tape.scratch(detail::winograd_shape(tile, cout, g.c));
    Kernels<D>::winograd_weight_transform(tile, cout, g.c, wv.data(), u.data(), su);
    Kernels<D>::winograd_input_transform(tile, g, xv.data(), col.data(), sv);
    Tensor<T, D> m = tape.scratch(detail::winograd_shape(tile, cout, tiles));
    Kernels<D>::gemm_strided_batched(false, false, cout, tiles, g.c, T(1), u.data(), g.c, su,
                                     col.data(), tiles, sv, T(0), m.data(), tiles, sm,
                                     (tile + 2) * (tile + 2));
    Kernels<D>::winograd_output_transform(tile, g, cout, m.data(), sm, bias, y.data(), false);
  } else {
    Kernels<D>::im2col_2d(g, xv.data(), col.data());
    const int64_t plane = g.out_plane();
    if (plane >= detail::kConv2dPerSampleGemmPlane && g.n > 1) {
      // y[n] = W col[:, n] per sample, written in place: no channel-major staging buffer and no
      // transpose (2 * N * Cout * Ho * Wo values moved less; 7 MB each way for the ResNet stem).
      for (int64_t gi = 0; gi < o.groups; ++gi)
        Kernels<D>::gemm_strided_batched(false, false, coutg, plane, ckg, T(1),
                                         wv.data() + gi * coutg * ckg, ckg, 0,
                                         col.data() + gi * ckg * cols, cols, plane, T(0),
                                         y.data() + gi * coutg * plane, plane, cout * plane, g.n);
      if (bias) detail::add_channel_bias<T, D>(g.n, cout, plane, bias, y.data());
    } else {
      Tensor<T, D> yc = tape.scratch(Shape{cout, cols});
      for (int64_t gi = 0; gi < o.groups; ++gi)
        Kernels<D>::gemm(false, false, coutg, cols, ckg, T(1), wv.data() + gi * coutg * ckg, ckg,
                         col.data() + gi * ckg * cols, cols, T(0), yc.data() + gi * coutg * cols,
                         cols);
      detail::from_channel_major<T, D>(g.n, cout, plane, yc.data(), bias, y.data(), false);
    }
  }
  const bool rg = b.defined() ? tape.needs_grad({x, w, b}) : tape.needs_grad({x, w});
  Var<T, D> out = tape.output(y, rg);
  if (rg) {
    const detail::Conv2dAttrs attrs{g, cout, o.groups, b.defined(), tile, keep_col};
    const std::span<const Tensor<T, D>> saved(&col, keep_col ? 1 : 0);
    if (b.defined())
      tape.record("conv2d", &detail::conv2d_backward<T, D>, out,
                  std::initializer_list<Var<T, D>>{x, w, b}, saved)
          .put(attrs);
    else
      tape.record("conv2d", &detail::conv2d_backward<T, D>, out,
                  std::initializer_list<Var<T, D>>{x, w}, saved)
          .put(attrs);
  }
  return out;
}

// Square stride, padding and dilation.
template <class T, class D>
Var<T, D> conv2d(Var<T, D> x, Var<T, D> w, Var<T, D> b = {}, int64_t stride = 1,
                 int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1) {
  return conv2d(x, w, b, Conv2dOptions::square(stride, padding, dilation, groups));
}

}  // namespace mimic::ops
