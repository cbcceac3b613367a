#pragma once
#include "mimic/nn/module.hpp"
#include "mimic/ops/conv2d.hpp"

namespace mimic::nn {

// nn.Conv2d: weight [out, in/groups, kh, kw], bias [out]. The default init is PyTorch's
// U(+-1/sqrt(fan_in)); ResNets pass Kaiming-normal weights instead.
template <class T, class D = Cpu>
struct Conv2d {
  ParamId weight, bias;
  ops::Conv2dOptions options;

  Conv2d() = default;
  Conv2d(ParamStore<T, D>& store, const std::string& prefix, int64_t in, int64_t out, int64_t kh,
         int64_t kw, const ops::Conv2dOptions& opt = {}, bool with_bias = true,
         const Init* weight_init = nullptr)
      : options(opt) {
    if (opt.groups < 1 || in % opt.groups != 0 || out % opt.groups != 0)
      throw ValueError("Conv2d '" + prefix + "': " + std::to_string(opt.groups) +
                       " groups do not divide " + std::to_string(in) + " input and " +
                       std::to_string(out) + " output channels");
    const int64_t fan_in = in / opt.groups * kh * kw;
    weight = store.declare(join(prefix, "weight"), {out, in / opt.groups, kh, kw},
                           weight_init ? *weight_init : fan_in_uniform(fan_in));
    if (with_bias) bias = store.declare(join(prefix, "bias"), {out}, fan_in_uniform(fan_in));
  }
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x) const {
    Tape<T, D>& tape = *x.tape;
    return ops::conv2d(x, store.on(tape, weight),
                       bias.defined() ? store.on(tape, bias) : Var<T, D>{}, options);
  }
};

}  // namespace mimic::nn
