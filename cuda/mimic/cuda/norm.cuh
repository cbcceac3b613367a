#pragma once
// Kernels<Cuda>'s norm family (backend/contract.hpp), with the semantics of
// backend/cpu/norm.hpp: group, layer and batch norm forward and backward, batch statistics and
// running-statistics updates.
//
// Statistics (means, variances, the sums of the backward pass) are accumulated in double, two
// passes (mean, then squared deviations) as on the CPU, so float inputs with a large mean keep
// their precision. Every reduction is one thread block per group / row / channel (or per tile
// of 32 columns), summing in a fixed order that depends only on the sizes and kNormThreads:
// results are deterministic run to run, and there are no atomics. The order differs from the
// CPU's 8-lane sums, so results agree with the CPU to double rounding, then float rounding
// (not bit for bit).
//
// Napkin math (float, H100 ~3 TB/s, ~60 TFLOP/s fp64): every kernel here is memory bound.
// Forward norms read x twice for the statistics (the second read mostly from L2 when a group
// fits, else DRAM) and x once more plus write y: ~12-16 bytes per element for ~8 FLOPs, so
// ~1 ns per 256 elements. fp64 adds (2-4 per element) stay far below the fp64 peak. Backward
// reads x and dy twice and writes dx: ~20 bytes per element.
#include <cuda_runtime.h>

#include <cstdint>

#include "mimic/backend/contract.hpp"
#include "mimic/cuda/memory.cuh"
#include "mimic/cuda/reduce.cuh"

