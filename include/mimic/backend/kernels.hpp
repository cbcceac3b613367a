#pragma once
// The kernel interface. Ops (include/mimic/ops) are written once against Kernels<Device>; each
// backend specializes it: Kernels<Cpu> in backend/cpu/kernels.hpp, Kernels<Cuda> in
// cuda/mimic/cuda/kernels.cuh. backend/contract.hpp lists every function a specialization may
// provide, with its shapes and layouts; `Kernels<D>::supports(op)` says which it does.
// A specialization is an aggregate of small mixins, one per family (memory, gemm, elementwise,
// ...), so each family lives in its own header.
#include "mimic/backend/contract.hpp"
#include "mimic/backend/kernel_types.hpp"

namespace mimic {
template <class Device>
struct Kernels;
}  // namespace mimic
