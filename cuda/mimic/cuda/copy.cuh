#pragma once
// Kernels<Cuda>'s copy family (backend/contract.hpp): strided scatter, gather and its backward.
// Grid-stride loops around the per-element math of backend/index/copy.hpp, which reads and adds
// in the CPU backend's order, so results match backend/cpu/copy.hpp bit for bit. All three are
// memory-bound: ~8-24 bytes moved per element for a few integer divisions (rank <= 6).
#include <cstdint>

#include "mimic/backend/contract.hpp"
#include "mimic/backend/index/copy.hpp"
#include "mimic/core/shape.hpp"
#include "mimic/cuda/check.cuh"
#include "mimic/cuda/memory.cuh"

namespace mimic::cuda {

#ifndef MIMIC_GRID_STRIDE
#define MIMIC_GRID_STRIDE(i, n)                                             \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); \
       i += int64_t(gridDim.x) * blockDim.x)
#define MIMIC_COPY_UNDEF_GRID_STRIDE
#endif

// scatter_strided: 1-D grid-stride over the n source elements (256 threads, grid_for(n) blocks).
// Thread i reads src[i] (coalesced) and writes one destination; the contract makes destinations
// distinct, so no two threads touch the same address. A [B, 512] slice backward: 8 bytes in,
// 4-8 out per element, ~3 TB/s -> ~0.5 us per 100k elements, plus launch.
template <class T>
__global__ void scatter_strided_kernel(Shape shape, int64_t n, T* dst, Strides ds, const T* src,
                                       bool accumulate) {
  MIMIC_GRID_STRIDE(i, n) {
    T* d = dst + index::strided_offset(shape, ds, i);
    *d = accumulate ? *d + src[i] : src[i];
  }
}

// gather: 1-D grid-stride over the n output elements. Thread i reads index[i] and one x element
// and writes out[i]: distinct writes, no race. Reads of x are as coalesced as the indices are
// (gathering along the last axis of [B, C] with one label per row: one 32-byte sector per row).
template <class T>
__global__ void gather_kernel(Shape shape, int axis, int64_t n, const T* x, Strides xs,
                              const int64_t* index, T* out) {
  MIMIC_GRID_STRIDE(i, n) out[i] = x[index::gather_source(shape, axis, xs, index, i)];
}

// gather_backward: a gather over the output side, one thread per fiber (a line of the output
// along `axis`; index/copy.hpp: GatherFibers). A fiber owns the line of gx its outputs add to, so
// threads never share an address and no atomics are needed; within a fiber the adds run in
// increasing output order, the CPU's, so repeated indices sum identically on both backends.
// Parallelism is the fiber count (B for a loss gather over [B, C]); a single long fiber (1-D
// gather along axis 0) runs serially in one thread, which is correct but slow, ~1 ns per element.
template <class T>
__global__ void gather_backward_kernel(index::GatherFibers f, int64_t fibers, T* gx,
                                       const int64_t* index, const T* g) {
  MIMIC_GRID_STRIDE(fiber, fibers) index::gather_backward_fiber(f, gx, index, g, fiber);
}

struct Copy {
  static constexpr bool provides(KernelOp op) {
    return op == KernelOp::scatter_strided || op == KernelOp::gather ||
           op == KernelOp::gather_backward;
  }

  // dst[offset(idx; ds)] (+)= src[i]; destinations distinct (contract).
  template <class T>
  static void scatter_strided(const Shape& shape, T* dst, const Strides& dst_strides, const T* src,
                              bool accumulate) {
    const int64_t n = shape.numel();
    if (n <= 0) return;
    scatter_strided_kernel<<<grid_for(n), 256, 0, current_stream()>>>(shape, n, dst, dst_strides,
                                                                      src, accumulate);
    check_launch("scatter_strided");
  }

  // out[idx] = x[idx with idx[axis] = index[idx]]; index is device memory.
  template <class T>
  static void gather(const Shape& shape, int axis, const T* x, const Strides& xs,
                     const int64_t* index, T* out) {
    const int64_t n = shape.numel();
    if (n <= 0) return;
    gather_kernel<<<grid_for(n), 256, 0, current_stream()>>>(shape, axis, n, x, xs, index, out);
    check_launch("gather");
  }

  // gx[...] += g at the positions gather read; repeated indices add up, deterministically.
  template <class T>
  static void gather_backward(const Shape& shape, int axis, T* gx, const Strides& xs,
                              const int64_t* index, const T* g) {
    if (shape.numel() <= 0) return;
    const index::GatherFibers f = index::gather_fibers(shape, axis, xs);
    const int64_t fibers = f.outer.numel();
    gather_backward_kernel<<<grid_for(fibers, 128), 128, 0, current_stream()>>>(f, fibers, gx,
                                                                                index, g);
    check_launch("gather_backward");
  }
};

#ifdef MIMIC_COPY_UNDEF_GRID_STRIDE
#undef MIMIC_GRID_STRIDE
#undef MIMIC_COPY_UNDEF_GRID_STRIDE
#endif

}  // namespace mimic::cuda
