#pragma once
#include <cstdint>

namespace mimic {

// Geometry shared by conv1d and conv_transpose1d kernels: an "image" side [N, C, L] and a
// "column" side of length Lo, related by position = lo * stride - padding + k * dilation.
struct Conv1dGeometry {
  int64_t n, c, l, k, lo, stride, padding, dilation;
};

// Geometry of a 2-D convolution or pooling window: image [N, C, H, W], output [Ho, Wo], kernel
// [KH, KW]; input row = ho * sh - ph + i * dh, column = wo * sw - pw + j * dw.
struct Conv2dGeometry {
  int64_t n, c, h, w, kh, kw, ho, wo, sh, sw, ph, pw, dh, dw;
  int64_t out_plane() const { return ho * wo; }
  int64_t in_plane() const { return h * w; }
};

}  // namespace mimic
