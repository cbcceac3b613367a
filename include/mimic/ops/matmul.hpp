#pragma once
// matmul (2-D and batched) and linear (x W^T + b).
#include <string>

#include "mimic/autograd/tape.hpp"
#include "mimic/ops/grad_util.hpp"

namespace mimic::ops {
namespace detail {

// a: [..., M, K] and b: [..., K, N] with equal batch dims, or b: [K, N] shared by every batch.
struct MatmulDims {
  int64_t batch, m, k, n;
  bool b_shared;
};

inline MatmulDims matmul_dims(const char* op, const Shape& a, const Shape& b) {
  auto fail = [&](const char* why) {
    throw ShapeError(std::string(op) + ": " + why + " for shapes " + a.str() + " and " + b.str());
  };
  if (a.rank < 2 || b.rank < 2) fail("both operands need rank >= 2");
  MatmulDims d{a.prod(0, a.rank - 2), a[a.rank - 2], a[a.rank - 1], b[b.rank - 1], b.rank == 2};
  if (b[b.rank - 2] != d.k) fail("inner dimensions differ");
  if (!d.b_shared) {
    if (b.rank != a.rank) fail("batched operands need equal rank");
    for (int i = 0; i < a.rank - 2; ++i)
      if (a[i] != b[i]) fail("batch dimensions differ");
  }
  return d;
}

template <class T, class D>
void matmul_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  const Tensor<T, D> a = tape.value(tape.input(n, 0)), b = tape.value(tape.input(n, 1));
  const Tensor<T, D>& gy = tape.out_grad(n);
  const MatmulDims d = n.template get<MatmulDims>();
  if (GradTarget<T, D> ga = tape.grad_target(n, 0)) {
    // dA = dY B^T : per batch M x N times N x K
    Kernels<D>::gemm_strided_batched(false, true, d.m, d.k, d.n, T(1), gy.data(), d.n, d.m * d.n,
                                     b.data(), d.n, d.b_shared ? 0 : d.k * d.n,
                                     T(ga.accumulate ? 1 : 0), ga.tensor.data(), d.k, d.m * d.k,
                                     d.batch);
  }
  if (GradTarget<T, D> gb = tape.grad_target(n, 1)) {
    const T beta = T(gb.accumulate ? 1 : 0);
    if (d.b_shared)  // dB = sum over batches of A^T dY = A_flat^T dY_flat, one GEMM
      Kernels<D>::gemm(true, false, d.k, d.n, d.batch * d.m, T(1), a.data(), d.k, gy.data(), d.n,
                       beta, gb.tensor.data(), d.n);
    else
      Kernels<D>::gemm_strided_batched(true, false, d.k, d.n, d.m, T(1), a.data(), d.k, d.m * d.k,
                                       gy.data(), d.n, d.m * d.n, beta, gb.tensor.data(), d.n,
                                       d.k * d.n, d.batch);
  }
}

struct LinearDims {
  int64_t rows, in, out;
  bool has_bias;
};

template <class T, class D>
void linear_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  const LinearDims d = n.template get<LinearDims>();
  const Tensor<T, D> x = tape.value(tape.input(n, 0)), w = tape.value(tape.input(n, 1));
  const Tensor<T, D>& gy = tape.out_grad(n);
  if (GradTarget<T, D> gx = tape.grad_target(n, 0))  // dX = dY W : rows x out times out x in
    Kernels<D>::gemm(false, false, d.rows, d.in, d.out, T(1), gy.data(), d.out, w.data(), d.in,
                     T(gx.accumulate ? 1 : 0), gx.tensor.data(), d.in);
  if (GradTarget<T, D> gw = tape.grad_target(n, 1))  // dW = dY^T X : out x rows times rows x in
    Kernels<D>::gemm(true, false, d.out, d.in, d.rows, T(1), gy.data(), d.out, x.data(), d.in,
                     T(gw.accumulate ? 1 : 0), gw.tensor.data(), d.in);
  if (d.has_bias) reduce_into(tape.grad_target(n, 2), gy);  // db = column sums of dY
}

}  // namespace detail

