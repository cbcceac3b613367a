#pragma once
// max_pool2d and adaptive_avg_pool2d on [N, C, H, W] (PyTorch semantics, floor mode).
#include <string>

#include "mimic/autograd/tape.hpp"
#include "mimic/core/conv_geometry.hpp"

namespace mimic::ops {
namespace detail {

struct MaxPoolAttrs {
  const int32_t* argmax;  // per output, the index of its maximum in the plane (tape arena)
  int32_t n, c, h, w, k, stride, padding, ho, wo;
  Conv2dGeometry geometry() const {
    return {n, c, h, w, k, k, ho, wo, stride, stride, padding, padding, 1, 1};
  }
};

template <class T, class D>
void max_pool2d_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  GradTarget<T, D> gx = tape.grad_target(n, 0);
  if (!gx) return;
  const MaxPoolAttrs a = n.template get<MaxPoolAttrs>();
  Kernels<D>::max_pool2d_backward_indexed(a.geometry(), a.argmax, tape.out_grad(n).data(),
                                          gx.tensor.data(), gx.accumulate);
}

struct AdaptivePoolAttrs {
  int64_t planes, h, w, ho, wo;
};

template <class T, class D>
void adaptive_avg_pool2d_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  GradTarget<T, D> gx = tape.grad_target(n, 0);
  if (!gx) return;
  const AdaptivePoolAttrs a = n.template get<AdaptivePoolAttrs>();
  Kernels<D>::adaptive_avg_pool2d_backward(a.planes, a.h, a.w, a.ho, a.wo, tape.out_grad(n).data(),
                                           gx.tensor.data(), gx.accumulate);
}

template <class T, class D>
const Shape& check_image(const char* op, const Tensor<T, D>& x) {
  if (x.shape().rank != 4)
    throw ShapeError(std::string(op) + ": input " + x.shape().str() +
                     " is not an image batch [N, C, H, W]");
  return x.shape();
}

}  // namespace detail

// Square window `kernel`, `stride` (PyTorch's default: the kernel size) and zero-cost padding
// (padded positions never win). Output size (H + 2p - k) / s + 1.
template <class T, class D>
Var<T, D> max_pool2d(Var<T, D> x, int64_t kernel, int64_t stride = 0, int64_t padding = 0) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value();
  const Shape& xs = detail::check_image("max_pool2d", xv);
  if (stride == 0) stride = kernel;
  if (kernel < 1 || stride < 1 || padding < 0 || 2 * padding > kernel)
    throw ValueError("max_pool2d: kernel " + std::to_string(kernel) + ", stride " +
                     std::to_string(stride) + ", padding " + std::to_string(padding) +
                     " (expected kernel, stride >= 1 and 0 <= padding <= kernel / 2)");
  if (xs[2] + 2 * padding < kernel || xs[3] + 2 * padding < kernel)
    throw ShapeError("max_pool2d: input " + xs.str() + " is smaller than the " +
                     std::to_string(kernel) + "x" + std::to_string(kernel) + " window");
  if (xs[2] * xs[3] >= (int64_t(1) << 31))
    throw ShapeError("max_pool2d: input " + xs.str() + " has more than 2^31 pixels per plane");
  detail::MaxPoolAttrs a{nullptr,
                         int32_t(xs[0]),
                         int32_t(xs[1]),
                         int32_t(xs[2]),
                         int32_t(xs[3]),
                         int32_t(kernel),
                         int32_t(stride),
                         int32_t(padding),
                         int32_t((xs[2] + 2 * padding - kernel) / stride + 1),
                         int32_t((xs[3] + 2 * padding - kernel) / stride + 1)};
  Tensor<T, D> y = tape.alloc(Shape{xs[0], xs[1], a.ho, a.wo});
  const bool rg = tape.needs_grad({x});
  Tensor<int32_t, D> argmax;
  if (rg) {
    argmax = tape.template alloc_as<int32_t>(y.shape());
    a.argmax = argmax.data();
  }
  Kernels<D>::max_pool2d_forward(a.geometry(), xv.data(), y.data(), rg ? argmax.data() : nullptr);
  Var<T, D> out = tape.output(y, rg);
  if (rg) tape.record("max_pool2d", &detail::max_pool2d_backward<T, D>, out, {x}).put(a);
  return out;
}

// Averages over PyTorch's adaptive bins to an [out_h, out_w] output.
template <class T, class D>
Var<T, D> adaptive_avg_pool2d(Var<T, D> x, int64_t out_h, int64_t out_w) {
  Tape<T, D>& tape = *x.tape;
  const Tensor<T, D> xv = x.value();
  const Shape& xs = detail::check_image("adaptive_avg_pool2d", xv);
  if (out_h < 1 || out_w < 1)
    throw ValueError("adaptive_avg_pool2d: output size " + std::to_string(out_h) + "x" +
                     std::to_string(out_w) + " (expected positive sizes)");
  if (xs[2] < 1 || xs[3] < 1)
    throw ShapeError("adaptive_avg_pool2d: input " + xs.str() + " has an empty image");
  const detail::AdaptivePoolAttrs a{xs[0] * xs[1], xs[2], xs[3], out_h, out_w};
  Tensor<T, D> y = tape.alloc(Shape{xs[0], xs[1], out_h, out_w});
  Kernels<D>::adaptive_avg_pool2d_forward(a.planes, a.h, a.w, a.ho, a.wo, xv.data(), y.data());
  const bool rg = tape.needs_grad({x});
  Var<T, D> out = tape.output(y, rg);
  if (rg)
    tape.record("adaptive_avg_pool2d", &detail::adaptive_avg_pool2d_backward<T, D>, out, {x})
        .put(a);
  return out;
}

}  // namespace mimic::ops
