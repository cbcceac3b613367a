#pragma once
// Kernels<Cuda>'s optim family (backend/contract.hpp): fused optimizer passes over a flat
// parameter buffer, and the squared norm that gradient clipping needs.
//
// adam_step, sgd_step, ema_update, scale: one grid-stride thread per element (256 threads, up to
// 65535 blocks), each running the per-element function of backend/index/optim.hpp that the CPU
// also runs. Race-free: element i is read and written by the one thread that owns i, no other
// thread touches it. Napkin math (float): Adam reads p, g, m, v and writes p, m, v = 28 B for ~15
// FLOPs and a sqrt; SGD with momentum 20 B, EMA 12 B, scale 8 B. All are bound by memory: the
// 65.8M-parameter UNet's Adam step moves ~1.8 GB, ~0.6 ms at ~3 TB/s on an H100.
//
// sum_squares: two launches, both deterministic (fixed order, no float atomics). Pass 1: G blocks
// of 256 threads, G = min(1024, ceil(n / 256)) fixed by n; thread t of block b sums x[i]^2 in
// double over i = b * 256 + t + k * G * 256 (a fixed sequence), then the block reduces its 256
// sums with block_reduce_256 (reduce.cuh: a fixed butterfly, then the 8 warp totals); thread 0
// writes partial[b]. Pass 2: one block of 256 threads reduces the G partials the same way and
// writes the total, which one copy on the stream brings to the host (it waits for the stream).
// Race-free: each partial[b] is written by one thread; pass 2 starts after pass 1 on the same
// stream; within a block the shared array is written before and read after __syncthreads. 4 B read
// and 2 double FLOPs per float element: memory bound (~22 us for 65.8M floats on an H100).
#include <cuda_runtime.h>

#include <cstdint>

#include "mimic/backend/contract.hpp"
#include "mimic/backend/index/optim.hpp"
#include "mimic/cuda/memory.cuh"
#include "mimic/cuda/reduce.cuh"

namespace mimic::cuda {

#define MIMIC_GRID_STRIDE(i, n)                                             \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); \
       i += int64_t(gridDim.x) * blockDim.x)

template <class T>
__global__ void adam_kernel(int64_t n, T* p, const T* g, T* m, T* v, index::AdamCoeffs<T> c) {
  MIMIC_GRID_STRIDE(i, n) {
    T pi = p[i], mi = m[i], vi = v[i];
    index::adam_update(pi, g[i], mi, vi, c);
    m[i] = mi;
    v[i] = vi;
    p[i] = pi;
  }
}

template <class T>
__global__ void sgd_kernel(int64_t n, T* p, const T* g, T* buf, T lr, T momentum, T wd,
                           bool use_momentum, bool first) {
  MIMIC_GRID_STRIDE(i, n) {
    T pi = p[i];
    T bi = (use_momentum && !first) ? buf[i] : T(0);  // buf is not read on the first step
    index::sgd_update(pi, g[i], bi, lr, momentum, wd, use_momentum, first);
    if (use_momentum) buf[i] = bi;
    p[i] = pi;
  }
}

template <class T>
__global__ void ema_kernel(int64_t n, T* ema, const T* p, T d, T r) {
  MIMIC_GRID_STRIDE(i, n) ema[i] = index::ema_value(ema[i], p[i], d, r);
}

template <class T>
__global__ void scale_kernel(int64_t n, T* x, T s) {
  MIMIC_GRID_STRIDE(i, n) x[i] *= s;
}