namespace mimic::cuda {

// Threads per block of every per-group / per-row / per-channel reduction (8 warps).
inline constexpr int kNormThreads = 256;
// Most blocks launched for a loop over rows; each block loops over rows r = blockIdx.x, +gridDim.
inline unsigned norm_grid(int64_t rows) {
  return static_cast<unsigned>(rows < 1 ? 1 : (rows > 65535 ? 65535 : rows));
}

// i / d and i % d, in 32-bit arithmetic when both fit (64-bit division is ~4x the instructions
// on the GPU and this sits in the per-element loops).
__device__ __forceinline__ int64_t norm_div(int64_t i, int64_t d) {
  if (((i | d) >> 32) == 0) return int64_t(uint32_t(i) / uint32_t(d));
  return i / d;
}

// a * b rounded on its own: never fused with a following add into an FMA, as the CPU (built
// without FMA contraction) rounds it. Used where a sum cancels: y = x scale + shift with
// shift ~ -mu scale and a tiny variance (fusing would move y by an ulp of x scale, far more
// than an ulp of y), and dx = rs (dy gm - mean(dy gm) - ...), exactly 0 on the CPU for a
// one-element group but an FMA residual on the GPU if fused.
__device__ __forceinline__ float norm_mul(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double norm_mul(double a, double b) { return __dmul_rn(a, b); }

// Sums a and b over the block of kNormThreads threads with one block_reduce_256 (reduce.cuh:
// a fixed order, every thread returns with the totals). Must be reached by every thread of the
// block (callers keep loop bounds uniform across the block).
__device__ __forceinline__ void norm_block_sum2(double& a, double& b) {
  static_assert(kNormThreads == kReduceThreads, "the norm kernels reduce over 256-thread blocks");
  __shared__ DoublePair warp_vals[kReduceWarps];
  const DoublePair total = block_reduce_256(DoublePair{a, b}, SumOp{}, warp_vals);
  a = total.a;
  b = total.b;
}
__device__ __forceinline__ double norm_block_sum(double a) {
  __shared__ double warp_vals[kReduceWarps];
  return block_reduce_256(a, SumOp{}, warp_vals);
}

// --- group norm ----------------------------------------------------------------------------
// Launch: norm_grid(n * groups) blocks x kNormThreads; block loops over rows r (one (n, g)
// group of m = cg * s contiguous elements). Thread t reads elements t, t + 256, ... of the row.
// Race-free: each row's mean/rstd are written by thread 0 of its block only, y elements by
// exactly one thread, and rows are disjoint between blocks.
template <class T>
__global__ void group_norm_forward_kernel(int64_t rows, int64_t groups, int64_t cg, int64_t s,
                                          const T* x, const T* gamma, const T* beta, double eps,
                                          T* y, T* mean, T* rstd) {
  const int64_t m = cg * s;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * m;
    double sum = 0;
    for (int64_t i = threadIdx.x; i < m; i += kNormThreads) sum += double(xr[i]);
    const double mu = norm_block_sum(sum) / m;
    double sq = 0;
    for (int64_t i = threadIdx.x; i < m; i += kNormThreads) {
      const double d = double(xr[i]) - mu;
      sq += d * d;
    }
    const double rs = 1.0 / sqrt(norm_block_sum(sq) / m + eps);
    if (threadIdx.x == 0) {
      mean[r] = T(mu);
      rstd[r] = T(rs);
    }
    const int64_t g = r % groups;
    T* yr = y + r * m;
    for (int64_t i = threadIdx.x; i < m; i += kNormThreads) {
      const int64_t ch = g * cg + norm_div(i, s);
      const T scale = T(rs) * (gamma ? gamma[ch] : T(1));
      const T shift = (beta ? beta[ch] : T(0)) - norm_mul(T(mu), scale);
      yr[i] = norm_mul(xr[i], scale) + shift;
    }
  }
}

// dx per group: same launch shape and ownership as the forward kernel (dx elements of a row
// written by one thread each, after the block's sums).
template <class T>
__global__ void group_norm_backward_dx_kernel(int64_t rows, int64_t groups, int64_t cg, int64_t s,
                                              const T* x, const T* gamma, const T* mean,
                                              const T* rstd, const T* dy, T* dx, bool dx_acc) {
  const int64_t m = cg * s;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t g = r % groups;
    const T* xr = x + r * m;
    const T* dyr = dy + r * m;
    const double mu = mean[r], rs = rstd[r];
    double sum_dxh = 0, sum_dxh_xc = 0;  // sum gm dy, sum gm dy (x - mu)
    for (int64_t i = threadIdx.x; i < m; i += kNormThreads) {
      const double gm = gamma ? double(gamma[g * cg + norm_div(i, s)]) : 1.0;
      const double d = double(dyr[i]) * gm;
      sum_dxh += d;
      sum_dxh_xc += d * (double(xr[i]) - mu);
    }
    norm_block_sum2(sum_dxh, sum_dxh_xc);
    const double a = sum_dxh / m, b = rs * sum_dxh_xc / m;
    T* dxr = dx + r * m;
    for (int64_t i = threadIdx.x; i < m; i += kNormThreads) {
      const double gm = gamma ? double(gamma[g * cg + norm_div(i, s)]) : 1.0;
      const double xh = (double(xr[i]) - mu) * rs;
      const T v = T(rs * (norm_mul(double(dyr[i]), gm) - a - norm_mul(xh, b)));
      dxr[i] = dx_acc ? dxr[i] + v : v;
    }
  }
}

// dgamma/dbeta per channel: norm_grid(c) blocks x kNormThreads; block loops over channels ch,
// summing its n * s elements (flat k -> sample k / s, position k % s). Thread 0 alone writes
// the channel's dgamma/dbeta.
template <class T>
__global__ void group_norm_backward_params_kernel(int64_t n, int64_t c, int64_t s, int64_t groups,
                                                  const T* x, const T* mean, const T* rstd,
                                                  const T* dy, T* dgamma, bool dgamma_acc, T* dbeta,
                                                  bool dbeta_acc) {
  const int64_t cg = c / groups, total = n * s;
  for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
    const int64_t g = ch / cg;
    double sg = 0, sb = 0;
    for (int64_t k = threadIdx.x; k < total; k += kNormThreads) {
      const int64_t b = norm_div(k, s), off = (b * c + ch) * s + (k - b * s);
      const double d = dy[off];
      sb += d;
      sg += d * (double(x[off]) - double(mean[b * groups + g])) * double(rstd[b * groups + g]);
    }
    norm_block_sum2(sg, sb);
    if (threadIdx.x == 0) {
      if (dgamma) dgamma[ch] = dgamma_acc ? dgamma[ch] + T(sg) : T(sg);
      if (dbeta) dbeta[ch] = dbeta_acc ? dbeta[ch] + T(sb) : T(sb);
    }
  }
}

