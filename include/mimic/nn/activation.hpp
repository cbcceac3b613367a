#pragma once
// Activations chosen at run time (from a config) for MLPs and heads.
#include <string>

#include "mimic/ops/unary.hpp"

namespace mimic::nn {

enum class Activation {
  kNone,
  kRelu,
  kLeakyRelu,
  kElu,
  kGelu,
  kSilu,
  kMish,
  kTanh,
  kSigmoid,
  kSoftplus
};

inline Activation activation_from_name(const std::string& name) {
  if (name == "none" || name == "identity") return Activation::kNone;
  if (name == "relu") return Activation::kRelu;
  if (name == "leaky_relu") return Activation::kLeakyRelu;
  if (name == "elu") return Activation::kElu;
  if (name == "gelu") return Activation::kGelu;
  if (name == "silu") return Activation::kSilu;
  if (name == "mish") return Activation::kMish;
  if (name == "tanh") return Activation::kTanh;
  if (name == "sigmoid") return Activation::kSigmoid;
  if (name == "softplus") return Activation::kSoftplus;
  throw ValueError(
      "unknown activation '" + name +
      "' (expected relu, leaky_relu, elu, gelu, silu, mish, tanh, sigmoid, softplus or none)");
}

template <class T, class D>
Var<T, D> activate(Activation a, Var<T, D> x) {
  switch (a) {
    case Activation::kNone:
      return x;
    case Activation::kRelu:
      return ops::relu(x);
    case Activation::kLeakyRelu:
      return ops::leaky_relu(x);
    case Activation::kElu:
      return ops::elu(x);
    case Activation::kGelu:
      return ops::gelu(x);
    case Activation::kSilu:
      return ops::silu(x);
    case Activation::kMish:
      return ops::mish(x);
    case Activation::kTanh:
      return ops::tanh(x);
    case Activation::kSigmoid:
      return ops::sigmoid(x);
    case Activation::kSoftplus:
      return ops::softplus(x);
  }
  return x;
}

}  // namespace mimic::nn
