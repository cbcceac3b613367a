#pragma once
// Kernels<Cuda>'s conv family (backend/contract.hpp): im2col / col2im in 1-D and 2-D, and conv2d
// as im2col + cuBLAS GEMM (cuda/mimic/cuda/gemm.cuh), with the CPU's layouts and plan protocol
// (backend/cpu/conv2d.hpp). Winograd stays a CPU choice: the CUDA plan is always im2col, and a
// forced Winograd algorithm throws UnsupportedError.
//
// Launch skeleton: every kernel here is a grid-stride loop (256 threads a block, grid_for(n)
// blocks) over the elements of its OUTPUT, each element written by exactly one thread and inputs
// only read, so no two threads write the same address and there are no atomics:
// - im2col: one thread per col element, copying x at index::im2col_*_source (or 0). Consecutive
//   threads write consecutive col columns (coalesced) and read x at stride s.
// - col2im: one thread per image element, gathering its <= K (1-D) or KH*KW (2-D) col entries in
//   ascending tap order (index::col2im_*_gather): deterministic, and the CPU's summation order.
// - layout copies [N, C, P] <-> [C, N, P] (+ bias): one thread per destination element.
// Napkin math (ResNet18 stem, N = 16, 3 x 84 x 84 -> 64 x 42 x 42, 7x7 stride 2, float): col is
// 147 x 28224 = 4.1M floats (17 MB written, x read ~once through L2): ~10 us at 3 TB/s against the
// GEMM's 2 * 64 * 147 * 28224 = 0.53 GFLOP (~10 us at 50 TFLOP/s fp32). Backward: dyc transpose
// (7 MB), two GEMMs, col2im reading dcol once (17 MB): a few tens of us.
//
// Temporaries (the channel-major staging buffers, dcol, a recomputed col) come from the caller's
// scratch (the op's scratch arena, ops/conv2d.hpp), so steady-state steps call no cudaMalloc.
#include <cstdint>
#include <string>

#include "mimic/backend/contract.hpp"
#include "mimic/backend/index/conv.hpp"
#include "mimic/backend/kernel_types.hpp"
#include "mimic/core/conv_geometry.hpp"
#include "mimic/core/error.hpp"
#include "mimic/core/shape.hpp"
#include "mimic/cuda/check.cuh"
#include "mimic/cuda/gemm.cuh"
#include "mimic/cuda/memory.cuh"

namespace mimic::cuda {

#define MIMIC_CONV_GRID_STRIDE(i, n)                                        \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); \
       i += int64_t(gridDim.x) * blockDim.x)

// col [C*K, N*Lo] from x [N, C, L].
template <class T>
__global__ void im2col_1d_kernel(Conv1dGeometry g, int64_t total, int64_t cols, const T* x,
                                 T* col) {
  MIMIC_CONV_GRID_STRIDE(e, total) {
    const int64_t src = index::im2col_1d_source(g, e / cols, e % cols);
    col[e] = src >= 0 ? x[src] : T(0);
  }
}
// x [N, C, L] (+)= the taps of col.
template <class T>
__global__ void col2im_1d_kernel(Conv1dGeometry g, int64_t total, const T* col, T* x,
                                 bool accumulate) {
  MIMIC_CONV_GRID_STRIDE(e, total) {
    x[e] = index::col2im_1d_gather(g, col, e, accumulate ? x[e] : T(0));
  }
}
// col [C*KH*KW, N*Ho*Wo] from x [N, C, H, W].
template <class T>
__global__ void im2col_2d_kernel(Conv2dGeometry g, int64_t total, int64_t cols, const T* x,
                                 T* col) {
  MIMIC_CONV_GRID_STRIDE(e, total) {
    const int64_t src = index::im2col_2d_source(g, e / cols, e % cols);
    col[e] = src >= 0 ? x[src] : T(0);
  }
}
// x [N, C, H, W] (+)= the taps of col.
template <class T>
__global__ void col2im_2d_kernel(Conv2dGeometry g, int64_t total, const T* col, T* x,
                                 bool accumulate) {
  MIMIC_CONV_GRID_STRIDE(e, total) {
    x[e] = index::col2im_2d_gather(g, col, e, accumulate ? x[e] : T(0));
  }
}
// xc [C, N, P] = x [N, C, P]; one thread per xc element.
template <class T>
__global__ void to_channel_major_kernel(int64_t n, int64_t c, int64_t p, const T* x, T* xc) {
  const int64_t total = n * c * p;
  MIMIC_CONV_GRID_STRIDE(e, total) {
    const int64_t l = e % p, rest = e / p;
    const int64_t ni = rest % n, ci = rest / n;
    xc[e] = x[(ni * c + ci) * p + l];
  }
}
// y [N, C, P] = yc [C, N, P] (+ bias[C] when given); one thread per y element.
template <class T>
__global__ void from_channel_major_kernel(int64_t n, int64_t c, int64_t p, const T* yc,
                                          const T* bias, T* y) {
  const int64_t total = n * c * p;
  MIMIC_CONV_GRID_STRIDE(e, total) {
    const int64_t l = e % p, rest = e / p;
    const int64_t ci = rest % c, ni = rest / c;
    const T v = yc[(ci * n + ni) * p + l];
    y[e] = bias != nullptr ? v + bias[ci] : v;
  }
}
// y [N, C, P] += bias[C]; one thread per y element.
template <class T>
__global__ void add_channel_bias_kernel(int64_t total, int64_t c, int64_t p, const T* bias, T* y) {
  MIMIC_CONV_GRID_STRIDE(e, total) y[e] += bias[(e / p) % c];
}