// --- layer norm ----------------------------------------------------------------------------
// Launch: norm_grid(rows) blocks x kNormThreads, one block per row of m (as group norm).
template <class T>
__global__ void layer_norm_forward_kernel(int64_t rows, int64_t m, const T* x, const T* gamma,
                                          const T* beta, double eps, T* y, T* mean, T* rstd) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * m;
    double sum = 0;
    for (int64_t i = threadIdx.x; i < m; i += kNormThreads) sum += double(xr[i]);
    const double mu = norm_block_sum(sum) / m;
    double sq = 0;
    for (int64_t i = threadIdx.x; i < m; i += kNormThreads) {
      const double d = double(xr[i]) - mu;
      sq += d * d;
    }
    const double rs = 1.0 / sqrt(norm_block_sum(sq) / m + eps);
    if (threadIdx.x == 0) {
      mean[r] = T(mu);
      rstd[r] = T(rs);
    }
    T* yr = y + r * m;
    for (int64_t i = threadIdx.x; i < m; i += kNormThreads) {
      const T xh = T((double(xr[i]) - mu) * rs);
      yr[i] = norm_mul(xh, gamma ? gamma[i] : T(1)) + (beta ? beta[i] : T(0));
    }
  }
}

template <class T>
__global__ void layer_norm_backward_dx_kernel(int64_t rows, int64_t m, const T* x, const T* gamma,
                                              const T* mean, const T* rstd, const T* dy, T* dx,
                                              bool dx_acc) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * m;
    const T* dyr = dy + r * m;
    const double mu = mean[r], rs = rstd[r];
    double sum_dxh = 0, sum_dxh_xh = 0;
    for (int64_t i = threadIdx.x; i < m; i += kNormThreads) {
      const double dxh = double(dyr[i]) * (gamma ? double(gamma[i]) : 1.0);
      sum_dxh += dxh;
      sum_dxh_xh += dxh * (double(xr[i]) - mu) * rs;
    }
    norm_block_sum2(sum_dxh, sum_dxh_xh);
    const double a = sum_dxh / m, b = sum_dxh_xh / m;
    T* dxr = dx + r * m;
    for (int64_t i = threadIdx.x; i < m; i += kNormThreads) {
      const double xh = (double(xr[i]) - mu) * rs;
      const double dxh = norm_mul(double(dyr[i]), gamma ? double(gamma[i]) : 1.0);
      const T v = T(rs * (dxh - a - norm_mul(xh, b)));
      dxr[i] = dx_acc ? dxr[i] + v : v;
    }
  }
}

// dgamma/dbeta of layer norm are column sums over rows. Launch: min(ceil(m / 32), 65535)
// blocks of (32, kLnRows) threads; a block loops over tiles of 32 columns. Thread (tx, ty) sums
// rows ty, ty + kLnRows, ... of column tile * 32 + tx (a warp reads 32 consecutive floats: one
// coalesced 128-byte line per row); then thread (tx, 0) adds the kLnRows partials in order
// ty = 0, 1, ... and alone writes the column. Barriers separate the shared-memory writes from
// the reads and the reads from the next tile's writes. Deterministic (fixed order).
inline constexpr int kLnRows = 16;
template <class T>
__global__ void layer_norm_backward_params_kernel(int64_t rows, int64_t m, const T* x,
                                                  const T* mean, const T* rstd, const T* dy,
                                                  T* dgamma, bool dgamma_acc, T* dbeta,
                                                  bool dbeta_acc) {
  __shared__ double pg[kLnRows][33], pb[kLnRows][33];  // 33: no bank conflicts on the reads
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t tiles = (m + 31) / 32;
  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const int64_t i = tile * 32 + tx;
    double sg = 0, sb = 0;
    if (i < m)
      for (int64_t r = ty; r < rows; r += kLnRows) {
        const double dyv = dy[r * m + i];
        sg += dyv * (double(x[r * m + i]) - double(mean[r])) * double(rstd[r]);
        sb += dyv;
      }
    pg[ty][tx] = sg;
    pb[ty][tx] = sb;
    __syncthreads();
    if (ty == 0 && i < m) {
      double g = 0, b = 0;
      for (int k = 0; k < kLnRows; ++k) {
        g += pg[k][tx];
        b += pb[k][tx];
      }
      if (dgamma) dgamma[i] = dgamma_acc ? dgamma[i] + T(g) : T(g);
      if (dbeta) dbeta[i] = dbeta_acc ? dbeta[i] + T(b) : T(b);
    }
    __syncthreads();
  }
}

