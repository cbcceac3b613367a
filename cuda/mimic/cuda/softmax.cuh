#pragma once
// Kernels<Cuda>'s softmax family (backend/contract.hpp): softmax, log-softmax and logsumexp along
// the middle axis of a tensor viewed as [outer, n, inner], with the row index math of
// backend/index/softmax.hpp (which the CPU backend also uses).
//
// Launch shape of the three row kernels (softmax_forward, softmax_backward, logsumexp_forward):
// blocks of 256 threads, split into groups of P threads, one group per row (grid-stride over
// rows, at most 65535 blocks). P is chosen on the host from the layout:
//   inner >= 32        P = 1:   a thread per row; neighbouring threads own neighbouring rows,
//                               whose elements are adjacent in memory (coalesced), and the thread
//                               walks its row serially, in the CPU's order.
//   inner < 32, n <= 1024       P = 32: a warp per row, reduced by warp shuffles.
//   inner < 32, n > 1024        P = 256: a block per row; warp shuffles, then the 8 warp values
//                               through shared memory.
// Lane l of a group handles elements k = l, l + P, ...; its partial max / sum is combined with
// the other lanes' by a fixed butterfly (xor shuffles) and a fixed sequential pass over the warp
// values, so results are deterministic (no atomics), and every lane ends with the same value
// (broadcast from lane 0 / read from the same shared slots), so branches on it are uniform.
// Race-free: each output element is written only by the lane that owns it; the shared slots are
// written before and read after a __syncthreads, and a second __syncthreads separates that read
// from the next reduction's write. All of a row's reads precede its reduction's barrier, and its
// writes follow it, so y may alias x (and gx may alias gy) as on the CPU.
// Napkin math (float): forward reads x three times (twice from cache for rows that fit) and
// writes y once, ~16 B and ~2 exp per element; backward reads y, gy twice and writes gx, ~20 B;
// all bound by memory bandwidth, not FLOPs.
// logsumexp_backward is a grid-stride map (one thread per element of x, 16 B each): race-free as
// every element is written once, by its own thread.
#include <cstdint>
#include <limits>
#include <type_traits>

#include "mimic/backend/contract.hpp"
#include "mimic/backend/index/softmax.hpp"
#include "mimic/cuda/memory.cuh"
#include "mimic/cuda/reduce.cuh"

namespace mimic::cuda {

namespace softmax_detail {

// Combines v over the P lanes of this thread's row group (see the header comment and
// reduce.cuh). Every thread of a block must call it the same number of times when P == 256;
// every lane of a warp when P == 32. `warp_vals` is shared memory for 8 values.
template <int P, class T, class Op>
__device__ __forceinline__ T group_reduce(T v, Op op, T* warp_vals) {
  static_assert(P == 1 || P == 32 || P == 256, "row group of 1, 32 or 256 threads");
  if constexpr (P == 1)
    return v;
  else if constexpr (P == 32)
    return warp_reduce(v, op);
  else
    return block_reduce_256(v, op, warp_vals);
}

template <class T>
__device__ __forceinline__ T neg_inf() {
  return -std::numeric_limits<T>::infinity();
}

// Loop over the rows of this thread's group; `lane` is its index within the group.
#define MIMIC_ROW_LOOP(r, rows)                                                 \
  for (int64_t r = blockIdx.x * int64_t(256 / P) + threadIdx.x / P; r < (rows); \
       r += int64_t(gridDim.x) * (256 / P))

template <int P, class T>
__global__ void __launch_bounds__(256)
    softmax_forward_kernel(index::SoftmaxRows L, const T* x, T* y, bool log) {
  __shared__ T warp_vals[8];
  const int lane = threadIdx.x % P;
  const int64_t n = L.n, step = L.step();
  MIMIC_ROW_LOOP(r, L.rows()) {
    const int64_t base = L.base(r);
    T mx = neg_inf<T>();
    for (int64_t k = lane; k < n; k += P) mx = MaxOp{}(mx, x[base + k * step]);
    mx = group_reduce<P>(mx, MaxOp{}, warp_vals);
    if (mx == neg_inf<T>()) mx = T(0);  // all -inf: avoid inf - inf
    T sum = T(0);
    for (int64_t k = lane; k < n; k += P) sum += std::exp(x[base + k * step] - mx);
    sum = group_reduce<P>(sum, SumOp{}, warp_vals);
    if (log) {
      const T lse = mx + std::log(sum);
      for (int64_t k = lane; k < n; k += P) y[base + k * step] = x[base + k * step] - lse;
    } else {
      const T inv = T(1) / sum;
      for (int64_t k = lane; k < n; k += P)
        y[base + k * step] = std::exp(x[base + k * step] - mx) * inv;
    }
  }
}

template <int P, class T>
__global__ void __launch_bounds__(256)
    softmax_backward_kernel(index::SoftmaxRows L, const T* y, const T* gy, T* gx, bool log,
                            bool accumulate) {
  __shared__ T warp_vals[8];
  const int lane = threadIdx.x % P;
  const int64_t n = L.n, step = L.step();
  MIMIC_ROW_LOOP(r, L.rows()) {
    const int64_t base = L.base(r);
    T dot = T(0);
    for (int64_t k = lane; k < n; k += P) {
      const int64_t i = base + k * step;
      dot += log ? gy[i] : gy[i] * y[i];
    }
    dot = group_reduce<P>(dot, SumOp{}, warp_vals);
    for (int64_t k = lane; k < n; k += P) {
      const int64_t i = base + k * step;
      const T g = log ? gy[i] - std::exp(y[i]) * dot : y[i] * (gy[i] - dot);
      gx[i] = accumulate ? gx[i] + g : g;
    }
  }
}

template <int P, class T>
__global__ void __launch_bounds__(256)
    logsumexp_forward_kernel(index::SoftmaxRows L, const T* x, T* y) {
  __shared__ T warp_vals[8];
  const int lane = threadIdx.x % P;
  const int64_t n = L.n, step = L.step();
  MIMIC_ROW_LOOP(r, L.rows()) {
    const int64_t base = L.base(r);
    T mx = neg_inf<T>();
    for (int64_t k = lane; k < n; k += P) mx = MaxOp{}(mx, x[base + k * step]);
    mx = group_reduce<P>(mx, MaxOp{}, warp_vals);
    if (mx == neg_inf<T>()) {  // uniform over the group: every lane holds the same mx
      if (lane == 0) y[r] = mx;
      continue;
    }
    T sum = T(0);
    for (int64_t k = lane; k < n; k += P) sum += std::exp(x[base + k * step] - mx);
    sum = group_reduce<P>(sum, SumOp{}, warp_vals);
    if (lane == 0) y[r] = mx + std::log(sum);
  }
}

#undef MIMIC_ROW_LOOP

template <class T>
__global__ void logsumexp_backward_kernel(index::SoftmaxRows L, int64_t total, const T* x,
                                          const T* y, const T* gy, T* gx, bool accumulate) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = L.row_of(i);
    const T g = gy[r] * std::exp(x[i] - y[r]);
    gx[i] = accumulate ? gx[i] + g : g;
  }
}