template <class T>
__global__ void __launch_bounds__(256)
    sum_squares_partial_kernel(int64_t n, const T* x, double* partial) {
  __shared__ double warp_sums[kReduceWarps];
  double acc = 0;
  MIMIC_GRID_STRIDE(i, n) acc += index::square_in_double(x[i]);
  const double total = block_reduce_256(acc, SumOp{}, warp_sums);
  if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

// A template (on the partials' type) so that every translation unit including this header may
// instantiate it without a duplicate definition at link time.
template <class Acc>
__global__ void __launch_bounds__(256)
    sum_partials_kernel(int blocks, const Acc* partial, Acc* out) {
  __shared__ double warp_sums[kReduceWarps];
  Acc acc = 0;
  for (int b = threadIdx.x; b < blocks; b += 256) acc += partial[b];
  const double total = block_reduce_256(double(acc), SumOp{}, warp_sums);
  if (threadIdx.x == 0) *out = total;
}

struct Optim {
  static constexpr KernelOp kOps[] = {KernelOp::adam_step, KernelOp::sgd_step, KernelOp::ema_update,
                                      KernelOp::sum_squares, KernelOp::scale};
  static constexpr bool provides(KernelOp op) { return kernel_table_contains(kOps, op); }

  template <class T>
  static void adam_step(int64_t n, T* p, const T* g, T* m, T* v, const AdamHyper& h) {
    if (n <= 0) return;
    adam_kernel<<<grid_for(n), 256, 0, current_stream()>>>(n, p, g, m, v,
                                                           index::AdamCoeffs<T>::from(h));
    check_launch("adam_step");
  }
  template <class T>
  static void sgd_step(int64_t n, T* p, const T* g, T* buf, double lr, double momentum,
                       double weight_decay, bool first) {
    if (n <= 0) return;
    sgd_kernel<<<grid_for(n), 256, 0, current_stream()>>>(n, p, g, buf, T(lr), T(momentum),
                                                          T(weight_decay), momentum > 0, first);
    check_launch("sgd_step");
  }
  template <class T>
  static void ema_update(int64_t n, T* ema, const T* p, double decay) {
    if (n <= 0) return;
    ema_kernel<<<grid_for(n), 256, 0, current_stream()>>>(n, ema, p, T(decay), T(1.0 - decay));
    check_launch("ema_update");
  }
  template <class T>
  static double sum_squares(int64_t n, const T* x) {
    if (n <= 0) return 0.0;
    constexpr int kMaxBlocks = 1024;
    int64_t want = (n + 255) / 256;
    const int blocks = int(want < kMaxBlocks ? want : kMaxBlocks);
    double* scratch = reduction_scratch(kMaxBlocks + 1);  // partials, then the total
    sum_squares_partial_kernel<<<blocks, 256, 0, current_stream()>>>(n, x, scratch);
    check_launch("sum_squares (partials)");
    sum_partials_kernel<double>
        <<<1, 256, 0, current_stream()>>>(blocks, scratch, scratch + kMaxBlocks);
    check_launch("sum_squares (total)");
    double total = 0;
    Memory::to_host(&total, scratch + kMaxBlocks, sizeof(double));  // waits for the stream
    return total;
  }
  template <class T>
  static void scale(int64_t n, T* x, double s) {
    if (n <= 0) return;
    scale_kernel<<<grid_for(n), 256, 0, current_stream()>>>(n, x, T(s));
    check_launch("scale");
  }

 private:
  // Device doubles kept for the reductions, one buffer per host thread and device (so steady
  // state allocates nothing, and two host threads never share partials). Freed at thread exit.
  static double* reduction_scratch(int64_t count) {
    struct Scratch {
      double* p = nullptr;
      int64_t count = 0;
      int device = -1;
      ~Scratch() {
        if (p) cudaFree(p);  // may fail after the runtime shut down: nothing to do then
      }
    };
    thread_local Scratch s;
    int device = 0;
    MIMIC_CUDA_CHECK(cudaGetDevice(&device));
    if (s.p == nullptr || s.count < count || s.device != device) {
      if (s.p) cudaFree(s.p);  // best effort: it may belong to another device
      s.p = nullptr;
      MIMIC_CUDA_CHECK(cudaMalloc(&s.p, size_t(count) * sizeof(double)));
      s.count = count;
      s.device = device;
    }
    return s.p;
  }
};

#undef MIMIC_GRID_STRIDE

}  // namespace mimic::cuda
