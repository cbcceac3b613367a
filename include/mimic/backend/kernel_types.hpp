#pragma once
// Plain structs that kernel functions take besides pointers and sizes (backend/contract.hpp):
// trivially copyable, so ops can keep them in a tape node, and free of any backend's types.
#include <cstdint>

namespace mimic {

// adam_step's hyper-parameters for step t (bias corrections precomputed in double).
struct AdamHyper {
  double lr, beta1, beta2, eps, weight_decay;
  double step_size;     // lr / (1 - beta1^t)
  double inv_sqrt_bc2;  // 1 / sqrt(1 - beta2^t)
  bool decoupled;       // AdamW: p *= 1 - lr * wd; Adam: g += wd * p
};

// The convolution algorithm a caller asks conv2d_plan for. `automatic` lets the backend choose;
// the others force one (a backend throws ValueError for a forced algorithm it cannot run on the
// geometry). `winograd` forces Winograd with the backend's choice of tile.
enum class Conv2dAlgorithm : uint8_t { automatic, im2col, winograd, winograd_2x2, winograd_4x4 };

// What conv2d_plan decided for one convolution. Ops keep it unchanged (in the tape node) and
// hand it back to conv2d_forward and conv2d_backward.
struct Conv2dPlan {
  int64_t saved_numel = 0;  // elements of the buffer conv2d_forward fills for conv2d_backward
  int32_t variant = 0;      // meaningful only to the backend (CPU: 0 im2col, 2 or 4 Winograd tile)
};

}  // namespace mimic
