#pragma once
// The block reductions of the CUDA kernels, written once (softmax rows, norm statistics and the
// gradient norm all reduce with these).
//
// warp_reduce: a butterfly of xor shuffles over the 32 lanes (5 rounds), then lane 0's value
// broadcast, so every lane returns the same bits whatever the op's rounding.
// block_reduce_256: warp_reduce in each of the 8 warps of a 256-thread block, lane 0 of each
// warp writes its value to `warp_vals` (shared memory for 8 values), a barrier, then every thread
// combines the 8 values in warp order, and a second barrier before the slots may be written again.
// The order of combination depends only on the block size, never on timing, so results are
// deterministic (no atomics). Race-free: each slot is written by one lane before the first
// barrier and only read between the two. Every thread of the block must call it, the same number
// of times (callers keep their loop bounds uniform across the block).
// Cost: 5 shuffles per value per warp plus 8 shared reads per thread; negligible beside the
// memory traffic of the passes that feed it.
#include <cuda_runtime.h>

namespace mimic::cuda {

inline constexpr int kReduceThreads = 256;
inline constexpr int kReduceWarps = kReduceThreads / 32;

struct SumOp {
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return a + b;
  }
};
struct MaxOp {  // std::max's rule (a < b ? b : a): NaN elements never become the maximum
  template <class T>
  __device__ __forceinline__ T operator()(T a, T b) const {
    return a < b ? b : a;
  }
};

// Two sums reduced together (a norm's two statistics share one pass and one set of barriers).
struct DoublePair {
  double a, b;
};
__device__ __forceinline__ DoublePair operator+(DoublePair x, DoublePair y) {
  return {x.a + y.a, x.b + y.b};
}

__device__ __forceinline__ float shuffle_xor(float v, int mask) {
  return __shfl_xor_sync(0xffffffffu, v, mask);
}
__device__ __forceinline__ double shuffle_xor(double v, int mask) {
  return __shfl_xor_sync(0xffffffffu, v, mask);
}
__device__ __forceinline__ DoublePair shuffle_xor(DoublePair v, int mask) {
  return {shuffle_xor(v.a, mask), shuffle_xor(v.b, mask)};
}
__device__ __forceinline__ float shuffle_from_lane0(float v) {
  return __shfl_sync(0xffffffffu, v, 0);
}
__device__ __forceinline__ double shuffle_from_lane0(double v) {
  return __shfl_sync(0xffffffffu, v, 0);
}
__device__ __forceinline__ DoublePair shuffle_from_lane0(DoublePair v) {
  return {shuffle_from_lane0(v.a), shuffle_from_lane0(v.b)};
}

// v combined over the 32 lanes of this warp; every lane must call it and gets the total.
template <class T, class Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v = op(v, shuffle_xor(v, off));
  return shuffle_from_lane0(v);
}

// v combined over the 256 threads of the block; every thread gets the total (see above).
template <class T, class Op>
__device__ __forceinline__ T block_reduce_256(T v, Op op, T* warp_vals) {
  v = warp_reduce(v, op);
  if (threadIdx.x % 32 == 0) warp_vals[threadIdx.x / 32] = v;
  __syncthreads();
  T total = warp_vals[0];
#pragma unroll
  for (int w = 1; w < kReduceWarps; ++w) total = op(total, warp_vals[w]);
  __syncthreads();
  return total;
}

}  // namespace mimic::cuda
