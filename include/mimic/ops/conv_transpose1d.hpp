#pragma once
// conv_transpose1d (PyTorch semantics): the adjoint of conv1d. One GEMM then col2im:
//   col[Cout*K, N*L] = W^T[Cout*K, Cin] @ x'[Cin, N*L];  y = col2im(col)  (+ bias).
#include <string>

#include "mimic/ops/conv1d.hpp"

namespace mimic::ops {
namespace detail {

struct ConvTranspose1dAttrs {
  Conv1dGeometry g;  // image side = output y [N, Cout, Lo]; column side length = input length L
  int64_t cin;
  bool has_bias;
};

template <class T, class D>
void conv_transpose1d_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  const ConvTranspose1dAttrs a = n.template get<ConvTranspose1dAttrs>();
  const Conv1dGeometry& g = a.g;
  const Tensor<T, D> x = tape.value(tape.input(n, 0)), w = tape.value(tape.input(n, 1));
  const Tensor<T, D>& dy = tape.out_grad(n);
  const int64_t ck = g.c * g.k, cols = g.n * g.lo;
  Tensor<T, D> dcol = tape.scratch(Shape{ck, cols});
  Kernels<D>::im2col_1d(g, dy.data(), dcol.data());
  if (GradTarget<T, D> gx = tape.grad_target(n, 0)) {
    Tensor<T, D> dxc = tape.scratch(Shape{a.cin, cols});
    Kernels<D>::gemm(false, false, a.cin, cols, ck, T(1), w.data(), ck, dcol.data(), cols, T(0),
                     dxc.data(), cols);
    from_channel_major<T, D>(g.n, a.cin, g.lo, dxc.data(), nullptr, gx.tensor.data(),
                             gx.accumulate);
  }
  if (GradTarget<T, D> gw = tape.grad_target(n, 1)) {
    Tensor<T, D> xc = tape.scratch(Shape{a.cin, cols});
    to_channel_major<T, D>(g.n, a.cin, g.lo, x.data(), xc.data());
    Kernels<D>::gemm(false, true, a.cin, ck, cols, T(1), xc.data(), cols, dcol.data(), cols,
                     T(gw.accumulate ? 1 : 0), gw.tensor.data(), ck);
  }
  if (a.has_bias) bias_grad(tape.grad_target(n, 2), dy);
}

}  // namespace detail

// x [N, Cin, L], w [Cin, Cout, K], optional b [Cout]
//   -> [N, Cout, (L - 1)s - 2p + d(K - 1) + output_padding + 1].
template <class T, class D>
Var<T, D> conv_transpose1d(Var<T, D> x, Var<T, D> w, Var<T, D> b = {}, int64_t stride = 1,
                           int64_t padding = 0, int64_t output_padding = 0, int64_t dilation = 1) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value(), wv = w.value();
  const Shape& xs = xv.shape();
  const Shape& ws = wv.shape();
  detail::check_conv_args("conv_transpose1d", stride, padding, dilation);
  if (output_padding < 0 || (output_padding >= stride && output_padding >= dilation))
    throw ValueError("conv_transpose1d: output_padding " + std::to_string(output_padding) +
                     " must be smaller than stride or dilation");
  if (xs.rank != 3 || ws.rank != 3 || ws[0] != xs[1])
    throw ShapeError("conv_transpose1d: input " + xs.str() + " does not fit weight " + ws.str() +
                     " (expected [N, Cin, L] and [Cin, Cout, K])");
  detail::check_bias("conv_transpose1d", b, ws[1]);
  const int64_t lo =
      (xs[2] - 1) * stride - 2 * padding + dilation * (ws[2] - 1) + output_padding + 1;
  if (lo <= 0)
    throw ShapeError("conv_transpose1d: input " + xs.str() + " with weight " + ws.str() +
                     " gives an empty output");
  const int64_t cin = xs[1], cout = ws[1];
  const Conv1dGeometry g{xs[0], cout, lo, ws[2], xs[2], stride, padding, dilation};
  const int64_t ck = cout * g.k, cols = g.n * g.lo;
  auto scope = tape.scratch_scope();  // xc and col live only during this call
  Tensor<T, D> xc = tape.scratch(Shape{cin, cols});
  detail::to_channel_major<T, D>(g.n, cin, xs[2], xv.data(), xc.data());
  Tensor<T, D> col = tape.scratch(Shape{ck, cols});
  Kernels<D>::gemm(true, false, ck, cols, cin, T(1), wv.data(), ck, xc.data(), cols, T(0),
                   col.data(), cols);
  Tensor<T, D> y = tape.alloc(Shape{g.n, cout, lo});
  Kernels<D>::col2im_1d(g, col.data(), y.data(), false);
  if (b.defined()) {
    Strides sb;
    sb.s[1] = 1;
    Kernels<D>::broadcast_map(y.shape(), fn::Add{}, y.data(), y.data(),
                              contiguous_strides(y.shape()), b.value().data(), sb);
  }
  const bool rg = b.defined() ? tape.needs_grad({x, w, b}) : tape.needs_grad({x, w});
  Var<T, D> out = tape.output(y, rg);
  if (rg) {
    const detail::ConvTranspose1dAttrs attrs{g, cin, b.defined()};
    if (b.defined())
      tape.record("conv_transpose1d", &detail::conv_transpose1d_backward<T, D>, out, {x, w, b})
          .put(attrs);
    else
      tape.record("conv_transpose1d", &detail::conv_transpose1d_backward<T, D>, out, {x, w})
          .put(attrs);
  }
  return out;
}

}  // namespace mimic::ops
