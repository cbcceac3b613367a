#pragma once
// The kernel contract: every function that code above backend/ (ops, optim, nn, diffusion,
// policy, data) calls on Kernels<D>, with its shapes and layouts. Ops are written once against
// this list; a backend specializes Kernels<D> with static member functions of these names and
// says which it provides in `static constexpr bool supports(KernelOp)`. backend/probe.hpp
// checks at compile time that a backend's table matches its members.
//
// Conventions for every function below:
// - Pointers are device memory of the backend; tensors are dense and row-major ("x [N, C, L]":
//   element (n, c, l) at x[(n * C + c) * L + l]) unless strides are given. T is float or double.
// - An output "(+)=" is overwritten, or added to when its `accumulate` / `*_acc` flag is set;
//   an overwritten output may hold garbage on entry. "Nullable" pointers may be nullptr: an
//   input then reads as stated, an output is not computed.
// - Outputs do not alias inputs unless stated. Results are deterministic for a thread count:
//   reductions run in a fixed order.
// - Strides (core/shape.hpp) count elements; a stride of 0 repeats (broadcasts) a dimension.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mimic {

enum class KernelOp : uint8_t {
  // --- memory (also core's DeviceMemory<D>, core/device_memory.hpp) ------------------------
  allocate,  // void* allocate(size_t bytes): >= 64-byte aligned, bytes may be 0; throws on failure
  deallocate,  // deallocate(void* p): frees what allocate returned; never throws
  copy_bytes,  // copy_bytes(void* dst, const void* src, size_t bytes): device to device
  zero_bytes,  // zero_bytes(void* dst, size_t bytes)
  fill,        // fill(T* dst, int64_t n, T value): dst[0, n) = value
  to_host,     // to_host(void* host_dst, const void* src, size_t bytes)
  from_host,   // from_host(void* dst, const void* host_src, size_t bytes)

  // --- GEMM ----------------------------------------------------------------------------------
  // gemm(bool ta, bool tb, m, n, k, T alpha, const T* a, lda, const T* b, ldb, T beta, T* c, ldc):
  // C[M, N] = alpha op(A) op(B) + beta C, all row-major with row strides lda/ldb/ldc; A is
  // [M, K] ([K, M] when ta), B is [K, N] ([N, K] when tb). beta == 0 never reads C.
  gemm,
  // gemm_strided_batched(ta, tb, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c,
  // ldc, stride_c, int64_t batch): `batch` gemms, matrix i at a + i stride_a (b, c alike);
  // stride_a == 0 shares one A. The C matrices must not overlap.
  gemm_strided_batched,

  // --- elementwise (F: MIMIC_HD functors of ops/functors.hpp, callable on host and device) ---
  map,       // map(int64_t n, F f, T* out, const U* a, ...): out[i] = f(a[i], ...), 1 to 4 inputs;
             // out may alias an input (in-place updates and accumulation)
  generate,  // generate(int64_t n, F f, T* out): out[i] = f(i) (random streams, index patterns)
  // broadcast_map(const Shape& s, F f, T* out, const T* a, const Strides& sa[, const T* b,
  // const Strides& sb]): out (contiguous, shape s) = f(a[.], b[.]) with a and b read through
  // their strides over s; out may alias an input read with contiguous strides.
  broadcast_map,
  // sum_to(const Shape& s, const T* in, const Strides& so, T* out, int64_t out_n, bool acc):
  // out (+)= in (contiguous, shape s) summed over the dims where so is 0; out has out_n
  // elements, element idx of s lands at offset(idx; so).
  sum_to,

  // --- strided copies ------------------------------------------------------------------------
  // scatter_strided(const Shape& s, T* dst, const Strides& ds, const T* src, bool acc):
  // dst[offset(idx; ds)] (+)= src[i], src contiguous of shape s, destinations distinct.
  scatter_strided,
  // gather(const Shape& s, int axis, const T* x, const Strides& xs, const int64_t* index, T* out):
  // out[idx] = x[idx with idx[axis] = index[idx]] (torch.gather); out, index contiguous of s.
  gather,
  // gather_backward(s, axis, T* gx, const Strides& xs, const int64_t* index, const T* g):
  // gx[...] += g[idx] at the positions gather read (repeated indices add up).
  gather_backward,

  // --- softmax family: x viewed as [outer, n, inner], reduced along n ------------------------
  softmax_forward,     // (outer, n, inner, const T* x, T* y, bool log): y = (log_)softmax(x)
  softmax_backward,    // (outer, n, inner, const T* y, const T* gy, T* gx, bool log, bool acc):
                       // gx (+)= y (gy - sum gy y); log: gy - exp(y) sum gy
  logsumexp_forward,   // (outer, n, inner, const T* x, T* y): y [outer, inner] = log sum exp x
  logsumexp_backward,  // (outer, n, inner, const T* x, const T* y, const T* gy, T* gx, bool acc):
                       // gx (+)= gy exp(x - y), y and gy [outer, inner]

