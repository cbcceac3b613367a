#pragma once
// robomimic's MIMO_MLP as its value and actor networks use it on low-dim inputs: the inputs
// concatenated in order, an MLP with ReLU after every layer (the last one included), then one
// Linear decoder. Parameters `<prefix>.mlp.<2i>` and `<prefix>.decoder`.
#include <string>
#include <vector>

#include "mimic/nn/linear.hpp"
#include "mimic/nn/mlp.hpp"
#include "mimic/ops/shape.hpp"
#include "mimic/ops/unary.hpp"

namespace mimic::policy {

template <class T, class D = Cpu>
class MlpNetwork {
 public:
  MlpNetwork() = default;
  MlpNetwork(nn::ParamStore<T, D>& store, const std::string& prefix, int64_t inputs,
             const std::vector<int64_t>& layer_dims, int64_t outputs) {
    if (layer_dims.empty())
      throw ValueError("'" + prefix + "': robomimic's networks need at least one hidden layer");
    std::vector<int64_t> widths{inputs};
    widths.insert(widths.end(), layer_dims.begin(), layer_dims.end());
    mlp_ = nn::Mlp<T, D>(store, nn::join(prefix, "mlp"), widths, nn::Activation::kRelu, true);
    decoder_ = nn::Linear<T, D>(store, nn::join(prefix, "decoder"), widths.back(), outputs);
  }
  // inputs: [B, *] each, concatenated along the feature axis.
  Var<T, D> operator()(const nn::ParamStore<T, D>& store, std::vector<Var<T, D>> inputs) const {
    Var<T, D> x = inputs.size() == 1 ? inputs[0] : ops::concat(inputs, 1);
    return decoder_(store, mlp_(store, x));
  }
  nn::Linear<T, D>& decoder() { return decoder_; }

 private:
  nn::Mlp<T, D> mlp_;
  nn::Linear<T, D> decoder_;
};

// robomimic's ValueNetwork / ActionValueNetwork: V(s) or Q(s, a) as one output, squashed into
// value_bounds by offset + scale * tanh when bounds are given.
template <class T, class D = Cpu>
class ValueNetwork {
 public:
  struct Bounds {
    bool enabled = false;
    double low = 0, high = 0;
  };
  ValueNetwork() = default;
  // action_dim 0: V(s); otherwise Q(s, a).
  ValueNetwork(nn::ParamStore<T, D>& store, const std::string& prefix, int64_t obs_dim,
               int64_t action_dim, const std::vector<int64_t>& layer_dims, Bounds bounds = {})
      : net_(store, prefix, obs_dim + action_dim, layer_dims, 1), bounds_(bounds) {}

  Var<T, D> operator()(const nn::ParamStore<T, D>& store, Var<T, D> obs,
                       Var<T, D> action = {}) const {
    Var<T, D> v = action.defined() ? net_(store, {obs, action}) : net_(store, {obs});
    if (!bounds_.enabled) return v;
    const double scale = (bounds_.high - bounds_.low) / 2,
                 offset = (bounds_.high + bounds_.low) / 2;
    return ops::add_scalar(ops::mul_scalar(ops::tanh(v), scale), offset);
  }

 private:
  MlpNetwork<T, D> net_;
  Bounds bounds_;
};

// robomimic's ActorNetwork: a deterministic action squashed by tanh into [-1, 1].
template <class T, class D = Cpu>
class DeterministicActor {
 public:
  DeterministicActor() = default;
  DeterministicActor(nn::ParamStore<T, D>& store, const std::string& prefix, int64_t obs_dim,
                     int64_t action_dim, const std::vector<int64_t>& layer_dims)
      : net_(store, prefix, obs_dim, layer_dims, action_dim) {}
  Var<T, D> operator()(const nn::ParamStore<T, D>& store, Var<T, D> obs) const {
    return ops::tanh(net_(store, {obs}));
  }

 private:
  MlpNetwork<T, D> net_;
};

}  // namespace mimic::policy
