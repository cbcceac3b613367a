#pragma once
#include "mimic/nn/module.hpp"
#include "mimic/ops/conv1d.hpp"
#include "mimic/ops/conv_transpose1d.hpp"

namespace mimic::nn {

// nn.Conv1d: weight [out, in, k], bias [out].
template <class T, class D = Cpu>
struct Conv1d {
  ParamId weight, bias;
  int64_t stride = 1, padding = 0, dilation = 1;

  Conv1d() = default;
  Conv1d(ParamStore<T, D>& store, const std::string& prefix, int64_t in, int64_t out, int64_t k,
         int64_t stride_ = 1, int64_t padding_ = 0, int64_t dilation_ = 1, bool with_bias = true)
      : stride(stride_), padding(padding_), dilation(dilation_) {
    weight = store.declare(join(prefix, "weight"), {out, in, k}, fan_in_uniform(in * k));
    if (with_bias) bias = store.declare(join(prefix, "bias"), {out}, fan_in_uniform(in * k));
  }
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x) const {
    Tape<T, D>& tape = *x.tape;
    return ops::conv1d(x, store.on(tape, weight),
                       bias.defined() ? store.on(tape, bias) : Var<T, D>{}, stride, padding,
                       dilation);
  }
};

// nn.ConvTranspose1d: weight [in, out, k], bias [out]; PyTorch's fan-in is out * k here.
template <class T, class D = Cpu>
struct ConvTranspose1d {
  ParamId weight, bias;
  int64_t stride = 1, padding = 0, output_padding = 0, dilation = 1;

  ConvTranspose1d() = default;
  ConvTranspose1d(ParamStore<T, D>& store, const std::string& prefix, int64_t in, int64_t out,
                  int64_t k, int64_t stride_ = 1, int64_t padding_ = 0, int64_t output_padding_ = 0,
                  int64_t dilation_ = 1, bool with_bias = true)
      : stride(stride_), padding(padding_), output_padding(output_padding_), dilation(dilation_) {
    weight = store.declare(join(prefix, "weight"), {in, out, k}, fan_in_uniform(out * k));
    if (with_bias) bias = store.declare(join(prefix, "bias"), {out}, fan_in_uniform(out * k));
  }
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x) const {
    Tape<T, D>& tape = *x.tape;
    return ops::conv_transpose1d(x, store.on(tape, weight),
                                 bias.defined() ? store.on(tape, bias) : Var<T, D>{}, stride,
                                 padding, output_padding, dilation);
  }
};

}  // namespace mimic::nn
