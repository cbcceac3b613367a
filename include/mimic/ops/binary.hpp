#pragma once
// add, sub, mul, div, minimum, maximum with NumPy broadcasting, and the operator overloads on Var.
#include "mimic/autograd/tape.hpp"
#include "mimic/core/broadcast.hpp"
#include "mimic/ops/functors.hpp"
#include "mimic/ops/grad_util.hpp"
#include "mimic/ops/unary.hpp"

namespace mimic::ops {
namespace detail {

enum class BinaryKind : int { kAdd, kSub, kMul, kDiv, kMin, kMax };

// out = f(a, b) with a and b broadcast to `shape`.
template <class F, class T, class D>
void broadcast_apply(const F& f, const Tensor<T, D>& out, const Tensor<T, D>& a,
                     const Tensor<T, D>& b) {
  const Shape& s = out.shape();
  if (a.shape() == s && b.shape() == s) {
    Kernels<D>::map(s.numel(), f, out.data(), a.data(), b.data());
    return;
  }
  Kernels<D>::broadcast_map(s, f, out.data(), a.data(), broadcast_strides(a.shape(), s), b.data(),
                            broadcast_strides(b.shape(), s));
}

template <class T, class D>
void binary_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  const BinaryKind kind = n.template get<BinaryKind>();
  const Tensor<T, D>& gy = tape.out_grad(n);
  const Tensor<T, D> a = tape.value(tape.input(n, 0)), b = tape.value(tape.input(n, 1));
  GradTarget<T, D> ga = tape.grad_target(n, 0), gb = tape.grad_target(n, 1);
  const Shape& s = gy.shape();
  // Gradient wrt each input, shaped like the output, then reduced over broadcast dims.
  Tensor<T, D> full;
  auto scratch = [&] {
    if (!full.defined()) full = tape.alloc(s);
    return full;
  };
  switch (kind) {
    case BinaryKind::kAdd:
      reduce_into(ga, gy);
      reduce_into(gb, gy);
      break;
    case BinaryKind::kSub:
      reduce_into(ga, gy);
      if (gb) {
        Kernels<D>::map(s.numel(), fn::Forward<fn::Neg>{}, scratch().data(), gy.data());
        reduce_into(gb, full);
      }
      break;
    case BinaryKind::kMul:
      if (ga) {
        broadcast_apply(fn::Mul{}, scratch(), gy, b);
        reduce_into(ga, full);
      }
      if (gb) {
        broadcast_apply(fn::Mul{}, scratch(), gy, a);
        reduce_into(gb, full);
      }
      break;
    case BinaryKind::kDiv:
      if (ga) {
        broadcast_apply(fn::Div{}, scratch(), gy, b);
        reduce_into(ga, full);
      }
      if (gb) {
        // d(a/b)/db = -(a/b)/b = -y/b
        Kernels<D>::map(s.numel(), fn::Mul{}, scratch().data(), gy.data(),
                        tape.out_value(n).data());
        broadcast_apply(fn::DivGradB{}, full, full, b);
        reduce_into(gb, full);
      }
      break;
    case BinaryKind::kMin:
    case BinaryKind::kMax: {
      // gy times the share each input had in the choice (half each on a tie).
      const bool is_min = kind == BinaryKind::kMin;
      auto share = [&](const Tensor<T, D>& x, const Tensor<T, D>& other, GradTarget<T, D>& g) {
        if (!g) return;
        if (is_min)
          broadcast_apply(fn::MinShare{}, scratch(), x, other);
        else
          broadcast_apply(fn::MaxShare{}, scratch(), x, other);
        Kernels<D>::map(s.numel(), fn::Mul{}, full.data(), full.data(), gy.data());
        reduce_into(g, full);
      };
      share(a, b, ga);
      share(b, a, gb);
      break;
    }
  }
}

template <class F, class T, class D>
Var<T, D> binary(const char* name, BinaryKind kind, const F& f, Var<T, D> a, Var<T, D> b) {
  if (a.tape != b.tape) throw ValueError(std::string(name) + ": operands are on different tapes");
  Tape<T, D>& tape = *a.tape;
  const Tensor<T, D> av = a.value(), bv = b.value();
  Tensor<T, D> y = tape.alloc(broadcast_shapes(name, av.shape(), bv.shape()));
  broadcast_apply(f, y, av, bv);
  const bool rg = tape.needs_grad({a, b});
  Var<T, D> out = tape.output(y, rg);
  if (rg) tape.record(name, &binary_backward<T, D>, out, {a, b}).put(kind);
  return out;
}

}  // namespace detail

template <class T, class D>
Var<T, D> add(Var<T, D> a, Var<T, D> b) {
  return detail::binary("add", detail::BinaryKind::kAdd, fn::Add{}, a, b);
}
template <class T, class D>
Var<T, D> sub(Var<T, D> a, Var<T, D> b) {
  return detail::binary("sub", detail::BinaryKind::kSub, fn::Sub{}, a, b);
}
template <class T, class D>
Var<T, D> mul(Var<T, D> a, Var<T, D> b) {
  return detail::binary("mul", detail::BinaryKind::kMul, fn::Mul{}, a, b);
}
template <class T, class D>
Var<T, D> div(Var<T, D> a, Var<T, D> b) {
  return detail::binary("div", detail::BinaryKind::kDiv, fn::Div{}, a, b);
}
// torch.minimum / torch.maximum.
template <class T, class D>
Var<T, D> minimum(Var<T, D> a, Var<T, D> b) {
  return detail::binary("minimum", detail::BinaryKind::kMin, fn::Min{}, a, b);
}
template <class T, class D>
Var<T, D> maximum(Var<T, D> a, Var<T, D> b) {
  return detail::binary("maximum", detail::BinaryKind::kMax, fn::Max{}, a, b);
}

}  // namespace mimic::ops

namespace mimic {

template <class T, class D>
Var<T, D> operator+(Var<T, D> a, Var<T, D> b) {
  return ops::add(a, b);
}
template <class T, class D>
Var<T, D> operator-(Var<T, D> a, Var<T, D> b) {
  return ops::sub(a, b);
}
template <class T, class D>
Var<T, D> operator*(Var<T, D> a, Var<T, D> b) {
  return ops::mul(a, b);
}
template <class T, class D>
Var<T, D> operator/(Var<T, D> a, Var<T, D> b) {
  return ops::div(a, b);
}
template <class T, class D>
Var<T, D> operator-(Var<T, D> a) {
  return ops::neg(a);
}
template <class T, class D>
Var<T, D> operator+(Var<T, D> a, double c) {
  return ops::add_scalar(a, c);
}
template <class T, class D>
Var<T, D> operator+(double c, Var<T, D> a) {
  return ops::add_scalar(a, c);
}
template <class T, class D>
Var<T, D> operator-(Var<T, D> a, double c) {
  return ops::add_scalar(a, -c);
}
template <class T, class D>
Var<T, D> operator-(double c, Var<T, D> a) {
  return ops::rsub_scalar(c, a);
}
template <class T, class D>
Var<T, D> operator*(Var<T, D> a, double c) {
  return ops::mul_scalar(a, c);
}
template <class T, class D>
Var<T, D> operator*(double c, Var<T, D> a) {
  return ops::mul_scalar(a, c);
}
template <class T, class D>
Var<T, D> operator/(Var<T, D> a, double c) {
  return ops::mul_scalar(a, 1.0 / c);
}
template <class T, class D>
Var<T, D> operator/(double c, Var<T, D> a) {
  return ops::rdiv_scalar(c, a);
}

}  // namespace mimic
