#pragma once
// Kernels<Cuda>'s spatial family (backend/contract.hpp): max pooling, adaptive average pooling
// and crops on [N, C, H, W] planes. Each kernel is a 1-D grid-stride loop (256 threads,
// grid_for(n) blocks) over the elements of the tensor it writes, one thread per element, around
// the per-element math of backend/index/spatial.hpp. A thread writes only its own element, so
// no two threads share an address; the backward passes are gathers over the output side (each
// input pixel sums the outputs that used it, in the CPU's order), so they need no atomics, are
// deterministic and match backend/cpu/spatial.hpp bit for bit. All are memory-bound.
#include <cstdint>

#include "mimic/backend/contract.hpp"
#include "mimic/backend/index/spatial.hpp"
#include "mimic/core/conv_geometry.hpp"
#include "mimic/cuda/check.cuh"
#include "mimic/cuda/memory.cuh"

namespace mimic::cuda {

#ifndef MIMIC_GRID_STRIDE
#define MIMIC_GRID_STRIDE(i, n)                                             \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); \
       i += int64_t(gridDim.x) * blockDim.x)
#define MIMIC_SPATIAL_UNDEF_GRID_STRIDE
#endif

// One thread per output (plane p, ho, wo): kh * kw loads of its window (neighbouring threads
// read neighbouring columns, so loads coalesce for stride 1-2 and L1 serves the overlap), one
// store of y and of argmax. ResNet-18's 3x3/2 pool at [16, 64, 42, 42]: 0.45M outputs x 9 taps,
// ~7 MB of traffic after caching, a few us on an H100.
template <class T>
__global__ void max_pool2d_forward_kernel(Conv2dGeometry g, int64_t n, const T* x, T* y,
                                          int32_t* argmax) {
  const int64_t out = g.ho * g.wo, in = g.h * g.w;
  MIMIC_GRID_STRIDE(e, n) {
    const int64_t p = e / out, o = e % out;
    T value;
    const int64_t best = index::max_pool_window(g, x + p * in, o / g.wo, o % g.wo, value);
    y[e] = value;
    if (argmax) argmax[e] = int32_t(best);
  }
}

// One thread per input pixel (plane p, ih, iw): it reads the saved argmax of every output whose
// window span covers it (ceil(k / s)^2 of them: 4 for 3x3/2) and adds the dy of those that chose
// it, starting from dx (accumulate) or 0. Each pixel is written once, by its own thread.
template <class T>
__global__ void max_pool2d_backward_kernel(Conv2dGeometry g, int64_t n, const int32_t* argmax,
                                           const T* dy, T* dx, bool accumulate) {
  const int64_t out = g.ho * g.wo, in = g.h * g.w;
  MIMIC_GRID_STRIDE(e, n) {
    const int64_t p = e / in, pix = e % in;
    dx[e] = index::max_pool_backward_pixel(g, argmax + p * out, dy + p * out, pix / g.w, pix % g.w,
                                           accumulate ? dx[e] : T(0));
  }
}

// One thread per output bin: sums its bin row by row (the CPU's order). Global pooling (1x1 out)
// of [256, 512, 3, 3] gives only 131k threads of 9 loads each: fine; a very large bin (1x1 over
// 84x84) is one thread's serial 7k-load sum, ~10 us, still small next to the convolutions.
template <class T>
__global__ void adaptive_avg_pool2d_forward_kernel(int64_t h, int64_t w, int64_t ho, int64_t wo,
                                                   int64_t n, const T* x, T* y) {
  const int64_t out = ho * wo;
  MIMIC_GRID_STRIDE(e, n) {
    const int64_t p = e / out, o = e % out;
    y[e] = index::adaptive_avg_output(x + p * h * w, h, w, ho, wo, o / wo, o % wo);
  }
}

// One thread per input pixel: adds dy / count of each bin that contains it (one or two per axis),
// in increasing bin order, to dx (accumulate) or 0.
template <class T>
__global__ void adaptive_avg_pool2d_backward_kernel(int64_t h, int64_t w, int64_t ho, int64_t wo,
                                                    int64_t n, const T* dy, T* dx,
                                                    bool accumulate) {
  const int64_t in = h * w;
  MIMIC_GRID_STRIDE(e, n) {
    const int64_t p = e / in, pix = e % in;
    dx[e] = index::adaptive_avg_backward_pixel(dy + p * ho * wo, h, w, ho, wo, pix / w, pix % w,
                                               accumulate ? dx[e] : T(0));
  }
}

// One thread per output element: one load (rows of a crop are contiguous runs of x, so a warp
// reads one or two runs), one coalesced store. Offsets (16 bytes per crop) stay in L1.
template <class T>
__global__ void crop2d_forward_kernel(int64_t c, int64_t h, int64_t w, int64_t ch, int64_t cw,
                                      int64_t crops, int64_t n, const int64_t* offsets, const T* x,
                                      T* y) {
  MIMIC_GRID_STRIDE(e, n) y[e] = x[index::crop2d_source(c, h, w, ch, cw, crops, offsets, e)];
}