  // --- convolution ---------------------------------------------------------------------------
  // im2col_1d(const Conv1dGeometry& g, const T* x, T* col): x [N, C, L] ->
  // col[C*K, N*Lo], col[c*K + k, n*Lo + lo] = x[n, c, lo*stride - padding + k*dilation] or 0.
  im2col_1d,
  // col2im_1d(g, const T* col, T* x, bool acc): the adjoint, x [N, C, L] (+)= taps of col.
  col2im_1d,
  // Conv2dPlan conv2d_plan(const Conv2dGeometry& g, int64_t cout, int64_t groups,
  // Conv2dAlgorithm requested): chooses the algorithm (host only, no device work); throws
  // ValueError when a forced algorithm cannot run on g. The plan says how many elements the
  // `saved` buffer of the two calls below holds.
  conv2d_plan,
  // conv2d_forward(g, cout, groups, plan, const T* x, const T* w, const T* bias, T* y, T* saved,
  // Scratch&& scratch): x [N, C, H, W], w [Cout, C/groups, KH, KW], bias [Cout] (nullable),
  // y [N, Cout, Ho, Wo] = conv (PyTorch semantics) + bias, overwritten. saved
  // (plan.saved_numel elements) is written with what conv2d_backward may reuse. scratch(n)
  // returns n elements of T valid until the call returns (the op's scratch arena).
  conv2d_forward,
  // conv2d_backward(g, cout, groups, plan, x, w, const T* dy, const T* saved, T* dx, bool dx_acc,
  // T* dw, bool dw_acc, Scratch&& scratch): the data gradient dx [N, C, H, W] (+)= and the weight
  // gradient dw [Cout, C/groups, KH, KW] (+)= from dy [N, Cout, Ho, Wo]; dx, dw nullable (not
  // wanted). saved is conv2d_forward's buffer or nullptr (then recomputed from x). One call for
  // both gradients, so an algorithm can share its transformed dy between them (Winograd's
  // A dy A^T, im2col's channel-major dy). The bias gradient is the op's (sum_to).
  conv2d_backward,

  // --- normalization (statistics in double; mean/rstd outputs feed the backward pass) --------
  // group_norm_forward(n, c, s, groups, const T* x, const T* gamma, const T* beta, double eps,
  // T* y, T* mean, T* rstd): x, y [N, C, S]; gamma, beta [C] nullable; mean, rstd [N, groups]
  // (biased variance, rstd = 1 / sqrt(var + eps)).
  group_norm_forward,
  // group_norm_backward(n, c, s, groups, x, gamma, mean, rstd, const T* dy, T* dx, bool dx_acc,
  // T* dgamma, bool dgamma_acc, T* dbeta, bool dbeta_acc): outputs nullable.
  group_norm_backward,
  // layer_norm_forward(rows, m, x, gamma, beta, double eps, T* y, T* mean, T* rstd): x, y
  // [rows, m] normalized per row; gamma, beta [m] nullable; mean, rstd [rows].
  layer_norm_forward,
  // layer_norm_backward(rows, m, x, gamma, mean, rstd, dy, dx, dx_acc, dgamma, dgamma_acc,
  // dbeta, dbeta_acc): outputs nullable.
  layer_norm_backward,
  // batch_norm_stats(n, c, s, const T* x, T* mean, T* var): x [N, C, S]; per-channel mean and
  // biased variance [C].
  batch_norm_stats,
  // batch_norm_update(c, int64_t count, double momentum, double eps, const T* mean,
  // T* var_to_rstd, T* running_mean, T* running_var): running stats (nullable) move toward the
  // batch (unbiased variance, as PyTorch); var_to_rstd [C] is overwritten in place with rstd.
  batch_norm_update,
  // batch_norm_eval_rstd(c, double eps, const T* running_var, T* rstd): rstd = 1/sqrt(var + eps).
  batch_norm_eval_rstd,
  // batch_norm_apply(n, c, s, x, mean, rstd, gamma, beta, T* y): y = (x - mean) rstd gamma +
  // beta per channel; gamma, beta nullable.
  batch_norm_apply,
  // batch_norm_backward(n, c, s, bool batch_stats, x, gamma, mean, rstd, dy, dx, dx_acc, dgamma,
  // dgamma_acc, dbeta, dbeta_acc): batch_stats: through the batch statistics (training), else
  // with fixed statistics; outputs nullable.
  batch_norm_backward,

  // --- optimizers: one fused pass over n contiguous parameters -------------------------------
  adam_step,    // (n, T* p, const T* g, T* m, T* v, const AdamHyper& h): Adam / AdamW step
  sgd_step,     // (n, T* p, const T* g, T* buf, double lr, double momentum, double wd, bool first)
  ema_update,   // (n, T* ema, const T* p, double decay): ema = decay ema + (1 - decay) p
  sum_squares,  // double sum_squares(n, const T* x): sum x^2 in double, to the host
  scale,        // (n, T* x, double s): x *= s

