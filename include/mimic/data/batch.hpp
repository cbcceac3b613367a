#pragma once
// A training batch as the sequence dataset assembles it: float32, contiguous, batch-major.
#include <map>
#include <string>

#include "mimic/backend/cpu/kernels.hpp"
#include "mimic/core/tensor.hpp"

namespace mimic::data {

struct Batch {
  std::map<std::string, Tensor<float, Cpu>> obs;       // [B, T_obs, ...]; images CHW in [0, 1]
  std::map<std::string, Tensor<float, Cpu>> next_obs;  // when load_next_obs
  std::map<std::string, Tensor<float, Cpu>> goal_obs;  // [B, ...] when goal_mode == "last"
  std::map<std::string, Tensor<float, Cpu>> data;      // dataset keys -> [B, T, dim]
  Tensor<float, Cpu> pad_mask;                         // [B, T, 1] when requested
};

}  // namespace mimic::data
