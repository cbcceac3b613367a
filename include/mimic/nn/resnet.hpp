#pragma once
// The ResNet18 convolutional trunk in torchvision's layout (conv1, bn1, relu, maxpool,
// layer1..layer4; no avgpool or fc), as robomimic's ResNet18Conv uses it. Diffusion Policy
// replaces every BatchNorm with GroupNorm(channels / 16) so EMA weights stay consistent; both are
// here. Parameter names follow torchvision's state dict.
//
// Cost at 84x84 (42x42 after the stem): ~0.58 GFLOP per image forward (the 3x3 convolutions of
// layer1..layer4 at 21, 11, 6 and 3 pixels a side); 11,176,512 parameters.
#include <array>
#include <string>

#include "mimic/nn/batch_norm.hpp"
#include "mimic/nn/conv2d.hpp"
#include "mimic/nn/norm.hpp"
#include "mimic/ops/binary.hpp"
#include "mimic/ops/pool2d.hpp"
#include "mimic/ops/unary.hpp"

namespace mimic::nn {

enum class NormKind { kBatch, kGroup };

// BatchNorm2d or GroupNorm(channels / 16, channels) under the same name.
template <class T, class D = Cpu>
struct Norm2d {
  NormKind kind = NormKind::kBatch;
  BatchNorm<T, D> bn;
  GroupNorm<T, D> gn;

  Norm2d() = default;
  Norm2d(ParamStore<T, D>& store, const std::string& prefix, int64_t channels, NormKind k)
      : kind(k) {
    if (kind == NormKind::kBatch)
      bn = BatchNorm<T, D>(store, prefix, channels);
    else
      gn = GroupNorm<T, D>(store, prefix, channels / 16, channels);
  }
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x, bool training) const {
    return kind == NormKind::kBatch ? bn(store, x, training) : gn(store, x);
  }
};

// torchvision's BasicBlock: conv3x3(stride) -> norm -> relu -> conv3x3 -> norm, plus the
// identity (or a strided 1x1 conv + norm when the shape changes), then relu.
template <class T, class D = Cpu>
struct BasicBlock {
  Conv2d<T, D> conv1, conv2, down_conv;
  Norm2d<T, D> bn1, bn2, down_norm;
  bool downsample = false;

  BasicBlock() = default;
  BasicBlock(ParamStore<T, D>& store, const std::string& prefix, int64_t in, int64_t out,
             int64_t stride, NormKind norm) {
    const Init kaiming3 = kaiming_fan_out(out * 9), kaiming1 = kaiming_fan_out(out);
    conv1 = Conv2d<T, D>(store, join(prefix, "conv1"), in, out, 3, 3,
                         ops::Conv2dOptions::square(stride, 1), false, &kaiming3);
    bn1 = Norm2d<T, D>(store, join(prefix, "bn1"), out, norm);
    conv2 = Conv2d<T, D>(store, join(prefix, "conv2"), out, out, 3, 3,
                         ops::Conv2dOptions::square(1, 1), false, &kaiming3);
    bn2 = Norm2d<T, D>(store, join(prefix, "bn2"), out, norm);
    downsample = stride != 1 || in != out;
    if (downsample) {
      down_conv = Conv2d<T, D>(store, join(prefix, "downsample.0"), in, out, 1, 1,
                               ops::Conv2dOptions::square(stride, 0), false, &kaiming1);
      down_norm = Norm2d<T, D>(store, join(prefix, "downsample.1"), out, norm);
    }
  }
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x, bool training) const {
    Var<T, D> y = ops::relu(bn1(store, conv1(store, x), training));
    y = bn2(store, conv2(store, y), training);
    Var<T, D> identity = downsample ? down_norm(store, down_conv(store, x), training) : x;
    return ops::relu(ops::add(y, identity));
  }
  // torchvision initializes conv weights with kaiming_normal_(mode="fan_out", relu).
  static Init kaiming_fan_out(int64_t fan_out) {
    return Init::normal(std::sqrt(2.0 / static_cast<double>(fan_out)));
  }
};

template <class T, class D = Cpu>
struct ResNet18Trunk {
  Conv2d<T, D> conv1;
  Norm2d<T, D> bn1;
  std::array<BasicBlock<T, D>, 8> blocks;  // layer1.0, layer1.1, ..., layer4.1
  int64_t in_channels = 3;

  ResNet18Trunk() = default;
  ResNet18Trunk(ParamStore<T, D>& store, const std::string& prefix, int64_t input_channels = 3,
                NormKind norm = NormKind::kBatch)
      : in_channels(input_channels) {
    const Init stem = BasicBlock<T, D>::kaiming_fan_out(64 * 49);
    conv1 = Conv2d<T, D>(store, join(prefix, "conv1"), in_channels, 64, 7, 7,
                         ops::Conv2dOptions::square(2, 3), false, &stem);
    bn1 = Norm2d<T, D>(store, join(prefix, "bn1"), 64, norm);
    const int64_t widths[4] = {64, 128, 256, 512};
    int64_t in = 64;
    for (int layer = 0; layer < 4; ++layer)
      for (int b = 0; b < 2; ++b) {
        const std::string name =
            join(prefix, "layer" + std::to_string(layer + 1) + "." + std::to_string(b));
        const int64_t stride = (layer > 0 && b == 0) ? 2 : 1;
        blocks[size_t(layer * 2 + b)] =
            BasicBlock<T, D>(store, name, in, widths[layer], stride, norm);
        in = widths[layer];
      }
  }

  // [N, C, H, W] -> [N, 512, ceil(H / 32), ceil(W / 32)] (for even sizes).
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x, bool training) const {
    Var<T, D> y = ops::relu(bn1(store, conv1(store, x), training));
    y = ops::max_pool2d(y, 3, 2, 1);
    for (const BasicBlock<T, D>& block : blocks) y = block(store, y, training);
    return y;
  }

  // [C, H, W] of the output for [in_channels, h, w] images.
  static Shape output_shape(int64_t h, int64_t w) {
    auto conv = [](int64_t size, int64_t k, int64_t s, int64_t p) {
      return (size + 2 * p - k) / s + 1;
    };
    h = conv(conv(h, 7, 2, 3), 3, 2, 1);
    w = conv(conv(w, 7, 2, 3), 3, 2, 1);
    for (int i = 0; i < 3; ++i) {
      h = conv(h, 3, 2, 1);
      w = conv(w, 3, 2, 1);
    }
    return Shape{512, h, w};
  }
};

}  // namespace mimic::nn