  // --- recurrent -----------------------------------------------------------------------------
  // lstm_cell_forward(batch, hidden, T* gates, const T* c_prev, T* c, T* tanh_c, T* h): gates
  // [B, 4H] (i, f, g, o pre-activations, overwritten with activations); c_prev [B, H] nullable
  // (zeros); c, tanh_c, h [B, H]: c = f c_prev + i g, h = o tanh(c).
  lstm_cell_forward,
  // lstm_cell_backward(batch, hidden, gates, c_prev, tanh_c, const T* dh_out, int64_t ld_dh_out,
  // const T* dh_rec, T* dc, T* dgates): dh_out [B, H] with row stride ld_dh_out; dh_rec [B, H]
  // nullable; dc holds dL/dc on entry and dL/dc_prev on return; dgates [B, 4H] overwritten.
  lstm_cell_backward,

  // --- spatial windows on [N, C, H, W] planes ------------------------------------------------
  // max_pool2d_forward(const Conv2dGeometry& g, const T* x, T* y, int32_t* argmax): y [N, C, Ho,
  // Wo] window maxima (first maximum wins, NaN propagates; an all-padding window gives -inf);
  // argmax (nullable) the index within the input plane, -1 for an all-padding window.
  max_pool2d_forward,
  // max_pool2d_backward_indexed(g, const int32_t* argmax, const T* dy, T* dx, bool acc):
  // dx (+)= dy scattered to argmax (entries -1 skipped).
  max_pool2d_backward_indexed,
  // adaptive_avg_pool2d_forward(planes, h, w, ho, wo, const T* x, T* y): x [P, H, W] -> y
  // [P, Ho, Wo], bin i covering [floor(i H / Ho), ceil((i + 1) H / Ho)) (PyTorch).
  adaptive_avg_pool2d_forward,
  adaptive_avg_pool2d_backward,  // (planes, h, w, ho, wo, const T* dy, T* dx, bool acc)
  // crop2d_forward(n, c, h, w, ch, cw, crops, const int64_t* offsets, const T* x, T* y): x
  // [N, C, H, W] -> y [N * crops, C, ch, cw]; crop o = n * crops + k has its top-left corner at
  // (offsets[2o], offsets[2o + 1]); offsets [2 N crops] is device memory, like x.
  crop2d_forward,
  // crop2d_backward(n, c, h, w, ch, cw, crops, offsets, const T* dy, T* dx, bool acc):
  // dx (+)= every crop of dy added back at its offset.
  crop2d_backward,

  count
};

inline constexpr std::string_view kKernelOpNames[] = {
    "allocate",
    "deallocate",
    "copy_bytes",
    "zero_bytes",
    "fill",
    "to_host",
    "from_host",
    "gemm",
    "gemm_strided_batched",
    "map",
    "generate",
    "broadcast_map",
    "sum_to",
    "scatter_strided",
    "gather",
    "gather_backward",
    "softmax_forward",
    "softmax_backward",
    "logsumexp_forward",
    "logsumexp_backward",
    "im2col_1d",
    "col2im_1d",
    "conv2d_plan",
    "conv2d_forward",
    "conv2d_backward",
    "group_norm_forward",
    "group_norm_backward",
    "layer_norm_forward",
    "layer_norm_backward",
    "batch_norm_stats",
    "batch_norm_update",
    "batch_norm_eval_rstd",
    "batch_norm_apply",
    "batch_norm_backward",
    "adam_step",
    "sgd_step",
    "ema_update",
    "sum_squares",
    "scale",
    "lstm_cell_forward",
    "lstm_cell_backward",
    "max_pool2d_forward",
    "max_pool2d_backward_indexed",
    "adaptive_avg_pool2d_forward",
    "adaptive_avg_pool2d_backward",
    "crop2d_forward",
    "crop2d_backward",
};

inline constexpr size_t kKernelOpCount = size_t(KernelOp::count);
static_assert(std::size(kKernelOpNames) == kKernelOpCount,
              "KernelOp and kKernelOpNames are out of step: add the name of every new op");

constexpr std::string_view kernel_op_name(KernelOp op) {
  return size_t(op) < kKernelOpCount ? kKernelOpNames[size_t(op)] : std::string_view("?");
}
constexpr KernelOp kernel_op(size_t i) { return static_cast<KernelOp>(i); }

// True when no two ops share a name (a copy-pasted entry would make two lines look alike).
constexpr bool kernel_op_names_unique() {
  for (size_t i = 0; i < kKernelOpCount; ++i)
    for (size_t j = i + 1; j < kKernelOpCount; ++j)
      if (kKernelOpNames[i] == kKernelOpNames[j]) return false;
  return true;
}
static_assert(kernel_op_names_unique(), "two kernel ops share a name");

// A backend's supports table as a list: true when `op` is in it.
template <size_t N>
constexpr bool kernel_table_contains(const KernelOp (&table)[N], KernelOp op) {
  for (KernelOp t : table)
    if (t == op) return true;
  return false;
}

}  // namespace mimic
