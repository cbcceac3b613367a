#pragma once
// Shape ops: reshape (a view), slice, split/chunk, concat, stack, permute/transpose.
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "mimic/autograd/tape.hpp"
#include "mimic/ops/grad_util.hpp"

namespace mimic::ops {

// A fixed-capacity list of Vars (no heap), returned by split and chunk.
template <class T, class D>
class VarList {
 public:
  static constexpr int kCapacity = 16;
  void push_back(Var<T, D> v) {
    if (n_ == kCapacity) throw ValueError("VarList: more than 16 parts");
    items_[n_++] = v;
  }
  int size() const { return n_; }
  Var<T, D> operator[](int i) const { return items_[i]; }
  const Var<T, D>* begin() const { return items_; }
  const Var<T, D>* end() const { return items_ + n_; }

 private:
  Var<T, D> items_[kCapacity];
  int n_ = 0;
};

namespace detail {

template <class T, class D>
void reshape_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  reduce_into(tape.grad_target(n, 0), tape.out_grad(n));  // same element count: copy or add
}

struct SliceAttrs {
  int axis;
  int64_t begin;
};

template <class T, class D>
void slice_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  GradTarget<T, D> gx = tape.grad_target(n, 0);
  if (!gx) return;
  const SliceAttrs a = n.template get<SliceAttrs>();
  const Tensor<T, D>& gy = tape.out_grad(n);
  const Strides xs = contiguous_strides(gx.tensor.shape());
  if (!gx.accumulate) gx.tensor.zero();
  Kernels<D>::scatter_strided(gy.shape(), gx.tensor.data() + a.begin * xs[a.axis], xs, gy.data(),
                              true);
}

struct ConcatAttrs {
  int axis;
};

template <class T, class D>
void concat_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  const int axis = n.template get<ConcatAttrs>().axis;
  const Tensor<T, D>& gy = tape.out_grad(n);
  const Strides ys = contiguous_strides(gy.shape());
  int64_t offset = 0;
  for (int i = 0; i < n.n_inputs; ++i) {
    const Shape& s = tape.shape(tape.input(n, i));
    GradTarget<T, D> gx = tape.grad_target(n, i);
    if (gx) {
      const T* src = gy.data() + offset * ys[axis];
      if (gx.accumulate)
        Kernels<D>::broadcast_map(s, fn::Add{}, gx.tensor.data(), gx.tensor.data(),
                                  contiguous_strides(s), src, ys);
      else
        Kernels<D>::broadcast_map(s, fn::Identity{}, gx.tensor.data(), src, ys);
    }
    offset += s[axis];
  }
}

template <class T, class D>
Var<T, D> concat_impl(std::span<const Var<T, D>> xs, int axis) {
  if (xs.empty()) throw ShapeError("concat: no inputs");
  Tape<T, D>& tape = *xs[0].tape;
  const Shape& first = xs[0].shape();
  const int a = first.axis(axis);
  Shape ys = first;
  ys[a] = 0;
  for (const Var<T, D>& x : xs) {
    const Shape& s = x.shape();
    bool ok = s.rank == first.rank;
    for (int d = 0; ok && d < s.rank; ++d) ok = d == a || s[d] == first[d];
    if (!ok)
      throw ShapeError("concat: shape " + s.str() + " does not match " + first.str() +
                       " outside axis " + std::to_string(axis));
    ys[a] += s[a];
  }
  Tensor<T, D> y = tape.alloc(ys);
  const Strides st = contiguous_strides(ys);
  int64_t offset = 0;
  for (const Var<T, D>& x : xs) {
    const Tensor<T, D> xv = x.value();
    Kernels<D>::scatter_strided(xv.shape(), y.data() + offset * st[a], st, xv.data(), false);
    offset += xv.shape()[a];
  }
  const bool rg = tape.needs_grad_range(xs);
  Var<T, D> out = tape.output(y, rg);
  if (rg)
    tape.record("concat", &concat_backward<T, D>, out, xs, std::span<const Tensor<T, D>>{})
        .put(ConcatAttrs{a});
  return out;
}

struct PermuteAttrs {
  int perm[kMaxRank];
  int rank;
};