// Calls launch(std::integral_constant<int, P>{}) with the row group size for this layout.
template <class Launch>
void with_row_group(const index::SoftmaxRows& L, const Launch& launch) {
  if (L.inner >= 32)
    launch(std::integral_constant<int, 1>{});
  else if (L.n <= 1024)
    launch(std::integral_constant<int, 32>{});
  else
    launch(std::integral_constant<int, 256>{});
}

}  // namespace softmax_detail

struct Softmax {
  static constexpr KernelOp kOps[] = {KernelOp::softmax_forward, KernelOp::softmax_backward,
                                      KernelOp::logsumexp_forward, KernelOp::logsumexp_backward};
  static constexpr bool provides(KernelOp op) { return kernel_table_contains(kOps, op); }

  template <class T>
  static void softmax_forward(int64_t outer, int64_t n, int64_t inner, const T* x, T* y, bool log) {
    const index::SoftmaxRows L{outer, n, inner};
    if (L.rows() <= 0 || n <= 0) return;
    softmax_detail::with_row_group(L, [&](auto group) {
      constexpr int P = decltype(group)::value;
      softmax_detail::softmax_forward_kernel<P>
          <<<grid_for(L.rows() * P), 256, 0, current_stream()>>>(L, x, y, log);
    });
    check_launch("softmax_forward");
  }
  template <class T>
  static void softmax_backward(int64_t outer, int64_t n, int64_t inner, const T* y, const T* gy,
                               T* gx, bool log, bool accumulate) {
    const index::SoftmaxRows L{outer, n, inner};
    if (L.rows() <= 0 || n <= 0) return;
    softmax_detail::with_row_group(L, [&](auto group) {
      constexpr int P = decltype(group)::value;
      softmax_detail::softmax_backward_kernel<P>
          <<<grid_for(L.rows() * P), 256, 0, current_stream()>>>(L, y, gy, gx, log, accumulate);
    });
    check_launch("softmax_backward");
  }
  template <class T>
  static void logsumexp_forward(int64_t outer, int64_t n, int64_t inner, const T* x, T* y) {
    const index::SoftmaxRows L{outer, n, inner};
    if (L.rows() <= 0) return;  // n == 0 runs: an empty row's logsumexp is -inf
    softmax_detail::with_row_group(L, [&](auto group) {
      constexpr int P = decltype(group)::value;
      softmax_detail::logsumexp_forward_kernel<P>
          <<<grid_for(L.rows() * P), 256, 0, current_stream()>>>(L, x, y);
    });
    check_launch("logsumexp_forward");
  }
  template <class T>
  static void logsumexp_backward(int64_t outer, int64_t n, int64_t inner, const T* x, const T* y,
                                 const T* gy, T* gx, bool accumulate) {
    const index::SoftmaxRows L{outer, n, inner};
    const int64_t total = L.rows() * n;
    if (total <= 0) return;
    softmax_detail::logsumexp_backward_kernel<<<grid_for(total), 256, 0, current_stream()>>>(
        L, total, x, y, gy, gx, accumulate);
    check_launch("logsumexp_backward");
  }
};

}  // namespace mimic::cuda