// One thread per input element: checks the `crops` crops of its sample (robomimic: 1 or 2) and
// adds the dy of those that cover it, in crop order, to dx (accumulate) or 0.
template <class T>
__global__ void crop2d_backward_kernel(int64_t c, int64_t h, int64_t w, int64_t ch, int64_t cw,
                                       int64_t crops, int64_t n, const int64_t* offsets,
                                       const T* dy, T* dx, bool accumulate) {
  MIMIC_GRID_STRIDE(e, n) {
    dx[e] = index::crop2d_backward_pixel(c, h, w, ch, cw, crops, offsets, dy, e,
                                         accumulate ? dx[e] : T(0));
  }
}

struct Spatial {
  static constexpr bool provides(KernelOp op) {
    return op == KernelOp::max_pool2d_forward || op == KernelOp::max_pool2d_backward_indexed ||
           op == KernelOp::adaptive_avg_pool2d_forward ||
           op == KernelOp::adaptive_avg_pool2d_backward || op == KernelOp::crop2d_forward ||
           op == KernelOp::crop2d_backward;
  }

  // y = window maxima (first maximum wins, NaN propagates); argmax (nullable) in-plane indices,
  // -1 (and y = -inf) for a window entirely in the padding.
  template <class T>
  static void max_pool2d_forward(const Conv2dGeometry& g, const T* x, T* y, int32_t* argmax) {
    const int64_t n = g.n * g.c * g.ho * g.wo;
    if (n <= 0) return;
    max_pool2d_forward_kernel<<<grid_for(n), 256, 0, current_stream()>>>(g, n, x, y, argmax);
    check_launch("max_pool2d_forward");
  }

  // dx (+)= dy at the saved argmax (entries -1 skipped).
  template <class T>
  static void max_pool2d_backward_indexed(const Conv2dGeometry& g, const int32_t* argmax,
                                          const T* dy, T* dx, bool accumulate) {
    const int64_t n = g.n * g.c * g.h * g.w;
    if (n <= 0) return;
    max_pool2d_backward_kernel<<<grid_for(n), 256, 0, current_stream()>>>(g, n, argmax, dy, dx,
                                                                          accumulate);
    check_launch("max_pool2d_backward_indexed");
  }

  template <class T>
  static void adaptive_avg_pool2d_forward(int64_t planes, int64_t h, int64_t w, int64_t ho,
                                          int64_t wo, const T* x, T* y) {
    const int64_t n = planes * ho * wo;
    if (n <= 0) return;
    adaptive_avg_pool2d_forward_kernel<<<grid_for(n), 256, 0, current_stream()>>>(h, w, ho, wo, n,
                                                                                  x, y);
    check_launch("adaptive_avg_pool2d_forward");
  }

  template <class T>
  static void adaptive_avg_pool2d_backward(int64_t planes, int64_t h, int64_t w, int64_t ho,
                                           int64_t wo, const T* dy, T* dx, bool accumulate) {
    const int64_t n = planes * h * w;
    if (n <= 0) return;
    adaptive_avg_pool2d_backward_kernel<<<grid_for(n), 256, 0, current_stream()>>>(
        h, w, ho, wo, n, dy, dx, accumulate);
    check_launch("adaptive_avg_pool2d_backward");
  }

  // x [N, C, H, W] -> y [N * crops, C, ch, cw]; offsets [2 N crops] in device memory.
  template <class T>
  static void crop2d_forward(int64_t n, int64_t c, int64_t h, int64_t w, int64_t ch, int64_t cw,
                             int64_t crops, const int64_t* offsets, const T* x, T* y) {
    const int64_t total = n * crops * c * ch * cw;
    if (total <= 0) return;
    crop2d_forward_kernel<<<grid_for(total), 256, 0, current_stream()>>>(c, h, w, ch, cw, crops,
                                                                         total, offsets, x, y);
    check_launch("crop2d_forward");
  }

  // dx (+)= every crop of dy added back at its offset.
  template <class T>
  static void crop2d_backward(int64_t n, int64_t c, int64_t h, int64_t w, int64_t ch, int64_t cw,
                              int64_t crops, const int64_t* offsets, const T* dy, T* dx,
                              bool accumulate) {
    const int64_t total = n * c * h * w;
    if (total <= 0) return;
    crop2d_backward_kernel<<<grid_for(total), 256, 0, current_stream()>>>(
        c, h, w, ch, cw, crops, total, offsets, dy, dx, accumulate);
    check_launch("crop2d_backward");
  }
};

#ifdef MIMIC_SPATIAL_UNDEF_GRID_STRIDE
#undef MIMIC_GRID_STRIDE
#undef MIMIC_SPATIAL_UNDEF_GRID_STRIDE
#endif

}  // namespace mimic::cuda
