#pragma once
// crop2d: cuts `crops` windows of [ch, cw] out of every image of x [N, C, H, W], giving
// [N * crops, C, ch, cw] (sample n's crops are consecutive, as robomimic's CropRandomizer lays
// them out). The backward pass adds each window's gradient back at its offset.
#include <string>
#include <vector>

#include "mimic/autograd/tape.hpp"

namespace mimic::ops {
namespace detail {

struct CropAttrs {
  const int64_t* offsets;  // a copy in the tape's arena (device memory), alive until reset()
  int64_t n, c, h, w, ch, cw, crops;
};

template <class T, class D>
void crop2d_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  GradTarget<T, D> gx = tape.grad_target(n, 0);
  if (!gx) return;
  const CropAttrs a = n.template get<CropAttrs>();
  Kernels<D>::crop2d_backward(a.n, a.c, a.h, a.w, a.ch, a.cw, a.crops, a.offsets,
                              tape.out_grad(n).data(), gx.tensor.data(), gx.accumulate);
}

}  // namespace detail

// offsets holds (top, left) for each output sample o = n * crops + k: 2 * N * crops values.
template <class T, class D>
Var<T, D> crop2d(Var<T, D> x, int64_t ch, int64_t cw, int64_t crops,
                 const std::vector<int64_t>& offsets) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value();
  const Shape& xs = xv.shape();
  if (xs.rank != 4)
    throw ShapeError("crop2d: input " + xs.str() + " is not an image batch [N, C, H, W]");
  if (ch < 1 || cw < 1 || ch > xs[2] || cw > xs[3] || crops < 1)
    throw ShapeError("crop2d: a " + std::to_string(ch) + "x" + std::to_string(cw) + " crop (x" +
                     std::to_string(crops) + ") does not fit input " + xs.str());
  const int64_t outputs = xs[0] * crops;
  if (static_cast<int64_t>(offsets.size()) != 2 * outputs)
    throw ShapeError("crop2d: " + std::to_string(offsets.size()) + " offsets for " +
                     std::to_string(outputs) + " crops (expected 2 per crop)");
  for (int64_t o = 0; o < outputs; ++o) {
    const int64_t top = offsets[2 * o], left = offsets[2 * o + 1];
    if (top < 0 || left < 0 || top + ch > xs[2] || left + cw > xs[3])
      throw ValueError("crop2d: crop " + std::to_string(o) + " at (" + std::to_string(top) + ", " +
                       std::to_string(left) + ") leaves the " + std::to_string(xs[2]) + "x" +
                       std::to_string(xs[3]) + " image");
  }
  Tensor<int64_t, D> off = tape.template alloc_as<int64_t>(Shape{2 * outputs});
  Kernels<D>::from_host(off.data(), offsets.data(), offsets.size() * sizeof(int64_t));
  Tensor<T, D> y = tape.alloc(Shape{outputs, xs[1], ch, cw});
  Kernels<D>::crop2d_forward(xs[0], xs[1], xs[2], xs[3], ch, cw, crops, off.data(), xv.data(),
                             y.data());
  const bool rg = tape.needs_grad({x});
  Var<T, D> out = tape.output(y, rg);
  if (rg)
    tape.record("crop2d", &detail::crop2d_backward<T, D>, out, {x})
        .put(detail::CropAttrs{off.data(), xs[0], xs[1], xs[2], xs[3], ch, cw, crops});
  return out;
}

}  // namespace mimic::ops