#undef MIMIC_CONV_GRID_STRIDE

struct Conv {
  static constexpr bool provides(KernelOp op) {
    return op == KernelOp::im2col_1d || op == KernelOp::col2im_1d || op == KernelOp::conv2d_plan ||
           op == KernelOp::conv2d_forward || op == KernelOp::conv2d_backward;
  }

  // col[c*K + k, n*Lo + lo] = x[n, c, lo*stride - padding + k*dilation] or 0.
  template <class T>
  static void im2col_1d(const Conv1dGeometry& g, const T* x, T* col) {
    const int64_t cols = g.n * g.lo, total = g.c * g.k * cols;
    if (total <= 0) return;
    im2col_1d_kernel<<<grid_for(total), 256, 0, current_stream()>>>(g, total, cols, x, col);
    check_launch("im2col_1d");
  }
  // The adjoint: x [N, C, L] (+)= taps of col.
  template <class T>
  static void col2im_1d(const Conv1dGeometry& g, const T* col, T* x, bool accumulate) {
    const int64_t total = g.n * g.c * g.l;
    if (total <= 0) return;
    col2im_1d_kernel<<<grid_for(total), 256, 0, current_stream()>>>(g, total, col, x, accumulate);
    check_launch("col2im_1d");
  }
  // col[(c*KH + i)*KW + j, n*Ho*Wo + ho*Wo + wo] = x[n, c, ho*sh - ph + i*dh, wo*sw - pw + j*dw]
  // or 0 (not a contract op; conv2d's first step, public for tests and future ops).
  template <class T>
  static void im2col_2d(const Conv2dGeometry& g, const T* x, T* col) {
    const int64_t cols = g.n * g.ho * g.wo, total = g.c * g.kh * g.kw * cols;
    if (total <= 0) return;
    im2col_2d_kernel<<<grid_for(total), 256, 0, current_stream()>>>(g, total, cols, x, col);
    check_launch("im2col_2d");
  }
  // The adjoint of im2col_2d: x [N, C, H, W] (+)= taps of col.
  template <class T>
  static void col2im_2d(const Conv2dGeometry& g, const T* col, T* x, bool accumulate) {
    const int64_t total = g.n * g.c * g.h * g.w;
    if (total <= 0) return;
    col2im_2d_kernel<<<grid_for(total), 256, 0, current_stream()>>>(g, total, col, x, accumulate);
    check_launch("col2im_2d");
  }

  // From this many output pixels per sample (or at batch 1, where the two layouts coincide), the
  // forward GEMM writes [N, Cout, Ho, Wo] directly, one strided-batched GEMM over the samples per
  // group; below it, one GEMM over the whole batch into channel-major [Cout, N*Ho*Wo] (late
  // ResNet stages: 3x3 planes make per-sample GEMMs too narrow) plus a transpose. As on the CPU.
  static constexpr int64_t kPerSampleGemmPlane = 256;

  // Always im2col (variant 0); saved holds col [Cin*KH*KW, N*Ho*Wo] for the weight gradient.
  static Conv2dPlan conv2d_plan(const Conv2dGeometry& g, int64_t cout, int64_t groups,
                                Conv2dAlgorithm algorithm) {
    if (algorithm == Conv2dAlgorithm::winograd || algorithm == Conv2dAlgorithm::winograd_2x2 ||
        algorithm == Conv2dAlgorithm::winograd_4x4)
      throw UnsupportedError(
          "conv2d: the Winograd algorithm runs on the CPU only; on CUDA use "
          "Conv2dAlgorithm::automatic or im2col (weight " +
          Shape{cout, groups > 0 ? g.c / groups : g.c, g.kh, g.kw}.str() + ")");
    return Conv2dPlan{g.c * g.kh * g.kw * g.n * g.ho * g.wo, 0};
  }

