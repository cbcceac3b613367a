#pragma once
// The algorithms the `mimic` program knows: the built-in ones, plus their CUDA builders when the
// program is built with nvcc (MIMIC_CLI_CUDA; defined in tools/cuda_algorithms.cu, the program's
// only nvcc-compiled file, so no host code of the trainer or CLI goes through nvcc).
#include "mimic/policy/builtin.hpp"

namespace mimic::cli {

#if MIMIC_CLI_CUDA
void add_program_cuda_builders(policy::AlgorithmRegistry& registry);
#endif

inline policy::AlgorithmRegistry program_algorithms() {
  policy::AlgorithmRegistry r = policy::builtin_algorithms();
#if MIMIC_CLI_CUDA
  add_program_cuda_builders(r);
#endif
  return r;
}

}  // namespace mimic::cli
