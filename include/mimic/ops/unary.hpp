#pragma once
// Elementwise unary ops and activations: one generic op over the functors of ops/functors.hpp.
#include "mimic/autograd/tape.hpp"
#include "mimic/ops/functors.hpp"
#include "mimic/ops/grad_util.hpp"

namespace mimic::ops {
namespace detail {

template <class F, class T, class D>
void unary_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  const F f = n.template get<F>();
  const Tensor<T, D> x = tape.value(tape.input(n, 0));
  map_into(tape.grad_target(n, 0), fn::BackwardSet<F>{f}, x.data(), tape.out_value(n).data(),
           tape.out_grad(n).data());
}

}  // namespace detail

// y = f(x) elementwise, recorded with the functor's derivative.
template <class F, class T, class D>
Var<T, D> unary(const char* name, Var<T, D> x, const F& f) {
  Tape<T, D>& tape = *x.tape;
  Tensor<T, D> xv = x.value();
  Tensor<T, D> y = tape.alloc(xv.shape());
  Kernels<D>::map(xv.numel(), fn::Forward<F>{f}, y.data(), xv.data());
  const bool rg = tape.needs_grad({x});
  Var<T, D> out = tape.output(y, rg);
  if (rg) tape.record(name, &detail::unary_backward<F, T, D>, out, {x}).put(f);
  return out;
}

template <class T, class D>
Var<T, D> neg(Var<T, D> x) {
  return unary("neg", x, fn::Neg{});
}
template <class T, class D>
Var<T, D> exp(Var<T, D> x) {
  return unary("exp", x, fn::Exp{});
}
template <class T, class D>
Var<T, D> log(Var<T, D> x) {
  return unary("log", x, fn::Log{});
}
template <class T, class D>
Var<T, D> sqrt(Var<T, D> x) {
  return unary("sqrt", x, fn::Sqrt{});
}
template <class T, class D>
Var<T, D> abs(Var<T, D> x) {
  return unary("abs", x, fn::Abs{});
}
template <class T, class D>
Var<T, D> pow(Var<T, D> x, double p) {
  return unary("pow", x, fn::PowScalar{p});
}
template <class T, class D>
Var<T, D> clamp(Var<T, D> x, double lo, double hi) {
  if (!(lo <= hi))
    throw ValueError("clamp: min " + std::to_string(lo) + " exceeds max " + std::to_string(hi));
  return unary("clamp", x, fn::Clamp{lo, hi});
}
template <class T, class D>
Var<T, D> add_scalar(Var<T, D> x, double c) {
  return unary("add_scalar", x, fn::AddScalar{c});
}
template <class T, class D>
Var<T, D> mul_scalar(Var<T, D> x, double c) {
  return unary("mul_scalar", x, fn::MulScalar{c});
}
template <class T, class D>
Var<T, D> rsub_scalar(double c, Var<T, D> x) {
  return unary("rsub_scalar", x, fn::RsubScalar{c});
}
template <class T, class D>
Var<T, D> rdiv_scalar(double c, Var<T, D> x) {
  return unary("rdiv_scalar", x, fn::RdivScalar{c});
}

template <class T, class D>
Var<T, D> relu(Var<T, D> x) {
  return unary("relu", x, fn::Relu{});
}
template <class T, class D>
Var<T, D> leaky_relu(Var<T, D> x, double slope = 0.01) {
  return unary("leaky_relu", x, fn::LeakyRelu{slope});
}
template <class T, class D>
Var<T, D> elu(Var<T, D> x, double alpha = 1.0) {
  return unary("elu", x, fn::Elu{alpha});
}
template <class T, class D>
Var<T, D> gelu(Var<T, D> x, bool tanh_approximation = false) {
  return tanh_approximation ? unary("gelu_tanh", x, fn::GeluTanh{}) : unary("gelu", x, fn::Gelu{});
}
template <class T, class D>
Var<T, D> silu(Var<T, D> x) {
  return unary("silu", x, fn::Silu{});
}
template <class T, class D>
Var<T, D> mish(Var<T, D> x) {
  return unary("mish", x, fn::Mish{});
}
template <class T, class D>
Var<T, D> tanh(Var<T, D> x) {
  return unary("tanh", x, fn::Tanh{});
}
template <class T, class D>
Var<T, D> sigmoid(Var<T, D> x) {
  return unary("sigmoid", x, fn::Sigmoid{});
}
template <class T, class D>
Var<T, D> softplus(Var<T, D> x) {
  return unary("softplus", x, fn::Softplus{});
}

}  // namespace mimic::ops
