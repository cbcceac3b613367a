#pragma once
#include "mimic/nn/module.hpp"
#include "mimic/ops/norm.hpp"

namespace mimic::nn {

// nn.GroupNorm(groups, channels): weight (ones) and bias (zeros) per channel.
template <class T, class D = Cpu>
struct GroupNorm {
  ParamId weight, bias;
  int64_t groups = 1;
  double eps = 1e-5;

  GroupNorm() = default;
  GroupNorm(ParamStore<T, D>& store, const std::string& prefix, int64_t groups_, int64_t channels,
            double eps_ = 1e-5, bool affine = true)
      : groups(groups_), eps(eps_) {
    if (groups <= 0 || channels % groups != 0)
      throw ValueError("GroupNorm '" + prefix + "': " + std::to_string(groups) +
                       " groups do not divide " + std::to_string(channels) + " channels");
    if (affine) {
      weight = store.declare(join(prefix, "weight"), {channels}, Init::ones());
      bias = store.declare(join(prefix, "bias"), {channels}, Init::zeros());
    }
  }
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x) const {
    Tape<T, D>& tape = *x.tape;
    if (!weight.defined()) return ops::group_norm(x, groups, Var<T, D>{}, Var<T, D>{}, eps);
    return ops::group_norm(x, groups, store.on(tape, weight), store.on(tape, bias), eps);
  }
};

// nn.LayerNorm(normalized_shape).
template <class T, class D = Cpu>
struct LayerNorm {
  ParamId weight, bias;
  int dims = 1;
  double eps = 1e-5;

  LayerNorm() = default;
  LayerNorm(ParamStore<T, D>& store, const std::string& prefix, const Shape& normalized_shape,
            double eps_ = 1e-5, bool affine = true)
      : dims(normalized_shape.rank), eps(eps_) {
    if (affine) {
      weight = store.declare(join(prefix, "weight"), normalized_shape, Init::ones());
      bias = store.declare(join(prefix, "bias"), normalized_shape, Init::zeros());
    }
  }
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x) const {
    Tape<T, D>& tape = *x.tape;
    if (!weight.defined()) return ops::layer_norm(x, dims, Var<T, D>{}, Var<T, D>{}, eps);
    return ops::layer_norm(x, dims, store.on(tape, weight), store.on(tape, bias), eps);
  }
};

}  // namespace mimic::nn