// --- batch norm ----------------------------------------------------------------------------
// Per-channel statistics: norm_grid(c) blocks x kNormThreads, block loops over channels; a
// channel's n * s elements are n contiguous runs of s (flat k -> sample k / s). Thread 0 alone
// writes mean[ch], var[ch]. For s == 1 (BatchNorm1d on [N, C]) the reads are strided by c and
// use 4 of every 32 bytes fetched: correct, ~8x below bandwidth (a column kernel would fix it).
template <class T>
__global__ void batch_norm_stats_kernel(int64_t n, int64_t c, int64_t s, const T* x, T* mean,
                                        T* var) {
  const int64_t total = n * s;
  for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
    double sum = 0;
    for (int64_t k = threadIdx.x; k < total; k += kNormThreads) {
      const int64_t b = norm_div(k, s);
      sum += double(x[(b * c + ch) * s + (k - b * s)]);
    }
    const double mu = norm_block_sum(sum) / double(total);
    double sq = 0;
    for (int64_t k = threadIdx.x; k < total; k += kNormThreads) {
      const int64_t b = norm_div(k, s);
      const double d = double(x[(b * c + ch) * s + (k - b * s)]) - mu;
      sq += d * d;
    }
    sq = norm_block_sum(sq);
    if (threadIdx.x == 0) {
      mean[ch] = T(mu);
      var[ch] = T(sq / double(total));
    }
  }
}

// Per-channel elementwise (grid-stride, one thread per channel; each channel's entries are
// read and written by that thread only). Same double arithmetic as the CPU.
template <class T>
__global__ void batch_norm_update_kernel(int64_t c, double unbias, double momentum, double eps,
                                         const T* mean, T* var_to_rstd, T* running_mean,
                                         T* running_var) {
  for (int64_t ch = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; ch < c;
       ch += int64_t(gridDim.x) * blockDim.x) {
    const double v = var_to_rstd[ch];
    if (running_mean) running_mean[ch] = T((1 - momentum) * running_mean[ch] + momentum * mean[ch]);
    if (running_var) running_var[ch] = T((1 - momentum) * running_var[ch] + momentum * v * unbias);
    var_to_rstd[ch] = T(1.0 / sqrt(v + eps));
  }
}
template <class T>
__global__ void batch_norm_eval_rstd_kernel(int64_t c, double eps, const T* running_var, T* rstd) {
  for (int64_t ch = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; ch < c;
       ch += int64_t(gridDim.x) * blockDim.x)
    rstd[ch] = T(1.0 / sqrt(double(running_var[ch]) + eps));
}

// y = x scale[ch] + shift[ch]: grid-stride over the n * c * s elements, one thread per element
// (channel (i / s) % c). ~8 bytes per element, 2 FLOPs: pure bandwidth.
template <class T>
__global__ void batch_norm_apply_kernel(int64_t total, int64_t c, int64_t s, const T* x,
                                        const T* mean, const T* rstd, const T* gamma, const T* beta,
                                        T* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = norm_div(i, s), ch = r - norm_div(r, c) * c;
    const T scale = rstd[ch] * (gamma ? gamma[ch] : T(1));
    const T shift = (beta ? beta[ch] : T(0)) - norm_mul(mean[ch], scale);
    y[i] = norm_mul(x[i], scale) + shift;
  }
}

