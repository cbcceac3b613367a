#pragma once
// A multi-layer perceptron: Linear layers with an activation after every hidden layer (and
// optionally after the output layer). Names follow nn.Sequential: `<prefix>.0`, `<prefix>.2`, ...
// (activations occupy the odd indices, as in robomimic's and Diffusion Policy's MLPs).
#include <vector>

#include "mimic/nn/activation.hpp"
#include "mimic/nn/linear.hpp"

namespace mimic::nn {

template <class T, class D = Cpu>
struct Mlp {
  std::vector<Linear<T, D>> layers;
  Activation activation = Activation::kRelu;
  bool activate_output = false;

  Mlp() = default;
  // widths = {input, hidden..., output}.
  Mlp(ParamStore<T, D>& store, const std::string& prefix, const std::vector<int64_t>& widths,
      Activation act = Activation::kRelu, bool activate_last = false)
      : activation(act), activate_output(activate_last) {
    if (widths.size() < 2) throw ValueError("Mlp: need at least input and output widths");
    int index = 0;
    for (size_t i = 0; i + 1 < widths.size(); ++i) {
      layers.emplace_back(store, join(prefix, std::to_string(index)), widths[i], widths[i + 1]);
      index += (act == Activation::kNone) ? 1 : 2;
    }
  }
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x) const {
    for (size_t i = 0; i < layers.size(); ++i) {
      x = layers[i](store, x);
      if (i + 1 < layers.size() || activate_output) x = activate(activation, x);
    }
    return x;
  }
};

}  // namespace mimic::nn
