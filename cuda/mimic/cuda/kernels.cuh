#pragma once
// Kernels<Cuda>: the CUDA backend, one mixin per family, mirroring Kernels<Cpu>. It provides the
// ops in kSupported (backend/contract.hpp); tests/gpu checks the list against the members.
#include "mimic/backend/kernels.hpp"
#include "mimic/core/device.hpp"
#include "mimic/cuda/elementwise.cuh"
#include "mimic/cuda/gemm.cuh"
#include "mimic/cuda/memory.cuh"

namespace mimic {

template <>
struct Kernels<Cuda> : cuda::Memory, cuda::Gemm, cuda::Elementwise {
  static constexpr KernelOp kSupported[] = {
      KernelOp::allocate,   KernelOp::deallocate, KernelOp::copy_bytes,
      KernelOp::zero_bytes, KernelOp::fill,       KernelOp::to_host,
      KernelOp::from_host,  KernelOp::gemm,       KernelOp::gemm_strided_batched,
      KernelOp::map,        KernelOp::generate,   KernelOp::broadcast_map,
      KernelOp::sum_to};
  static constexpr bool supports(KernelOp op) { return kernel_table_contains(kSupported, op); }
};

}  // namespace mimic