// Backward per channel: launch as batch_norm_stats. The block sums dy and dy (x - mu) over its
// channel, thread 0 writes dgamma/dbeta, then every thread writes its own dx elements (each
// element of the channel by exactly one thread).
template <class T>
__global__ void batch_norm_backward_kernel(int64_t n, int64_t c, int64_t s, bool batch_stats,
                                           const T* x, const T* gamma, const T* mean, const T* rstd,
                                           const T* dy, T* dx, bool dx_acc, T* dgamma,
                                           bool dgamma_acc, T* dbeta, bool dbeta_acc) {
  const int64_t total = n * s;
  for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
    const double mu = mean[ch], rs = rstd[ch];
    double sum_dy = 0, sum_dy_dx = 0;
    for (int64_t k = threadIdx.x; k < total; k += kNormThreads) {
      const int64_t b = norm_div(k, s), off = (b * c + ch) * s + (k - b * s);
      const double d = dy[off];
      sum_dy += d;
      sum_dy_dx += d * (double(x[off]) - mu);
    }
    norm_block_sum2(sum_dy, sum_dy_dx);
    const double sum_dy_xh = sum_dy_dx * rs;
    if (threadIdx.x == 0) {
      if (dgamma) dgamma[ch] = T((dgamma_acc ? double(dgamma[ch]) : 0.0) + sum_dy_xh);
      if (dbeta) dbeta[ch] = T((dbeta_acc ? double(dbeta[ch]) : 0.0) + sum_dy);
    }
    if (!dx) continue;  // uniform across the block
    const double mcount = double(total), k = (gamma ? double(gamma[ch]) : 1.0) * rs;
    const T scale = T(k), mean_dy = batch_stats ? T(sum_dy / mcount) : T(0);
    const T slope = batch_stats ? T(rs * sum_dy_xh / mcount) : T(0), mu_t = T(mu);
    for (int64_t q = threadIdx.x; q < total; q += kNormThreads) {
      const int64_t b = norm_div(q, s), off = (b * c + ch) * s + (q - b * s);
      const T v = norm_mul(scale, dy[off] - mean_dy - norm_mul(x[off] - mu_t, slope));
      dx[off] = dx_acc ? dx[off] + v : v;
    }
  }
}

struct Norm {
  static constexpr KernelOp kOps[] = {
      KernelOp::group_norm_forward,   KernelOp::group_norm_backward, KernelOp::layer_norm_forward,
      KernelOp::layer_norm_backward,  KernelOp::batch_norm_stats,    KernelOp::batch_norm_update,
      KernelOp::batch_norm_eval_rstd, KernelOp::batch_norm_apply,    KernelOp::batch_norm_backward};
  static constexpr bool provides(KernelOp op) { return kernel_table_contains(kOps, op); }

  template <class T>
  static void group_norm_forward(int64_t n, int64_t c, int64_t s, int64_t groups, const T* x,
                                 const T* gamma, const T* beta, double eps, T* y, T* mean,
                                 T* rstd) {
    const int64_t rows = n * groups;
    if (rows <= 0) return;
    group_norm_forward_kernel<<<norm_grid(rows), kNormThreads, 0, current_stream()>>>(
        rows, groups, c / groups, s, x, gamma, beta, eps, y, mean, rstd);
    check_launch("group_norm_forward");
  }

  template <class T>
  static void group_norm_backward(int64_t n, int64_t c, int64_t s, int64_t groups, const T* x,
                                  const T* gamma, const T* mean, const T* rstd, const T* dy, T* dx,
                                  bool dx_acc, T* dgamma, bool dgamma_acc, T* dbeta,
                                  bool dbeta_acc) {
    const int64_t rows = n * groups;
    if (dx && rows > 0) {
      group_norm_backward_dx_kernel<<<norm_grid(rows), kNormThreads, 0, current_stream()>>>(
          rows, groups, c / groups, s, x, gamma, mean, rstd, dy, dx, dx_acc);
      check_launch("group_norm_backward (dx)");
    }
    if ((dgamma || dbeta) && c > 0) {
      group_norm_backward_params_kernel<<<norm_grid(c), kNormThreads, 0, current_stream()>>>(
          n, c, s, groups, x, mean, rstd, dy, dgamma, dgamma_acc, dbeta, dbeta_acc);
      check_launch("group_norm_backward (dgamma, dbeta)");
    }
  }

