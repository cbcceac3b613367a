#pragma once
// Kernels<Cuda>'s recurrent family (backend/contract.hpp): the pointwise half of an LSTM step (the
// GEMMs run through Gemm). The per-element math is index::lstm_forward_element /
// lstm_backward_element (backend/index/recurrent.hpp), shared with the host tests.
//
// Launch shape: a grid-stride loop over the B*H elements (b, j), 256 threads a block,
// grid_for(B*H) blocks. Race freedom: element (b, j) reads and writes only gates/dgates
// [b, q*H + j] (q = 0..3) and c, tanh_c, h, dc [b, j], which no other element touches; dc is
// updated in place by the one thread that reads it. Consecutive threads take consecutive j, so
// each of the 4 gate rows and every [B, H] array is read and written coalesced.
// Napkin math (B = 100, H = 400, float): forward moves 4BH in + 4BH out + BH c_prev + 3BH out
// = 12 * 40k * 4 B = 1.9 MB, ~1 us at 3 TB/s, i.e. launch-bound; backward ~2.2 MB likewise.
#include <cstdint>

#include "mimic/backend/contract.hpp"
#include "mimic/backend/index/recurrent.hpp"
#include "mimic/cuda/check.cuh"
#include "mimic/cuda/memory.cuh"

namespace mimic::cuda {

template <class T>
__global__ void lstm_cell_forward_kernel(int64_t total, int64_t hidden, T* gates, const T* c_prev,
                                         T* c, T* tanh_c, T* h) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x)
    index::lstm_forward_element(hidden, e / hidden, e % hidden, gates, c_prev, c, tanh_c, h);
}

template <class T>
__global__ void lstm_cell_backward_kernel(int64_t total, int64_t hidden, const T* gates,
                                          const T* c_prev, const T* tanh_c, const T* dh_out,
                                          int64_t ld_dh_out, const T* dh_rec, T* dc, T* dgates) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x)
    index::lstm_backward_element(hidden, e / hidden, e % hidden, gates, c_prev, tanh_c, dh_out,
                                 ld_dh_out, dh_rec, dc, dgates);
}

struct Recurrent {
  static constexpr bool provides(KernelOp op) {
    return op == KernelOp::lstm_cell_forward || op == KernelOp::lstm_cell_backward;
  }

  // gates [B, 4H] (i, f, g, o) pre-activations, overwritten with activations; c_prev [B, H]
  // nullable (zeros); c = f c_prev + i g, tanh_c = tanh(c), h = o tanh(c).
  template <class T>
  static void lstm_cell_forward(int64_t batch, int64_t hidden, T* gates, const T* c_prev, T* c,
                                T* tanh_c, T* h) {
    const int64_t total = batch * hidden;
    if (total <= 0) return;
    lstm_cell_forward_kernel<<<grid_for(total), 256, 0, current_stream()>>>(total, hidden, gates,
                                                                            c_prev, c, tanh_c, h);
    check_launch("lstm_cell_forward");
  }

  // dh_out [B, H] with row stride ld_dh_out, dh_rec [B, H] nullable; dc holds dL/dc on entry and
  // dL/dc_prev on return; dgates [B, 4H] overwritten with d(pre-activations).
  template <class T>
  static void lstm_cell_backward(int64_t batch, int64_t hidden, const T* gates, const T* c_prev,
                                 const T* tanh_c, const T* dh_out, int64_t ld_dh_out,
                                 const T* dh_rec, T* dc, T* dgates) {
    const int64_t total = batch * hidden;
    if (total <= 0) return;
    lstm_cell_backward_kernel<<<grid_for(total), 256, 0, current_stream()>>>(
        total, hidden, gates, c_prev, tanh_c, dh_out, ld_dh_out, dh_rec, dc, dgates);
    check_launch("lstm_cell_backward");
  }
};

}  // namespace mimic::cuda
