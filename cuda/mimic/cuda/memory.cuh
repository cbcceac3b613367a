#pragma once
// Device memory for Tensor<T, Cuda> and the arena, from the device's stream-ordered memory pool
// (cudaMallocAsync on the default stream, which all of mimic's kernels use), with the pool told
// to keep what is freed: after the first step, a repeated step's allocations are served from the
// pool and no cudaMalloc reaches the driver. Devices without memory pools use cudaMalloc.
#include <cuda_runtime.h>

#include <cstdint>

#include "mimic/core/device.hpp"
#include "mimic/core/device_memory.hpp"
#include "mimic/cuda/check.cuh"

namespace mimic::cuda {

template <class T>
__global__ void fill_kernel(T* dst, int64_t n, T value) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    dst[i] = value;
}

// Grid for a grid-stride loop over n elements: enough blocks to fill the GPU, no more.
inline unsigned grid_for(int64_t n, int threads = 256) {
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks > 65535) blocks = 65535;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

// Whether this process's device serves allocations from its memory pool (decided once).
inline bool use_memory_pool() {
  static const bool pooled = [] {
    int device = 0, supported = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device) !=
            cudaSuccess ||
        !supported)
      return false;
    cudaMemPool_t pool;
    if (cudaDeviceGetDefaultMemPool(&pool, device) != cudaSuccess) return false;
    uint64_t keep_all = UINT64_MAX;  // never give freed memory back to the driver
    return cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_all) == cudaSuccess;
  }();
  return pooled;
}

struct Memory {
  static void* allocate(size_t bytes) {
    void* p = nullptr;
    const size_t n = bytes == 0 ? 256 : bytes;
    if (use_memory_pool())
      MIMIC_CUDA_CHECK(cudaMallocAsync(&p, n, cudaStreamLegacy));
    else
      MIMIC_CUDA_CHECK(cudaMalloc(&p, n));
    return p;
  }
  // Stream-ordered: work already queued on the stream that reads p finishes first. Never throws.
  static void deallocate(void* p) {
    if (use_memory_pool())
      cudaFreeAsync(p, cudaStreamLegacy);
    else
      cudaFree(p);
  }
  static void copy_bytes(void* dst, const void* src, size_t bytes) {
    if (bytes) MIMIC_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
  }
  static void zero_bytes(void* dst, size_t bytes) {
    if (bytes) MIMIC_CUDA_CHECK(cudaMemset(dst, 0, bytes));
  }
  template <class T>
  static void fill(T* dst, int64_t n, T value) {
    if (n <= 0) return;
    fill_kernel<<<grid_for(n), 256>>>(dst, n, value);
    check_launch("fill");
  }
  static void to_host(void* dst, const void* src, size_t bytes) {
    if (bytes) MIMIC_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
  }
  static void from_host(void* dst, const void* src, size_t bytes) {
    if (bytes) MIMIC_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
  }
};

}  // namespace mimic::cuda

namespace mimic {
// Core's tensors and arenas allocate through this (core/device_memory.hpp).
template <>
struct DeviceMemory<Cuda> : cuda::Memory {};
}  // namespace mimic