template <class T, class D>
void permute_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  GradTarget<T, D> gx = tape.grad_target(n, 0);
  if (!gx) return;
  const PermuteAttrs p = n.template get<PermuteAttrs>();
  // y[idx] = x[perm(idx)]: scatter gy back through the same permuted strides of x.
  const Strides xs = contiguous_strides(gx.tensor.shape());
  Strides st;
  for (int i = 0; i < p.rank; ++i) st.s[i] = xs[p.perm[i]];
  if (!gx.accumulate) gx.tensor.zero();
  Kernels<D>::scatter_strided(tape.out_grad(n).shape(), gx.tensor.data(), st,
                              tape.out_grad(n).data(), true);
}

}  // namespace detail

// Same memory, new shape (one -1 allowed); no copy.
template <class T, class D>
Var<T, D> reshape(Var<T, D> x, const Shape& shape) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> y = x.value().reshape(shape);
  const bool rg = tape.needs_grad({x});
  Var<T, D> out = tape.output(y, rg);
  if (rg) tape.record("reshape", &detail::reshape_backward<T, D>, out, {x});
  return out;
}
template <class T, class D>
Var<T, D> reshape(Var<T, D> x, std::initializer_list<int64_t> dims) {
  return reshape(x, x.value().reshape(dims).shape());
}

// Elements [begin, end) along `axis` (negative indices count from the end).
template <class T, class D>
Var<T, D> slice(Var<T, D> x, int axis, int64_t begin, int64_t end) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value();
  const Shape& xs = xv.shape();
  const int a = xs.axis(axis);
  const int64_t len = xs[a];
  if (begin < 0) begin += len;
  if (end < 0) end += len;
  if (begin < 0 || end > len || begin > end)
    throw ShapeError("slice: range [" + std::to_string(begin) + ", " + std::to_string(end) +
                     ") is out of bounds for axis " + std::to_string(axis) + " of shape " +
                     xs.str());
  Shape ys = xs;
  ys[a] = end - begin;
  const Strides st = contiguous_strides(xs);
  Tensor<T, D> y;
  if (xs.prod(0, a) == 1) {
    // One contiguous range: a view, like reshape (tape values are never written after creation).
    y = xv.reshape(Shape{len, xs.prod(a + 1, xs.rank)}).slice(begin, end).reshape(ys);
  } else {
    y = tape.alloc(ys);
    Kernels<D>::broadcast_map(ys, fn::Identity{}, y.data(), xv.data() + begin * st[a], st);
  }
  const bool rg = tape.needs_grad({x});
  Var<T, D> out = tape.output(y, rg);
  if (rg)
    tape.record("slice", &detail::slice_backward<T, D>, out, {x}).put(detail::SliceAttrs{a, begin});
  return out;
}

// Consecutive parts of the given sizes along `axis`; the sizes must add up to the axis length.
template <class T, class D>
VarList<T, D> split(Var<T, D> x, std::initializer_list<int64_t> sizes, int axis) {
  const Shape& xs = x.shape();
  const int a = xs.axis(axis);
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  if (total != xs[a])
    throw ShapeError("split: sizes add up to " + std::to_string(total) + " but axis " +
                     std::to_string(axis) + " of shape " + xs.str() + " has " +
                     std::to_string(xs[a]));
  VarList<T, D> parts;
  int64_t begin = 0;
  for (int64_t s : sizes) {
    parts.push_back(slice(x, a, begin, begin + s));
    begin += s;
  }
  return parts;
}
// n equal parts along `axis` (the axis length must be divisible by n).
template <class T, class D>
VarList<T, D> chunk(Var<T, D> x, int n, int axis) {
  const Shape& xs = x.shape();
  const int a = xs.axis(axis);
  if (n <= 0 || xs[a] % n != 0)
    throw ShapeError("chunk: axis " + std::to_string(axis) + " of shape " + xs.str() +
                     " does not split into " + std::to_string(n) + " equal parts");
  VarList<T, D> parts;
  const int64_t step = xs[a] / n;
  for (int i = 0; i < n; ++i) parts.push_back(slice(x, a, i * step, (i + 1) * step));
  return parts;
}

