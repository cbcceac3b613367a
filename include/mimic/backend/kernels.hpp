#pragma once
// The kernel interface. Ops (include/mimic/ops) are written once against Kernels<Device>; each
// backend specializes it: Kernels<Cpu> in backend/cpu/kernels.hpp, Kernels<Cuda> in
// cuda/mimic/cuda/kernels.cuh. A specialization is an aggregate of small mixins, one per family
// (memory, gemm, elementwise, ...), so each family lives in its own header.
namespace mimic {
template <class Device>
struct Kernels;
}  // namespace mimic
