#pragma once
// Kernels<Cpu>: the CPU backend, one mixin per family of kernels. The reference backend: it
// provides every op of the contract (backend/contract.hpp).
#include "mimic/backend/cpu/conv.hpp"
#include "mimic/backend/cpu/conv2d.hpp"
#include "mimic/backend/cpu/copy.hpp"
#include "mimic/backend/cpu/elementwise.hpp"
#include "mimic/backend/cpu/gemm.hpp"
#include "mimic/backend/cpu/memory.hpp"
#include "mimic/backend/cpu/norm.hpp"
#include "mimic/backend/cpu/optim.hpp"
#include "mimic/backend/cpu/queue.hpp"
#include "mimic/backend/cpu/recurrent.hpp"
#include "mimic/backend/cpu/softmax.hpp"
#include "mimic/backend/cpu/spatial.hpp"
#include "mimic/backend/kernels.hpp"
#include "mimic/core/device.hpp"

namespace mimic {

template <>
struct Kernels<Cpu> : cpu::Memory,
                      cpu::Gemm,
                      cpu::Elementwise,
                      cpu::Softmax,
                      cpu::Copy,
                      cpu::Conv,
                      cpu::Conv2d,
                      cpu::Norm,
                      cpu::Optim,
                      cpu::Recurrent,
                      cpu::Spatial {
  static constexpr bool supports(KernelOp op) { return op < KernelOp::count; }
};

}  // namespace mimic
