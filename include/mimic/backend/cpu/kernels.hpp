#pragma once
// Kernels<Cpu>: the CPU backend, one mixin per family of kernels.
#include "mimic/backend/cpu/conv.hpp"
#include "mimic/backend/cpu/copy.hpp"
#include "mimic/backend/cpu/elementwise.hpp"
#include "mimic/backend/cpu/gemm.hpp"
#include "mimic/backend/cpu/memory.hpp"
#include "mimic/backend/cpu/norm.hpp"
#include "mimic/backend/cpu/optim.hpp"
#include "mimic/backend/cpu/recurrent.hpp"
#include "mimic/backend/cpu/softmax.hpp"
#include "mimic/backend/cpu/spatial.hpp"
#include "mimic/backend/cpu/winograd.hpp"
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
                      cpu::Norm,
                      cpu::Optim,
                      cpu::Recurrent,
                      cpu::Spatial,
                      cpu::Winograd {};

}  // namespace mimic
