#pragma once
#include <optional>

#include "mimic/nn/module.hpp"
#include "mimic/ops/matmul.hpp"

namespace mimic::nn {

// y = x W^T + b; parameters `<prefix>.weight` [out, in] and `<prefix>.bias` [out].
template <class T, class D = Cpu>
struct Linear {
  ParamId weight, bias;
  int64_t in = 0, out = 0;

  Linear() = default;
  Linear(ParamStore<T, D>& store, const std::string& prefix, int64_t in_features,
         int64_t out_features, bool with_bias = true)
      : in(in_features), out(out_features) {
    weight = store.declare(join(prefix, "weight"), {out, in}, fan_in_uniform(in));
    if (with_bias) bias = store.declare(join(prefix, "bias"), {out}, fan_in_uniform(in));
  }
  // With given initializers (GPT-style normal(0, 0.02) weights and zero biases, say).
  Linear(ParamStore<T, D>& store, const std::string& prefix, int64_t in_features,
         int64_t out_features, Init weight_init, std::optional<Init> bias_init)
      : in(in_features), out(out_features) {
    weight = store.declare(join(prefix, "weight"), {out, in}, weight_init);
    if (bias_init) bias = store.declare(join(prefix, "bias"), {out}, *bias_init);
  }
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x) const {
    Tape<T, D>& tape = *x.tape;
    return ops::linear(x, store.on(tape, weight),
                       bias.defined() ? store.on(tape, bias) : Var<T, D>{});
  }
};

}  // namespace mimic::nn
