#pragma once
// conv1d (PyTorch semantics) as im2col + one GEMM over the whole batch:
//   y'[Cout, N*Lo] = W[Cout, Cin*K] @ col[Cin*K, N*Lo], then y' is laid out as [N, Cout, Lo].
// FLOPs: 2 * N * Lo * Cout * Cin * K forward, twice that backward.
#include <string>

#include "mimic/autograd/tape.hpp"
#include "mimic/core/conv_geometry.hpp"
#include "mimic/ops/functors.hpp"
#include "mimic/ops/layout.hpp"

namespace mimic::ops {
namespace detail {

// [N, C, L] <-> channel-major [C, N, L] layout changes (the GEMM works channel-major).
template <class T, class D>
void to_channel_major(int64_t n, int64_t c, int64_t l, const T* x, T* xc) {
  swap_leading<T, D>(n, c, l, x, xc, false);
}
// y[N, C, L] (+)= yc[C, N, L] (+ bias[C] when given).
template <class T, class D>
void from_channel_major(int64_t n, int64_t c, int64_t l, const T* yc, const T* bias, T* y,
                        bool accumulate) {
  if (accumulate || !bias) {
    swap_leading<T, D>(c, n, l, yc, y, accumulate);
    return;
  }
  Strides st;  // yc read as [N, C, L]
  st.s[0] = l;
  st.s[1] = n * l;
  st.s[2] = 1;
  Strides sb;
  sb.s[1] = 1;
  Kernels<D>::broadcast_map(Shape{n, c, l}, fn::Add{}, y, yc, st, bias, sb);
}
// db[C] (+)= sum over n, l of dy[N, C, L].
template <class T, class D>
void bias_grad(const GradTarget<T, D>& gb, const Tensor<T, D>& dy) {
  if (!gb) return;
  Strides sb;
  sb.s[1] = 1;
  Kernels<D>::sum_to(dy.shape(), dy.data(), sb, gb.tensor.data(), gb.tensor.numel(), gb.accumulate);
}

struct Conv1dAttrs {
  Conv1dGeometry g;  // image side = input x
  int64_t cout;
  bool has_bias;
};

template <class T, class D>
void conv1d_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  const Conv1dAttrs a = n.template get<Conv1dAttrs>();
  const Conv1dGeometry& g = a.g;
  const Tensor<T, D> x = tape.value(tape.input(n, 0)), w = tape.value(tape.input(n, 1));
  const Tensor<T, D>& dy = tape.out_grad(n);
  const int64_t ck = g.c * g.k, cols = g.n * g.lo;
  Tensor<T, D> dyc = tape.scratch(Shape{a.cout, cols});
  to_channel_major<T, D>(g.n, a.cout, g.lo, dy.data(), dyc.data());
  if (GradTarget<T, D> gw = tape.grad_target(n, 1)) {
    Tensor<T, D> col = tape.scratch(Shape{ck, cols});  // recomputed: cheaper than keeping it alive
    Kernels<D>::im2col_1d(g, x.data(), col.data());
    Kernels<D>::gemm(false, true, a.cout, ck, cols, T(1), dyc.data(), cols, col.data(), cols,
                     T(gw.accumulate ? 1 : 0), gw.tensor.data(), ck);
  }
  if (GradTarget<T, D> gx = tape.grad_target(n, 0)) {
    Tensor<T, D> dcol = tape.scratch(Shape{ck, cols});
    Kernels<D>::gemm(true, false, ck, cols, a.cout, T(1), w.data(), ck, dyc.data(), cols, T(0),
                     dcol.data(), cols);
    Kernels<D>::col2im_1d(g, dcol.data(), gx.tensor.data(), gx.accumulate);
  }
  if (a.has_bias) bias_grad(tape.grad_target(n, 2), dy);
}

inline void check_conv_args(const char* op, int64_t stride, int64_t padding, int64_t dilation) {
  if (stride < 1 || padding < 0 || dilation < 1)
    throw ValueError(std::string(op) + ": stride " + std::to_string(stride) + ", padding " +
                     std::to_string(padding) + ", dilation " + std::to_string(dilation) +
                     " (expected stride >= 1, padding >= 0, dilation >= 1)");
}

template <class T, class D>
void check_bias(const char* op, Var<T, D> b, int64_t channels) {
  if (b.defined() && (b.rank() != 1 || b.dim(0) != channels))
    throw ShapeError(std::string(op) + ": bias " + b.shape().str() + " does not match " +
                     std::to_string(channels) + " output channels");
}

}  // namespace detail

// x [N, Cin, L], w [Cout, Cin, K], optional b [Cout] -> [N, Cout, (L + 2p - d(K-1) - 1)/s + 1].
template <class T, class D>
Var<T, D> conv1d(Var<T, D> x, Var<T, D> w, Var<T, D> b = {}, int64_t stride = 1,
                 int64_t padding = 0, int64_t dilation = 1) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value(), wv = w.value();
  const Shape& xs = xv.shape();
  const Shape& ws = wv.shape();
  detail::check_conv_args("conv1d", stride, padding, dilation);
  if (xs.rank != 3 || ws.rank != 3 || ws[1] != xs[1])
    throw ShapeError("conv1d: input " + xs.str() + " does not fit weight " + ws.str() +
                     " (expected [N, Cin, L] and [Cout, Cin, K])");
  detail::check_bias("conv1d", b, ws[0]);
  const int64_t lo = (xs[2] + 2 * padding - dilation * (ws[2] - 1) - 1) / stride + 1;
  if (xs[2] + 2 * padding - dilation * (ws[2] - 1) - 1 < 0 || lo <= 0)
    throw ShapeError("conv1d: input " + xs.str() + " is shorter than the dilated kernel of " +
                     ws.str() + " with padding " + std::to_string(padding));
  const Conv1dGeometry g{xs[0], xs[1], xs[2], ws[2], lo, stride, padding, dilation};
  const int64_t cout = ws[0], ck = g.c * g.k, cols = g.n * lo;
  auto scope = tape.scratch_scope();  // col and yc live only during this call
  Tensor<T, D> col = tape.scratch(Shape{ck, cols});
  Kernels<D>::im2col_1d(g, xv.data(), col.data());
  Tensor<T, D> yc = tape.scratch(Shape{cout, cols});
  Kernels<D>::gemm(false, false, cout, cols, ck, T(1), wv.data(), ck, col.data(), cols, T(0),
                   yc.data(), cols);
  Tensor<T, D> y = tape.alloc(Shape{g.n, cout, lo});
  detail::from_channel_major<T, D>(g.n, cout, lo, yc.data(),
                                   b.defined() ? b.value().data() : nullptr, y.data(), false);
  const bool rg = b.defined() ? tape.needs_grad({x, w, b}) : tape.needs_grad({x, w});
  Var<T, D> out = tape.output(y, rg);
  if (rg) {
    const detail::Conv1dAttrs attrs{g, cout, b.defined()};
    if (b.defined())
      tape.record("conv1d", &detail::conv1d_backward<T, D>, out, {x, w, b}).put(attrs);
    else
      tape.record("conv1d", &detail::conv1d_backward<T, D>, out, {x, w}).put(attrs);
  }
  return out;
}

}  // namespace mimic::ops
