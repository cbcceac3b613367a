#pragma once
#include <cstdint>

namespace mimic {

// Geometry shared by conv1d and conv_transpose1d kernels: an "image" side [N, C, L] and a
// "column" side of length Lo, related by position = lo * stride - padding + k * dilation.
struct Conv1dGeometry {
  int64_t n, c, l, k, lo, stride, padding, dilation;
};

}  // namespace mimic
