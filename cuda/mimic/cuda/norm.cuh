#pragma once
// Kernels<Cuda>'s norm family (backend/contract.hpp). Not written yet: provides nothing, so ops
// that need it do not compile for Cuda, and the supports table says so.
#include "mimic/backend/contract.hpp"

namespace mimic::cuda {

struct Norm {
  static constexpr bool provides(KernelOp) { return false; }
};

}  // namespace mimic::cuda
