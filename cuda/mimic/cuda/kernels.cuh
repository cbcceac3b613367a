#pragma once
// Kernels<Cuda>: the CUDA backend, one mixin per family, mirroring Kernels<Cpu>. Each mixin lists
// the contract ops it provides (`provides`, backend/contract.hpp); the supports table is their
// union, and tests/gpu checks it against the members (backend/probe.hpp).
#include "mimic/backend/kernels.hpp"
#include "mimic/core/device.hpp"
#include "mimic/cuda/conv.cuh"
#include "mimic/cuda/copy.cuh"
#include "mimic/cuda/elementwise.cuh"
#include "mimic/cuda/gemm.cuh"
#include "mimic/cuda/memory.cuh"
#include "mimic/cuda/norm.cuh"
#include "mimic/cuda/optim.cuh"
#include "mimic/cuda/queue.cuh"
#include "mimic/cuda/recurrent.cuh"
#include "mimic/cuda/softmax.cuh"
#include "mimic/cuda/spatial.cuh"

namespace mimic {

template <>
struct Kernels<Cuda> : cuda::Memory,
                       cuda::Gemm,
                       cuda::Elementwise,
                       cuda::Copy,
                       cuda::Softmax,
                       cuda::Conv,
                       cuda::Norm,
                       cuda::Optim,
                       cuda::Recurrent,
                       cuda::Spatial {
  static constexpr KernelOp kCore[] = {
      KernelOp::allocate,   KernelOp::deallocate, KernelOp::copy_bytes,
      KernelOp::zero_bytes, KernelOp::fill,       KernelOp::to_host,
      KernelOp::from_host,  KernelOp::gemm,       KernelOp::gemm_strided_batched,
      KernelOp::map,        KernelOp::generate,   KernelOp::broadcast_map,
      KernelOp::sum_to};
  static constexpr bool supports(KernelOp op) {
    return kernel_table_contains(kCore, op) || cuda::Copy::provides(op) ||
           cuda::Softmax::provides(op) || cuda::Conv::provides(op) || cuda::Norm::provides(op) ||
           cuda::Optim::provides(op) || cuda::Recurrent::provides(op) ||
           cuda::Spatial::provides(op);
  }
};

}  // namespace mimic
