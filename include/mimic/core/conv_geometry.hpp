#pragma once
#include <cstdint>

namespace mimic {

// Geometry shared by conv1d and conv_transpose1d kernels: an "image" side [N, C, L] and a
// "column" side of length Lo, related by position = lo * stride - padding + k * dilation.
struct Conv1dGeometry {
  int64_t n, c, l, k, lo, stride, padding, dilation;
};

}  // namespace mimic

namespace mimic {

// Geometry of a 2-D convolution or pooling window: image [N, C, H, W], output [Ho, Wo], kernel
// [KH, KW]; input row = ho * sh - ph + i * dh, column = wo * sw - pw + j * dw.
struct Conv2dGeometry {
  int64_t n, c, h, w, kh, kw, ho, wo, sh, sw, ph, pw, dh, dw;
  int64_t out_plane() const { return ho * wo; }
  int64_t in_plane() const { return h * w; }
};

// Winograd F(2x2, 3x3) keeps 16 matrices of [rows, cols] side by side. Its transforms walk all 16
// at once, so a distance that is a multiple of 4 KiB would map the 16 streams onto one cache set
// (batch 16 makes C * tiles * 4 bytes exactly that); the distance is padded to one cache line
// past a 4 KiB multiple instead.
inline int64_t winograd_stride(int64_t rows, int64_t cols) {
  return (rows * cols + 1023) / 1024 * 1024 + 16;
}

}  // namespace mimic
