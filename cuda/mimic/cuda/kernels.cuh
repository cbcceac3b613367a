#pragma once
// Kernels<Cuda>: the CUDA backend, one mixin per family, mirroring Kernels<Cpu>.
#include "mimic/backend/kernels.hpp"
#include "mimic/core/device.hpp"
#include "mimic/cuda/elementwise.cuh"
#include "mimic/cuda/gemm.cuh"
#include "mimic/cuda/memory.cuh"

namespace mimic {

template <>
struct Kernels<Cuda> : cuda::Memory, cuda::Gemm, cuda::Elementwise {};

}  // namespace mimic
