#pragma once
// Device memory for Tensor<T, Cuda> and the arena, from the device's stream-ordered memory pool
// (cudaMallocAsync on the current stream: launch_context.cuh), with the pool told to keep what is
// freed: after the first step, a repeated step's allocations are served from the pool and no
// cudaMalloc reaches the driver. Devices without memory pools use cudaMalloc.
//
// Ordering: memory is allocated and freed on the stream current at the call. A policy's streams
// are created blocking (queue.cuh), so the legacy default stream, where everything outside a
// policy runs, waits for their queued work: a policy's tensor freed outside its scope is freed
// after the work that used it. While a stream is captured into a graph, nothing is allocated and
// no host copy is made (each throws, so the capture falls back to running eagerly); frees are
// deferred to the end of the capture.
#include <cuda_runtime.h>

#include <cstdint>

#include "mimic/core/device.hpp"
#include "mimic/core/device_memory.hpp"
#include "mimic/cuda/check.cuh"
#include "mimic/cuda/launch_context.cuh"
#include "mimic/cuda/pinned_staging.cuh"

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
    refuse_while_capturing("device memory allocation");
    void* p = nullptr;
    const size_t n = bytes == 0 ? 256 : bytes;
    if (use_memory_pool())
      MIMIC_CUDA_CHECK(cudaMallocAsync(&p, n, current_stream()));
    else
      MIMIC_CUDA_CHECK(cudaMalloc(&p, n));
    return p;
  }
  // Stream-ordered: work already queued on the stream that reads p finishes first. Never throws.
  static void deallocate(void* p) {
    if (!p) return;
    if (current_stream_capturing()) {
      try {
        current_context_slot()->deferred_frees.push_back(p);
        return;
      } catch (...) {  // out of host memory: freeing now only invalidates the capture
      }
    }
    if (use_memory_pool())
      cudaFreeAsync(p, current_stream());
    else
      cudaFree(p);
  }
  static void copy_bytes(void* dst, const void* src, size_t bytes) {
    if (bytes)
      MIMIC_CUDA_CHECK(
          cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, current_stream()));
  }
  static void zero_bytes(void* dst, size_t bytes) {
    if (bytes) MIMIC_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, current_stream()));
  }
  template <class T>
  static void fill(T* dst, int64_t n, T value) {
    if (n <= 0) return;
    fill_kernel<<<grid_for(n), 256, 0, current_stream()>>>(dst, n, value);
    check_launch("fill");
  }
  // Waits for the stream's queued work that writes src, then copies.
  static void to_host(void* dst, const void* src, size_t bytes) {
    if (!bytes) return;
    refuse_while_capturing("device-to-host copy");
    const cudaStream_t s = current_stream();
    MIMIC_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s));
    MIMIC_CUDA_CHECK(cudaStreamSynchronize(s));
  }
  // Queued on the current stream (through its pinned staging when it has one); src may be reused
  // as soon as this returns.
  static void from_host(void* dst, const void* src, size_t bytes) {
    if (!bytes) return;
    refuse_while_capturing("host-to-device copy");
    const LaunchContext* c = current_context();
    if (c && c->staging)
      c->staging->upload(dst, src, bytes);
    else
      MIMIC_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
  }

 private:
  // A graph would record the call's arguments, not its effect (an address that is freed after
  // capture, host data as it was then), so these refuse and the capture falls back.
  static void refuse_while_capturing(const char* what) {
    if (current_stream_capturing())
      throw Error(std::string(what) + " while a CUDA graph is being captured");
  }
};

}  // namespace mimic::cuda

namespace mimic {
// Core's tensors and arenas allocate through this (core/device_memory.hpp).
template <>
struct DeviceMemory<Cuda> : cuda::Memory {};
}  // namespace mimic
