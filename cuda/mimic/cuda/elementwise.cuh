#pragma once
// Elementwise launchers with the interface of backend/cpu/elementwise.hpp, as grid-stride
// kernels templated on the MIMIC_HD functors of include/mimic/ops/functors.hpp. Each moves
// 8-16 bytes per element for a few FLOPs: bound by memory bandwidth (~3 TB/s on an H100).
#include <cstdint>

#include "mimic/backend/index/copy.hpp"
#include "mimic/core/broadcast.hpp"
#include "mimic/cuda/memory.cuh"

namespace mimic::cuda {

#define MIMIC_GRID_STRIDE(i, n)                                             \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); \
       i += int64_t(gridDim.x) * blockDim.x)

template <class F, class T, class... In>
__global__ void map_kernel(int64_t n, F f, T* out, const In*... in) {
  MIMIC_GRID_STRIDE(i, n) out[i] = f(in[i]...);
}
template <class F, class T>
__global__ void generate_kernel(int64_t n, F f, T* out) {
  MIMIC_GRID_STRIDE(i, n) out[i] = f(i);
}

// Offset of flat element i of `shape` under strides `st` (shared with the host).
using index::strided_offset;

template <class F, class T>
__global__ void broadcast2_kernel(Shape shape, int64_t n, F f, T* out, const T* a, Strides sa,
                                  const T* b, Strides sb) {
  MIMIC_GRID_STRIDE(i, n)
  out[i] = f(a[strided_offset(shape, sa, i)], b[strided_offset(shape, sb, i)]);
}
template <class F, class T>
__global__ void broadcast1_kernel(Shape shape, int64_t n, F f, T* out, const T* a, Strides sa) {
  MIMIC_GRID_STRIDE(i, n) out[i] = f(a[strided_offset(shape, sa, i)]);
}

// One thread per output element sums its reduced set in a fixed order: deterministic.
template <class T>
__global__ void sum_to_kernel(Shape kept, Strides kept_in, Strides kept_out, Shape reduced,
                              Strides reduced_in, int64_t out_total, int64_t reduced_total,
                              const T* in, T* out, bool accumulate) {
  MIMIC_GRID_STRIDE(j, out_total) {
    const int64_t base = strided_offset(kept, kept_in, j);
    T acc = T(0);
    for (int64_t r = 0; r < reduced_total; ++r)
      acc += in[base + strided_offset(reduced, reduced_in, r)];
    const int64_t o = strided_offset(kept, kept_out, j);
    out[o] = accumulate ? out[o] + acc : acc;
  }
}

struct Elementwise {
  template <class F, class T, class... In>
  static void map(int64_t n, const F& f, T* out, const In*... in) {
    if (n <= 0) return;
    map_kernel<<<grid_for(n), 256, 0, current_stream()>>>(n, f, out, in...);
    check_launch("map");
  }
  template <class F, class T>
  static void generate(int64_t n, const F& f, T* out) {
    if (n <= 0) return;
    generate_kernel<<<grid_for(n), 256, 0, current_stream()>>>(n, f, out);
    check_launch("generate");
  }
  template <class F, class T>
  static void broadcast_map(const Shape& shape, const F& f, T* out, const T* a, const Strides& sa,
                            const T* b, const Strides& sb) {
    const int64_t n = shape.numel();
    if (n <= 0) return;
    broadcast2_kernel<<<grid_for(n), 256, 0, current_stream()>>>(shape, n, f, out, a, sa, b, sb);
    check_launch("broadcast_map");
  }
  template <class F, class T>
  static void broadcast_map(const Shape& shape, const F& f, T* out, const T* a, const Strides& sa) {
    const int64_t n = shape.numel();
    if (n <= 0) return;
    broadcast1_kernel<<<grid_for(n), 256, 0, current_stream()>>>(shape, n, f, out, a, sa);
    check_launch("broadcast_map");
  }
  // Same contract as cpu::Elementwise::sum_to: out addressed through `so` (0 on summed dims).
  template <class T>
  static void sum_to(const Shape& shape, const T* in, const Strides& so, T* out, int64_t out_n,
                     bool accumulate) {
    const Strides si = contiguous_strides(shape);
    Shape kept, reduced;
    Strides kept_in, kept_out, reduced_in;
    for (int d = 0; d < shape.rank; ++d) {
      if (so[d] != 0) {
        kept_in.s[kept.rank] = si[d];
        kept_out.s[kept.rank] = so[d];
        kept.push_back(shape[d]);
      } else if (shape[d] != 1) {
        reduced_in.s[reduced.rank] = si[d];
        reduced.push_back(shape[d]);
      }
    }
    const int64_t total = kept.numel();
    if (total <= 0 || out_n <= 0) return;
    sum_to_kernel<<<grid_for(total), 256, 0, current_stream()>>>(
        kept, kept_in, kept_out, reduced, reduced_in, total, reduced.numel(), in, out, accumulate);
    check_launch("sum_to");
  }
};

#undef MIMIC_GRID_STRIDE

}  // namespace mimic::cuda
