#pragma once
// Conventions shared by layers: a layer is a small struct that declares its parameters in a
// ParamStore under PyTorch state-dict names at construction, and whose forward() records ops on a
// tape. Layers hold only ParamIds, so copying or moving a layer never copies weights.
#include <cmath>
#include <string>

#include "mimic/nn/parameters.hpp"

namespace mimic::nn {

// "prefix.name", or "name" at the top level.
inline std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// PyTorch's default init for Linear and Conv weights and biases: U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)).
inline Init fan_in_uniform(int64_t fan_in) {
  return Init::uniform(fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0);
}

}  // namespace mimic::nn
