#pragma once
// SpatialSoftmax (robomimic): a 1x1 convolution to K keypoint maps, a softmax over each map's
// H*W positions (divided by a temperature), and the expected (x, y) of each map on a [-1, 1]
// grid: [N, C, H, W] -> [N, 2K] as (x0, y0, x1, y1, ...). Optional Gaussian keypoint noise in
// training.
#include <vector>

#include "mimic/core/philox.hpp"
#include "mimic/nn/conv2d.hpp"
#include "mimic/ops/binary.hpp"
#include "mimic/ops/matmul.hpp"
#include "mimic/ops/shape.hpp"
#include "mimic/ops/softmax.hpp"

namespace mimic::nn {

struct SpatialSoftmaxOptions {
  int64_t num_kp = 32;  // 0 keeps the input channels as keypoints (no 1x1 convolution)
  double temperature = 1.0;
  bool learnable_temperature = false;
  double noise_std = 0.0;
};

namespace detail {
// Gaussian keypoint noise from the policy's Philox stream: element i of a draw starting at
// `first`. At namespace scope so that CUDA can launch it.
template <class U>
struct KeypointNoise {
  uint64_t seed, first;
  U std_dev;
  MIMIC_HD U operator()(int64_t i) const {
    return U(philox_normal<double>(seed, first + uint64_t(i))) * std_dev;
  }
};
}  // namespace detail

template <class T, class D = Cpu>
struct SpatialSoftmax {
  Conv2d<T, D> nets;
  ParamId temperature;  // [1]; frozen unless learnable
  int64_t channels = 0, height = 0, width = 0, keypoints = 0;
  double noise_std = 0.0;

  SpatialSoftmax() = default;
  // input_shape is [C, H, W].
  SpatialSoftmax(ParamStore<T, D>& store, const std::string& prefix, const Shape& input_shape,
                 const SpatialSoftmaxOptions& opt = {})
      : noise_std(opt.noise_std) {
    if (input_shape.rank != 3 || input_shape.numel() <= 0)
      throw ShapeError("SpatialSoftmax '" + prefix + "': input shape " + input_shape.str() +
                       " (expected [C, H, W])");
    if (!(opt.temperature > 0.0) || opt.noise_std < 0.0 || opt.num_kp < 0)
      throw ValueError("SpatialSoftmax '" + prefix + "': temperature " +
                       std::to_string(opt.temperature) + ", noise_std " +
                       std::to_string(opt.noise_std) + ", num_kp " + std::to_string(opt.num_kp) +
                       " (expected temperature > 0, noise_std >= 0, num_kp >= 0)");
    channels = input_shape[0];
    height = input_shape[1];
    width = input_shape[2];
    keypoints = opt.num_kp > 0 ? opt.num_kp : channels;
    if (opt.num_kp > 0) nets = Conv2d<T, D>(store, join(prefix, "nets"), channels, keypoints, 1, 1);
    temperature = store.declare(join(prefix, "temperature"), {1},
                                Init{Init::kConstant, opt.temperature}, opt.learnable_temperature);
  }
  int64_t output_dim() const { return 2 * keypoints; }

  // rng is needed only for keypoint noise in training.
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x, PhiloxStream* rng,
                       bool training) const {
    Tape<T, D>& tape = *x.tape;
    const Shape xs = x.shape();
    if (xs.rank != 4 || xs[1] != channels || xs[2] != height || xs[3] != width)
      throw ShapeError("SpatialSoftmax: input " + xs.str() + " (expected [N, " +
                       std::to_string(channels) + ", " + std::to_string(height) + ", " +
                       std::to_string(width) + "])");
    const int64_t n = xs[0], positions = height * width;
    Var<T, D> maps = nets.weight.defined() ? nets(store, x) : x;
    maps = ops::reshape(maps, Shape{n * keypoints, positions});
    maps = ops::div(maps, store.on(tape, temperature));
    Var<T, D> attention = ops::softmax(maps, -1);
    Var<T, D> xy = ops::matmul(attention, tape.constant(grid(tape)));  // [N*K, 2]
    xy = ops::reshape(xy, Shape{n, 2 * keypoints});
    if (training && noise_std > 0.0) {
      if (!rng)
        throw ValueError("SpatialSoftmax: keypoint noise in training needs a random stream");
      Tensor<T, D> noise = tape.alloc(Shape{n, 2 * keypoints});
      const uint64_t seed = rng->seed, first = rng->advance(uint64_t(noise.numel()));
      const T std_dev = T(noise_std);
      Kernels<D>::generate(noise.numel(), detail::KeypointNoise<T>{seed, first, std_dev},
                           noise.data());
      xy = ops::add(xy, tape.constant(noise));
    }
    return xy;
  }

 private:
  // pos[h*W + w] = (x, y) with x = linspace(-1, 1, W)[w], y = linspace(-1, 1, H)[h].
  Tensor<T, D> grid(Tape<T, D>& tape) const {
    std::vector<T> host(static_cast<size_t>(2 * height * width));
    auto lin = [](int64_t i, int64_t count) {
      return count > 1 ? -1.0 + 2.0 * double(i) / double(count - 1) : -1.0;
    };
    for (int64_t h = 0; h < height; ++h)
      for (int64_t w = 0; w < width; ++w) {
        host[size_t(2 * (h * width + w))] = T(lin(w, width));
        host[size_t(2 * (h * width + w) + 1)] = T(lin(h, height));
      }
    Tensor<T, D> pos = tape.alloc(Shape{height * width, 2});
    Kernels<D>::from_host(pos.data(), host.data(), host.size() * sizeof(T));
    return pos;
  }
};

}  // namespace mimic::nn