// Matrix product over the last two dims; batch dims must match, or b is a shared 2-D matrix.
template <class T, class D>
Var<T, D> matmul(Var<T, D> a, Var<T, D> b) {
  Tape<T, D>& tape = *a.tape;
  const Tensor<T, D> av = a.value(), bv = b.value();
  const detail::MatmulDims d = detail::matmul_dims("matmul", av.shape(), bv.shape());
  Shape ys = av.shape();
  ys[ys.rank - 1] = d.n;
  Tensor<T, D> y = tape.alloc(ys);
  if (d.b_shared)  // one tall GEMM: (batch * M) x K times K x N
    Kernels<D>::gemm(false, false, d.batch * d.m, d.n, d.k, T(1), av.data(), d.k, bv.data(), d.n,
                     T(0), y.data(), d.n);
  else
    Kernels<D>::gemm_strided_batched(false, false, d.m, d.n, d.k, T(1), av.data(), d.k, d.m * d.k,
                                     bv.data(), d.n, d.k * d.n, T(0), y.data(), d.n, d.m * d.n,
                                     d.batch);
  const bool rg = tape.needs_grad({a, b});
  Var<T, D> out = tape.output(y, rg);
  if (rg) tape.record("matmul", &detail::matmul_backward<T, D>, out, {a, b}).put(d);
  return out;
}
// Batched matmul: a [B, M, K], b [B, K, N] (any equal leading dims).
template <class T, class D>
Var<T, D> bmm(Var<T, D> a, Var<T, D> b) {
  if (a.rank() < 3 || b.rank() != a.rank())
    throw ShapeError("bmm: expected two operands of equal rank >= 3, got " + a.shape().str() +
                     " and " + b.shape().str());
  return matmul(a, b);
}

// y = x W^T + b for x [..., in], W [out, in], b [out] (optional: pass an undefined Var).
template <class T, class D>
Var<T, D> linear(Var<T, D> x, Var<T, D> w, Var<T, D> b = {}) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value(), wv = w.value();
  const Shape& xs = xv.shape();
  if (xs.rank < 1 || wv.rank() != 2 || wv.dim(1) != xs.dim(-1))
    throw ShapeError("linear: input " + xs.str() + " does not fit weight " + wv.shape().str() +
                     " (expected [..., in] and [out, in])");
  detail::LinearDims d{xs.prod(0, xs.rank - 1), wv.dim(1), wv.dim(0), b.defined()};
  Shape ys = xs;
  ys[ys.rank - 1] = d.out;
  Tensor<T, D> y = tape.alloc(ys);
  if (d.has_bias) {
    const Tensor<T, D> bv = b.value();
    if (bv.rank() != 1 || bv.dim(0) != d.out)
      throw ShapeError("linear: bias " + bv.shape().str() + " does not match weight " +
                       wv.shape().str());
    // Broadcast the bias into y, then accumulate the product on top (beta = 1).
    Kernels<D>::broadcast_map(ys, fn::Identity{}, y.data(), bv.data(),
                              broadcast_strides(bv.shape(), ys));
  }
  Kernels<D>::gemm(false, true, d.rows, d.out, d.in, T(1), xv.data(), d.in, wv.data(), d.in,
                   T(d.has_bias ? 1 : 0), y.data(), d.out);
  const bool rg = d.has_bias ? tape.needs_grad({x, w, b}) : tape.needs_grad({x, w});
  Var<T, D> out = tape.output(y, rg);
  if (rg) {
    if (d.has_bias)
      tape.record("linear", &detail::linear_backward<T, D>, out, {x, w, b}).put(d);
    else
      tape.record("linear", &detail::linear_backward<T, D>, out, {x, w}).put(d);
  }
  return out;
}

}  // namespace mimic::ops
