#pragma once
// robomimic's VisualCore: ResNet18 trunk -> SpatialSoftmax -> flatten -> Linear(2K, feature_dim).
// With 32 keypoints and feature_dim 64 an 84x84 image becomes 64 features.
#include "mimic/nn/linear.hpp"
#include "mimic/nn/resnet.hpp"
#include "mimic/nn/spatial_softmax.hpp"

namespace mimic::nn {

struct VisualCoreOptions {
  NormKind norm = NormKind::kBatch;
  SpatialSoftmaxOptions pool;
  int64_t feature_dimension = 64;  // 0: no linear layer, the keypoints are the features
};

template <class T, class D = Cpu>
struct VisualCore {
  ResNet18Trunk<T, D> backbone;
  SpatialSoftmax<T, D> pool;
  Linear<T, D> linear;
  int64_t out_dim = 0;

  VisualCore() = default;
  // input_shape is [C, H, W] as the encoder sees it (after any crop).
  VisualCore(ParamStore<T, D>& store, const std::string& prefix, const Shape& input_shape,
             const VisualCoreOptions& opt = {}) {
    if (input_shape.rank != 3)
      throw ShapeError("VisualCore '" + prefix + "': input shape " + input_shape.str() +
                       " (expected [C, H, W])");
    backbone = ResNet18Trunk<T, D>(store, join(prefix, "backbone"), input_shape[0], opt.norm);
    pool = SpatialSoftmax<T, D>(store, join(prefix, "pool"),
                                ResNet18Trunk<T, D>::output_shape(input_shape[1], input_shape[2]),
                                opt.pool);
    out_dim = pool.output_dim();
    if (opt.feature_dimension > 0) {
      linear = Linear<T, D>(store, join(prefix, "linear"), out_dim, opt.feature_dimension);
      out_dim = opt.feature_dimension;
    }
  }
  int64_t output_dim() const { return out_dim; }

  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x, PhiloxStream* rng,
                       bool training) const {
    Var<T, D> y = pool(store, backbone(store, x, training), rng, training);
    return linear.weight.defined() ? linear(store, y) : y;
  }
};

}  // namespace mimic::nn
