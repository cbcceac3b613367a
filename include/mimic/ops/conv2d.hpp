#pragma once
// conv2d (PyTorch semantics, with groups). The op checks shapes and records the tape node; the
// backend chooses and runs the algorithm (Kernels<D>::conv2d_plan / conv2d_forward /
// conv2d_backward, backend/contract.hpp). On the CPU that is im2col + GEMM or Winograd
// F(2x2, 3x3) / F(4x4, 3x3) (backend/cpu/conv2d.hpp).
#include <span>
#include <string>

#include "mimic/backend/kernel_types.hpp"
#include "mimic/ops/conv1d.hpp"

namespace mimic::ops {

// `automatic` lets the backend choose (the CPU: Winograd where it fits and pays); the others
// force one algorithm and tile (backend/kernel_types.hpp).
using Conv2dAlgorithm = mimic::Conv2dAlgorithm;

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

// Packed in 32 bits to fit a tape node's payload; each size is far below 2^31.
struct Conv2dAttrs {
  int32_t geometry[14];  // Conv2dGeometry, field by field; image side = input x
  int32_t cout, groups;
  Conv2dPlan plan;  // the backend's choice, handed back to conv2d_backward
  bool has_bias;
  bool saved_col;  // the forward pass kept the plan's saved buffer for the weight gradient

  Conv2dAttrs() = default;
  Conv2dAttrs(const Conv2dGeometry& g, int64_t cout_, int64_t groups_, bool bias,
              const Conv2dPlan& plan_, bool col)
      : geometry{int32_t(g.n),  int32_t(g.c),  int32_t(g.h),  int32_t(g.w),  int32_t(g.kh),
                 int32_t(g.kw), int32_t(g.ho), int32_t(g.wo), int32_t(g.sh), int32_t(g.sw),
                 int32_t(g.ph), int32_t(g.pw), int32_t(g.dh), int32_t(g.dw)},
        cout(int32_t(cout_)),
        groups(int32_t(groups_)),
        plan(plan_),
        has_bias(bias),
        saved_col(col) {}
  Conv2dGeometry unpack() const {
    const int32_t* v = geometry;
    return {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13]};
  }
};

// Scratch memory for a backend's convolution: n elements from the tape's scratch arena, valid
// until the op's ScratchScope ends.
template <class T, class D>
struct TapeScratch {
  Tape<T, D>& tape;
  T* operator()(int64_t n) const { return tape.scratch(Shape{n}).data(); }
};

template <class T, class D>
void conv2d_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  const Conv2dAttrs a = n.template get<Conv2dAttrs>();
  const Conv2dGeometry g = a.unpack();
  const Tensor<T, D> x = tape.value(tape.input(n, 0)), w = tape.value(tape.input(n, 1));
  const Tensor<T, D>& dy = tape.out_grad(n);
  GradTarget<T, D> gw = tape.grad_target(n, 1), gx = tape.grad_target(n, 0);
  const T* saved = a.saved_col ? tape.saved(n, 0).data() : nullptr;
  Kernels<D>::conv2d_backward(g, a.cout, a.groups, a.plan, x.data(), w.data(), dy.data(), saved,
                              gx ? gx.tensor.data() : nullptr, gx.accumulate,
                              gw ? gw.tensor.data() : nullptr, gw.accumulate,
                              TapeScratch<T, D>{tape});
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
  const int64_t cout = ws[0];
  const Conv2dPlan plan = Kernels<D>::conv2d_plan(g, cout, o.groups, o.algorithm);
  // The plan's saved buffer (im2col's col, Winograd's V) is kept for the weight gradient when
  // one is needed; the backend's other temporaries live only during this call.
  auto scope = tape.scratch_scope();
  const bool keep_col = tape.recording() && w.requires_grad();
  const T* bias = b.defined() ? b.value().data() : nullptr;
  const Shape col_shape{plan.saved_numel};
  Tensor<T, D> col = keep_col ? tape.alloc(col_shape) : tape.scratch(col_shape);
  Tensor<T, D> y = tape.alloc(Shape{g.n, cout, g.ho, g.wo});
  Kernels<D>::conv2d_forward(g, cout, o.groups, plan, xv.data(), wv.data(), bias, y.data(),
                             col.data(), detail::TapeScratch<T, D>{tape});
  const bool rg = b.defined() ? tape.needs_grad({x, w, b}) : tape.needs_grad({x, w});
  Var<T, D> out = tape.output(y, rg);
  if (rg) {
    const detail::Conv2dAttrs attrs{g, cout, o.groups, b.defined(), plan, keep_col};
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
