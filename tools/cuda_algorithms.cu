// The built-in algorithms' CUDA builders for the `mimic` program and the GPU tests: the one file
// of theirs that nvcc compiles (tools/commands/algorithms.hpp).
#include "commands/algorithms.hpp"
#include "mimic/cuda/algorithms.cuh"

namespace mimic::cli {

void add_program_cuda_builders(policy::AlgorithmRegistry& registry) {
  cuda::add_cuda_builders(registry);
}

}  // namespace mimic::cli
