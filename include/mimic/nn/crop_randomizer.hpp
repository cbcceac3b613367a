#pragma once
// CropRandomizer (robomimic): in training, `num_crops` random [crop_h, crop_w] windows of every
// image; in evaluation, the centre window repeated num_crops times. forward_in turns
// [N, C, H, W] into [N * num_crops, C, crop_h, crop_w]; forward_out averages an encoder's
// [N * num_crops, F...] output back to [N, F...].
#include <cmath>
#include <vector>

#include "mimic/core/philox.hpp"
#include "mimic/ops/crop.hpp"
#include "mimic/ops/reduce.hpp"
#include "mimic/ops/shape.hpp"

namespace mimic::nn {

struct CropRandomizer {
  int64_t crop_h = 0, crop_w = 0, num_crops = 1;

  CropRandomizer() = default;
  CropRandomizer(int64_t crop_height, int64_t crop_width, int64_t crops = 1)
      : crop_h(crop_height), crop_w(crop_width), num_crops(crops) {
    if (crop_h < 1 || crop_w < 1 || num_crops < 1)
      throw ValueError("CropRandomizer: crop " + std::to_string(crop_h) + "x" +
                       std::to_string(crop_w) + " x" + std::to_string(num_crops) +
                       " (expected positive sizes and crop count)");
  }

  // Top-left corners, (top, left) per output sample. Random corners follow robomimic:
  // floor(U[0, 1) * (H - crop_h)), so they come from Philox element rng.offset + 2 * o (+1).
  std::vector<int64_t> offsets(int64_t n, int64_t h, int64_t w, PhiloxStream* rng,
                               bool training) const {
    if (crop_h > h || crop_w > w)
      throw ShapeError("CropRandomizer: a " + std::to_string(crop_h) + "x" +
                       std::to_string(crop_w) + " crop does not fit " + std::to_string(h) + "x" +
                       std::to_string(w) + " images");
    std::vector<int64_t> out(static_cast<size_t>(2 * n * num_crops));
    if (!training) {
      for (size_t i = 0; i < out.size(); i += 2) {
        out[i] = (h - crop_h) / 2;
        out[i + 1] = (w - crop_w) / 2;
      }
      return out;
    }
    if (!rng) throw ValueError("CropRandomizer: random crops in training need a random stream");
    const uint64_t first = rng->advance(out.size());
    for (size_t i = 0; i < out.size(); ++i) {
      const int64_t room = (i % 2 == 0 ? h - crop_h : w - crop_w);
      out[i] = static_cast<int64_t>(
          std::floor(philox_uniform<double>(rng->seed, first + i) * double(room)));
      if (out[i] >= room && room > 0) out[i] = room - 1;
    }
    return out;
  }

  template <class T, class D>
  Var<T, D> forward_in(Var<T, D> x, PhiloxStream* rng, bool training) const {
    const Shape xs = x.shape();
    if (xs.rank != 4)
      throw ShapeError("CropRandomizer: input " + xs.str() + " is not an image batch [N, C, H, W]");
    return ops::crop2d(x, crop_h, crop_w, num_crops, offsets(xs[0], xs[2], xs[3], rng, training));
  }

  template <class T, class D>
  Var<T, D> forward_out(Var<T, D> y) const {
    if (num_crops == 1) return y;
    const Shape ys = y.shape();
    if (ys.rank < 1 || ys[0] % num_crops != 0)
      throw ShapeError("CropRandomizer: output " + ys.str() + " is not a multiple of " +
                       std::to_string(num_crops) + " crops");
    Shape grouped{ys[0] / num_crops, num_crops};
    for (int i = 1; i < ys.rank; ++i) grouped.push_back(ys[i]);
    return ops::mean(ops::reshape(y, grouped), {1});
  }
};

}  // namespace mimic::nn
