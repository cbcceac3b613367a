#pragma once
// conv2d (PyTorch semantics, with groups) as im2col + one GEMM per group over the whole batch:
//   y'[Cout, N*Ho*Wo] = W[Cout, Cin/G*KH*KW] @ col[Cin*KH*KW, N*Ho*Wo], laid out as [N, Cout, Ho,
//   Wo].
// FLOPs: 2 * N * Ho * Wo * Cout * Cin/G * KH * KW forward, twice that backward. Batching every
// sample into one GEMM keeps the late ResNet stages (3x3 outputs) GEMM-shaped.
#include <string>

#include "mimic/ops/conv1d.hpp"

namespace mimic::ops {

// Per-axis stride, padding and dilation, and the number of channel groups.
struct Conv2dOptions {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1, groups = 1;
  static Conv2dOptions square(int64_t stride, int64_t padding, int64_t dilation = 1,
                              int64_t groups = 1) {
    return {stride, stride, padding, padding, dilation, dilation, groups};
  }
};

namespace detail {

// Packed in 32 bits to fit a tape node's payload; each size is far below 2^31.
struct Conv2dAttrs {
  int32_t geometry[14];  // Conv2dGeometry, field by field; image side = input x
  int32_t cout, groups;
  bool has_bias;

  Conv2dAttrs() = default;
  Conv2dAttrs(const Conv2dGeometry& g, int64_t cout_, int64_t groups_, bool bias)
      : geometry{int32_t(g.n),  int32_t(g.c),  int32_t(g.h),  int32_t(g.w),  int32_t(g.kh),
                 int32_t(g.kw), int32_t(g.ho), int32_t(g.wo), int32_t(g.sh), int32_t(g.sw),
                 int32_t(g.ph), int32_t(g.pw), int32_t(g.dh), int32_t(g.dw)},
        cout(int32_t(cout_)),
        groups(int32_t(groups_)),
        has_bias(bias) {}
  Conv2dGeometry unpack() const {
    const int32_t* v = geometry;
    return {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13]};
  }
};

template <class T, class D>
void conv2d_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  const Conv2dAttrs a = n.template get<Conv2dAttrs>();
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
    Tensor<T, D> col = n.n_saved > 0 ? tape.saved(n, 0) : Tensor<T, D>();
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
  // col is kept for the weight gradient when one is needed; yc lives only during this call.
  auto scope = tape.scratch_scope();
  const bool keep_col = tape.recording() && w.requires_grad();
  Tensor<T, D> col = keep_col ? tape.alloc(Shape{ck, cols}) : tape.scratch(Shape{ck, cols});
  Kernels<D>::im2col_2d(g, xv.data(), col.data());
  Tensor<T, D> yc = tape.scratch(Shape{cout, cols});
  for (int64_t gi = 0; gi < o.groups; ++gi)
    Kernels<D>::gemm(false, false, coutg, cols, ckg, T(1), wv.data() + gi * coutg * ckg, ckg,
                     col.data() + gi * ckg * cols, cols, T(0), yc.data() + gi * coutg * cols, cols);
  Tensor<T, D> y = tape.alloc(Shape{g.n, cout, g.ho, g.wo});
  detail::from_channel_major<T, D>(g.n, cout, g.out_plane(), yc.data(),
                                   b.defined() ? b.value().data() : nullptr, y.data(), false);
  const bool rg = b.defined() ? tape.needs_grad({x, w, b}) : tape.needs_grad({x, w});
  Var<T, D> out = tape.output(y, rg);
  if (rg) {
    const detail::Conv2dAttrs attrs{g, cout, o.groups, b.defined()};
    std::initializer_list<Tensor<T, D>> saved = {col};
    if (!keep_col) saved = {};
    if (b.defined())
      tape.record("conv2d", &detail::conv2d_backward<T, D>, out, {x, w, b}, saved).put(attrs);
    else
      tape.record("conv2d", &detail::conv2d_backward<T, D>, out, {x, w}, saved).put(attrs);
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