template <class T, class D>
Var<T, D> concat(const std::vector<Var<T, D>>& xs, int axis) {
  return detail::concat_impl(std::span<const Var<T, D>>(xs.data(), xs.size()), axis);
}
template <class T, class D>
Var<T, D> concat(std::initializer_list<Var<T, D>> xs, int axis) {
  return detail::concat_impl(std::span<const Var<T, D>>(xs.begin(), xs.size()), axis);
}
template <class T, class D>
Var<T, D> concat(const VarList<T, D>& xs, int axis) {
  return detail::concat_impl(std::span<const Var<T, D>>(xs.begin(), xs.size()), axis);
}

// Joins equal-shaped tensors along a new axis.
template <class T, class D>
Var<T, D> stack(std::span<const Var<T, D>> xs, int axis) {
  if (xs.empty()) throw ShapeError("stack: no inputs");
  const Shape& s0 = xs[0].shape();
  const int a = axis < 0 ? axis + s0.rank + 1 : axis;
  if (a < 0 || a > s0.rank)
    throw ShapeError("stack: axis " + std::to_string(axis) + " is out of range for shape " +
                     s0.str());
  Shape expanded;
  for (int i = 0; i < s0.rank; ++i) {
    if (i == a) expanded.push_back(1);
    expanded.push_back(s0[i]);
  }
  if (a == s0.rank) expanded.push_back(1);
  VarList<T, D> parts;
  for (const Var<T, D>& x : xs) {
    if (x.shape() != s0)
      throw ShapeError("stack: shape " + x.shape().str() + " differs from " + s0.str());
    parts.push_back(reshape(x, expanded));
  }
  return concat(parts, a);
}
template <class T, class D>
Var<T, D> stack(const std::vector<Var<T, D>>& xs, int axis) {
  return stack(std::span<const Var<T, D>>(xs.data(), xs.size()), axis);
}
template <class T, class D>
Var<T, D> stack(std::initializer_list<Var<T, D>> xs, int axis) {
  return stack(std::span<const Var<T, D>>(xs.begin(), xs.size()), axis);
}

// Reorders dims: output dim i is input dim perm[i].
template <class T, class D>
Var<T, D> permute(Var<T, D> x, std::initializer_list<int> perm) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value();
  const Shape& xs = xv.shape();
  detail::PermuteAttrs p{};
  p.rank = xs.rank;
  bool ok = static_cast<int>(perm.size()) == xs.rank;
  unsigned seen = 0;
  int i = 0;
  for (int d : perm) {
    const int k = d < 0 ? d + xs.rank : d;
    ok = ok && k >= 0 && k < xs.rank && !(seen & (1u << k));
    if (!ok) break;
    seen |= 1u << k;
    p.perm[i++] = k;
  }
  if (!ok) throw ShapeError("permute: invalid permutation for shape " + xs.str());
  const Strides st = contiguous_strides(xs);
  Shape ys;
  Strides src;
  for (int k = 0; k < xs.rank; ++k) {
    ys.push_back(xs[p.perm[k]]);
    src.s[k] = st[p.perm[k]];
  }
  Tensor<T, D> y = tape.alloc(ys);
  Kernels<D>::broadcast_map(ys, fn::Identity{}, y.data(), xv.data(), src);
  const bool rg = tape.needs_grad({x});
  Var<T, D> out = tape.output(y, rg);
  if (rg) tape.record("permute", &detail::permute_backward<T, D>, out, {x}).put(p);
  return out;
}
// Swaps dims a and b.
template <class T, class D>
Var<T, D> transpose(Var<T, D> x, int a, int b) {
  const Shape& s = x.shape();
  const int ka = s.axis(a), kb = s.axis(b);
  int perm[kMaxRank];
  for (int i = 0; i < s.rank; ++i) perm[i] = i;
  perm[ka] = kb;
  perm[kb] = ka;
  switch (s.rank) {
    case 2:
      return permute(x, {perm[0], perm[1]});
    case 3:
      return permute(x, {perm[0], perm[1], perm[2]});
    case 4:
      return permute(x, {perm[0], perm[1], perm[2], perm[3]});
    case 5:
      return permute(x, {perm[0], perm[1], perm[2], perm[3], perm[4]});
    case 6:
      return permute(x, {perm[0], perm[1], perm[2], perm[3], perm[4], perm[5]});
    default:
      return permute(x, {perm[0]});
  }
}

}  // namespace mimic::ops