  // y [N, Cout, Ho, Wo] = conv(x, w) + bias; col (plan.saved_numel) = im2col(x).
  template <class T, class Scratch>
  static void conv2d_forward(const Conv2dGeometry& g, int64_t cout, int64_t groups,
                             const Conv2dPlan& plan, const T* x, const T* w, const T* bias, T* y,
                             T* col, Scratch&& scratch) {
    check_plan(plan, "conv2d_forward");
    const int64_t plane = g.ho * g.wo, cols = g.n * plane, ck = g.c * g.kh * g.kw;
    const int64_t ckg = ck / groups, coutg = cout / groups;
    if (cols <= 0 || cout <= 0) return;
    im2col_2d(g, x, col);
    if (plane >= kPerSampleGemmPlane || g.n == 1) {
      // y[n, group rows] = W_g [coutg, ckg] @ col[group rows, n*plane : (n+1)*plane].
      for (int64_t gi = 0; gi < groups; ++gi)
        Gemm::gemm_strided_batched(false, false, coutg, plane, ckg, T(1), w + gi * coutg * ckg, ckg,
                                   0, col + gi * ckg * cols, cols, plane, T(0),
                                   y + gi * coutg * plane, plane, cout * plane, g.n);
      if (bias != nullptr) {
        const int64_t total = g.n * cout * plane;
        add_channel_bias_kernel<<<grid_for(total), 256, 0, current_stream()>>>(total, cout, plane,
                                                                               bias, y);
        check_launch("conv2d_forward bias");
      }
    } else {
      // yc [Cout, N*plane], group gi's rows = W_g @ col_g: one batched GEMM over the groups.
      T* yc = scratch(cout * cols);
      Gemm::gemm_strided_batched(false, false, coutg, cols, ckg, T(1), w, ckg, coutg * ckg, col,
                                 cols, ckg * cols, T(0), yc, cols, coutg * cols, groups);
      const int64_t total = g.n * cout * plane;
      from_channel_major_kernel<<<grid_for(total), 256, 0, current_stream()>>>(g.n, cout, plane, yc,
                                                                               bias, y);
      check_launch("conv2d_forward layout");
    }
  }

  // dx [N, C, H, W] (+)= and dw [Cout, C/groups, KH, KW] (+)= from dy [N, Cout, Ho, Wo]; both
  // nullable. saved: conv2d_forward's col, or nullptr (then rebuilt from x in scratch).
  template <class T, class Scratch>
  static void conv2d_backward(const Conv2dGeometry& g, int64_t cout, int64_t groups,
                              const Conv2dPlan& plan, const T* x, const T* w, const T* dy,
                              const T* saved, T* dx, bool dx_acc, T* dw, bool dw_acc,
                              Scratch&& scratch) {
    check_plan(plan, "conv2d_backward");
    if (!dx && !dw) return;
    const int64_t plane = g.ho * g.wo, cols = g.n * plane, ck = g.c * g.kh * g.kw;
    const int64_t ckg = ck / groups, coutg = cout / groups;
    // dyc [Cout, N*plane]: the GEMMs' channel-major dy, shared by both gradients.
    T* dyc = scratch(cout * cols);
    if (cout * cols > 0) {
      to_channel_major_kernel<<<grid_for(cout * cols), 256, 0, current_stream()>>>(g.n, cout, plane,
                                                                                   dy, dyc);
      check_launch("conv2d_backward layout");
    }
    if (dw) {
      const T* col = saved;
      if (!col) {
        T* fresh = scratch(ck * cols);
        im2col_2d(g, x, fresh);
        col = fresh;
      }
      // dw_g [coutg, ckg] (+)= dyc_g [coutg, cols] @ col_g^T; k = cols = 0 gives beta * dw.
      Gemm::gemm_strided_batched(false, true, coutg, ckg, cols, T(1), dyc, cols, coutg * cols, col,
                                 cols, ckg * cols, T(dw_acc ? 1 : 0), dw, ckg, coutg * ckg, groups);
    }
    if (dx) {
      // dcol_g [ckg, cols] = W_g^T @ dyc_g, then gathered back onto the image.
      T* dcol = scratch(ck * cols);
      Gemm::gemm_strided_batched(true, false, ckg, cols, coutg, T(1), w, ckg, coutg * ckg, dyc,
                                 cols, coutg * cols, T(0), dcol, cols, ckg * cols, groups);
      col2im_2d(g, dcol, dx, dx_acc);
    }
  }

 private:
  // A plan made by another backend (a CPU Winograd variant) cannot run here.
  static void check_plan(const Conv2dPlan& plan, const char* what) {
    if (plan.variant != 0)
      throw UnsupportedError(std::string(what) + ": plan variant " + std::to_string(plan.variant) +
                             " (a CPU Winograd plan) cannot run on CUDA; plan with "
                             "Kernels<Cuda>::conv2d_plan");
  }
};

}  // namespace mimic::cuda
