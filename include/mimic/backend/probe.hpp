#pragma once
// Compile-time checks that a backend's supports table tells the truth. kernel_probe<K>(op) asks,
// with one requires-expression per op of backend/contract.hpp, whether K has a static member of
// that name callable as the contract says (with T = float); nothing is instantiated beyond
// overload resolution. A backend (or its test) writes
//   static_assert(kernel_table_mismatch<Kernels<MyDevice>>() == kKernelOpCount);
// and the compiler's note on a failure gives the index of the first op that disagrees.
#include <concepts>
#include <cstddef>
#include <cstdint>

#include "mimic/backend/contract.hpp"
#include "mimic/backend/kernel_types.hpp"
#include "mimic/core/conv_geometry.hpp"
#include "mimic/core/hd.hpp"
#include "mimic/core/shape.hpp"

namespace mimic {
namespace detail {

// Stand-ins for the functors and scratch allocators ops pass; only their types matter.
struct ProbeFn {
  template <class... A>
  MIMIC_HD float operator()(A...) const {
    return 0.f;
  }
};
struct ProbeScratch {
  float* operator()(int64_t) const { return nullptr; }
};

}  // namespace detail

// The arguments every probe may use: p/c a mutable/const float pointer, n a size, f a flag,
// d a double, vp/cvp raw device pointers, bytes a byte count.
#define MIMIC_KERNEL_PROBE(...)                                                               \
  requires(float* p, const float* c, int64_t n, bool f, double d, size_t bytes, void* vp,     \
           const void* cvp, const Shape& s, const Strides& st, const Conv1dGeometry& g1,      \
           const Conv2dGeometry& g2, const Conv2dPlan& plan, int32_t* ai, const int32_t* cai, \
           const int64_t* idx, const AdamHyper& h, detail::ProbeFn fn,                        \
           detail::ProbeScratch scratch) {                                                    \
    __VA_ARGS__;                                                                              \
  }

// One case of kernel_probe: also checks that the name table says #op at op's index.
#define MIMIC_KERNEL_CASE(op, ...)                                        \
  case KernelOp::op:                                                      \
    static_assert(kKernelOpNames[size_t(KernelOp::op)] == #op,            \
                  "kKernelOpNames is out of step with KernelOp at " #op); \
    return MIMIC_KERNEL_PROBE(__VA_ARGS__);

// 1 when K provides op, 0 when it does not, -1 when op has no probe here (keep this switch in
// step with KernelOp; kernel_probes_complete checks it).
template <class K>
constexpr int kernel_probe(KernelOp op) {
  switch (op) {
    MIMIC_KERNEL_CASE(allocate, { K::allocate(bytes) } -> std::same_as<void*>)
    MIMIC_KERNEL_CASE(deallocate, K::deallocate(vp))
    MIMIC_KERNEL_CASE(copy_bytes, K::copy_bytes(vp, cvp, bytes))
    MIMIC_KERNEL_CASE(zero_bytes, K::zero_bytes(vp, bytes))
    MIMIC_KERNEL_CASE(fill, K::fill(p, n, 1.f))
    MIMIC_KERNEL_CASE(to_host, K::to_host(vp, cvp, bytes))
    MIMIC_KERNEL_CASE(from_host, K::from_host(vp, cvp, bytes))
    MIMIC_KERNEL_CASE(gemm, K::gemm(f, f, n, n, n, 1.f, c, n, c, n, 0.f, p, n))
    MIMIC_KERNEL_CASE(gemm_strided_batched, K::gemm_strided_batched(f, f, n, n, n, 1.f, c, n, n, c,
                                                                    n, n, 0.f, p, n, n, n))
    MIMIC_KERNEL_CASE(map, K::map(n, fn, p, c); K::map(n, fn, p, c, c))
    MIMIC_KERNEL_CASE(generate, K::generate(n, fn, p))
    MIMIC_KERNEL_CASE(broadcast_map, K::broadcast_map(s, fn, p, c, st);
                      K::broadcast_map(s, fn, p, c, st, c, st))
    MIMIC_KERNEL_CASE(sum_to, K::sum_to(s, c, st, p, n, f))
    MIMIC_KERNEL_CASE(scatter_strided, K::scatter_strided(s, p, st, c, f))
    MIMIC_KERNEL_CASE(gather, K::gather(s, 0, c, st, idx, p))
    MIMIC_KERNEL_CASE(gather_backward, K::gather_backward(s, 0, p, st, idx, c))
    MIMIC_KERNEL_CASE(softmax_forward, K::softmax_forward(n, n, n, c, p, f))
    MIMIC_KERNEL_CASE(softmax_backward, K::softmax_backward(n, n, n, c, c, p, f, f))
    MIMIC_KERNEL_CASE(logsumexp_forward, K::logsumexp_forward(n, n, n, c, p))
    MIMIC_KERNEL_CASE(logsumexp_backward, K::logsumexp_backward(n, n, n, c, c, c, p, f))
    MIMIC_KERNEL_CASE(im2col_1d, K::im2col_1d(g1, c, p))
    MIMIC_KERNEL_CASE(col2im_1d, K::col2im_1d(g1, c, p, f))
    MIMIC_KERNEL_CASE(conv2d_plan, { K::conv2d_plan(g2, n, n, Conv2dAlgorithm::automatic) }
                                   -> std::same_as<Conv2dPlan>)
    MIMIC_KERNEL_CASE(conv2d_forward, K::conv2d_forward(g2, n, n, plan, c, c, c, p, p, scratch))
    MIMIC_KERNEL_CASE(conv2d_backward,
                      K::conv2d_backward(g2, n, n, plan, c, c, c, c, p, f, p, f, scratch))
    MIMIC_KERNEL_CASE(group_norm_forward, K::group_norm_forward(n, n, n, n, c, c, c, d, p, p, p))
    MIMIC_KERNEL_CASE(group_norm_backward,
                      K::group_norm_backward(n, n, n, n, c, c, c, c, c, p, f, p, f, p, f))
    MIMIC_KERNEL_CASE(layer_norm_forward, K::layer_norm_forward(n, n, c, c, c, d, p, p, p))
    MIMIC_KERNEL_CASE(layer_norm_backward,
                      K::layer_norm_backward(n, n, c, c, c, c, c, p, f, p, f, p, f))
    MIMIC_KERNEL_CASE(batch_norm_stats, K::batch_norm_stats(n, n, n, c, p, p))
    MIMIC_KERNEL_CASE(batch_norm_update, K::batch_norm_update(n, n, d, d, c, p, p, p))
    MIMIC_KERNEL_CASE(batch_norm_eval_rstd, K::batch_norm_eval_rstd(n, d, c, p))
    MIMIC_KERNEL_CASE(batch_norm_apply, K::batch_norm_apply(n, n, n, c, c, c, c, c, p))
    MIMIC_KERNEL_CASE(batch_norm_backward,
                      K::batch_norm_backward(n, n, n, f, c, c, c, c, c, p, f, p, f, p, f))
    MIMIC_KERNEL_CASE(adam_step, K::adam_step(n, p, c, p, p, h))
    MIMIC_KERNEL_CASE(sgd_step, K::sgd_step(n, p, c, p, d, d, d, f))
    MIMIC_KERNEL_CASE(ema_update, K::ema_update(n, p, c, d))
    MIMIC_KERNEL_CASE(sum_squares, { K::sum_squares(n, c) } -> std::convertible_to<double>)
    MIMIC_KERNEL_CASE(scale, K::scale(n, p, d))
    MIMIC_KERNEL_CASE(lstm_cell_forward, K::lstm_cell_forward(n, n, p, c, p, p, p))
    MIMIC_KERNEL_CASE(lstm_cell_backward, K::lstm_cell_backward(n, n, c, c, c, c, n, c, p, p))
    MIMIC_KERNEL_CASE(max_pool2d_forward, K::max_pool2d_forward(g2, c, p, ai))
    MIMIC_KERNEL_CASE(max_pool2d_backward_indexed, K::max_pool2d_backward_indexed(g2, cai, c, p, f))
    MIMIC_KERNEL_CASE(adaptive_avg_pool2d_forward,
                      K::adaptive_avg_pool2d_forward(n, n, n, n, n, c, p))
    MIMIC_KERNEL_CASE(adaptive_avg_pool2d_backward,
                      K::adaptive_avg_pool2d_backward(n, n, n, n, n, c, p, f))
    MIMIC_KERNEL_CASE(crop2d_forward, K::crop2d_forward(n, n, n, n, n, n, n, idx, c, p))
    MIMIC_KERNEL_CASE(crop2d_backward, K::crop2d_backward(n, n, n, n, n, n, n, idx, c, p, f))
    case KernelOp::count:
      break;
  }
  return -1;
}

#undef MIMIC_KERNEL_CASE
#undef MIMIC_KERNEL_PROBE

// True when every op has a probe above (K only picks the instantiation).
template <class K>
constexpr bool kernel_probes_complete() {
  for (size_t i = 0; i < kKernelOpCount; ++i)
    if (kernel_probe<K>(kernel_op(i)) < 0) return false;
  return true;
}

// The index of the first op where K::supports disagrees with K's members, or kKernelOpCount.
template <class K>
constexpr size_t kernel_table_mismatch() {
  for (size_t i = 0; i < kKernelOpCount; ++i)
    if (K::supports(kernel_op(i)) != (kernel_probe<K>(kernel_op(i)) == 1)) return i;
  return kKernelOpCount;
}

}  // namespace mimic
