#pragma once
#include "mimic/nn/module.hpp"
#include "mimic/ops/batch_norm.hpp"

namespace mimic::nn {

// nn.BatchNorm2d (also 1d/3d: any [N, C, *] input): weight (ones) and bias (zeros), and the
// running statistics as frozen parameters so checkpoints and EMA copies carry them.
template <class T, class D = Cpu>
struct BatchNorm {
  ParamId weight, bias, running_mean, running_var;
  double momentum = 0.1, eps = 1e-5;

  BatchNorm() = default;
  BatchNorm(ParamStore<T, D>& store, const std::string& prefix, int64_t channels,
            double momentum_ = 0.1, double eps_ = 1e-5)
      : momentum(momentum_), eps(eps_) {
    weight = store.declare(join(prefix, "weight"), {channels}, Init::ones());
    bias = store.declare(join(prefix, "bias"), {channels}, Init::zeros());
    running_mean = store.declare(join(prefix, "running_mean"), {channels}, Init::zeros(), false);
    running_var = store.declare(join(prefix, "running_var"), {channels}, Init::ones(), false);
  }
  // Training normalizes with batch statistics and updates the running ones in `store`.
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x, bool training) const {
    Tape<T, D>& tape = *x.tape;
    return ops::batch_norm(x, store.on(tape, weight), store.on(tape, bias),
                           store.value(running_mean), store.value(running_var), training, momentum,
                           eps);
  }
};

}  // namespace mimic::nn