  template <class T>
  static void layer_norm_forward(int64_t rows, int64_t m, const T* x, const T* gamma, const T* beta,
                                 double eps, T* y, T* mean, T* rstd) {
    if (rows <= 0) return;
    layer_norm_forward_kernel<<<norm_grid(rows), kNormThreads, 0, current_stream()>>>(
        rows, m, x, gamma, beta, eps, y, mean, rstd);
    check_launch("layer_norm_forward");
  }

  template <class T>
  static void layer_norm_backward(int64_t rows, int64_t m, const T* x, const T* gamma,
                                  const T* mean, const T* rstd, const T* dy, T* dx, bool dx_acc,
                                  T* dgamma, bool dgamma_acc, T* dbeta, bool dbeta_acc) {
    if (dx && rows > 0) {
      layer_norm_backward_dx_kernel<<<norm_grid(rows), kNormThreads, 0, current_stream()>>>(
          rows, m, x, gamma, mean, rstd, dy, dx, dx_acc);
      check_launch("layer_norm_backward (dx)");
    }
    if ((dgamma || dbeta) && m > 0) {
      layer_norm_backward_params_kernel<<<norm_grid((m + 31) / 32), dim3(32, kLnRows), 0,
                                          current_stream()>>>(rows, m, x, mean, rstd, dy, dgamma,
                                                              dgamma_acc, dbeta, dbeta_acc);
      check_launch("layer_norm_backward (dgamma, dbeta)");
    }
  }

  template <class T>
  static void batch_norm_stats(int64_t n, int64_t c, int64_t s, const T* x, T* mean, T* var) {
    if (c <= 0) return;
    batch_norm_stats_kernel<<<norm_grid(c), kNormThreads, 0, current_stream()>>>(n, c, s, x, mean,
                                                                                 var);
    check_launch("batch_norm_stats");
  }

  template <class T>
  static void batch_norm_update(int64_t c, int64_t count, double momentum, double eps,
                                const T* mean, T* var_to_rstd, T* running_mean, T* running_var) {
    if (c <= 0) return;
    const double unbias = count > 1 ? double(count) / double(count - 1) : 1.0;
    batch_norm_update_kernel<<<grid_for(c), 256, 0, current_stream()>>>(
        c, unbias, momentum, eps, mean, var_to_rstd, running_mean, running_var);
    check_launch("batch_norm_update");
  }

  template <class T>
  static void batch_norm_eval_rstd(int64_t c, double eps, const T* running_var, T* rstd) {
    if (c <= 0) return;
    batch_norm_eval_rstd_kernel<<<grid_for(c), 256, 0, current_stream()>>>(c, eps, running_var,
                                                                           rstd);
    check_launch("batch_norm_eval_rstd");
  }

  template <class T>
  static void batch_norm_apply(int64_t n, int64_t c, int64_t s, const T* x, const T* mean,
                               const T* rstd, const T* gamma, const T* beta, T* y) {
    const int64_t total = n * c * s;
    if (total <= 0) return;
    batch_norm_apply_kernel<<<grid_for(total), 256, 0, current_stream()>>>(total, c, s, x, mean,
                                                                           rstd, gamma, beta, y);
    check_launch("batch_norm_apply");
  }

  template <class T>
  static void batch_norm_backward(int64_t n, int64_t c, int64_t s, bool batch_stats, const T* x,
                                  const T* gamma, const T* mean, const T* rstd, const T* dy, T* dx,
                                  bool dx_acc, T* dgamma, bool dgamma_acc, T* dbeta,
                                  bool dbeta_acc) {
    if (c <= 0) return;
    batch_norm_backward_kernel<<<norm_grid(c), kNormThreads, 0, current_stream()>>>(
        n, c, s, batch_stats, x, gamma, mean, rstd, dy, dx, dx_acc, dgamma, dgamma_acc, dbeta,
        dbeta_acc);
    check_launch("batch_norm_backward");
  }
};

}  // namespace mimic::cuda
