#pragma once
// The built-in algorithms on CUDA. A program that wants GPU policies compiles this header in one
// .cu file and calls add_cuda_builders on its registry; the trainer, the checkpoint loaders and
// the CLI then place policies on the GPU when asked (policy/core/placement.hpp). Each builder
// first checks that a device can be used and otherwise throws DeviceUnavailableError, which the
// placement turns into a CPU fallback with that reason.
#include <string>

#include "mimic/cuda/kernels.cuh"
#include "mimic/policy/bc/spec.hpp"
#include "mimic/policy/builtin.hpp"
#include "mimic/policy/diffusion/spec.hpp"
#include "mimic/policy/hierarchical/spec.hpp"
#include "mimic/policy/ibc/spec.hpp"
#include "mimic/policy/offline/spec.hpp"

namespace mimic::cuda {

template <class T, policy::PolicyBuilderFn<T, Cuda> Build>
std::unique_ptr<policy::Policy<T, Cuda>> build_when_available(const policy::BuildArgs& a) {
  const std::string reason = cuda_unavailable_reason();
  if (!reason.empty()) throw DeviceUnavailableError(reason);
  return Build(a);
}

// Adds float CUDA builders for the algorithms of builtin_algorithms() that `registry` holds.
inline void add_cuda_builders(policy::AlgorithmRegistry& registry) {
  using policy::BuildArgs;
  const auto add = [&](const char* name, policy::PolicyBuilder<float, Cuda> b) {
    if (registry.find(name)) registry.set_builder<float, Cuda>(name, std::move(b));
  };
  add("bc", build_when_available<float, policy::build_bc<float, Cuda>>);
  add("bc_rnn", build_when_available<float, policy::build_bc_rnn<float, Cuda>>);
  add("bc_transformer", build_when_available<float, policy::build_bc_transformer<float, Cuda>>);
  add("bc_vae", build_when_available<float, policy::build_bc_vae<float, Cuda>>);
  add("diffusion_policy", build_when_available<float, policy::build_diffusion_policy<float, Cuda>>);
  add("diffusion_policy_transformer",
      build_when_available<float, policy::build_diffusion_transformer<float, Cuda>>);
  add("ibc", build_when_available<float, policy::build_ibc<float, Cuda>>);
  add("td3_bc", build_when_available<float, policy::build_td3_bc<float, Cuda>>);
  add("iql", build_when_available<float, policy::build_iql<float, Cuda>>);
  add("bcq", build_when_available<float, policy::build_bcq<float, Cuda>>);
  add("cql", build_when_available<float, policy::build_cql<float, Cuda>>);
  add("gl", build_when_available<float, policy::build_gl<float, Cuda>>);
  add("hbc", build_when_available<float, policy::build_hbc<float, Cuda>>);
  add("iris", build_when_available<float, policy::build_iris<float, Cuda>>);
}

// builtin_algorithms() with the CUDA builders added.
inline policy::AlgorithmRegistry builtin_algorithms_with_cuda() {
  policy::AlgorithmRegistry r = policy::builtin_algorithms();
  add_cuda_builders(r);
  return r;
}

}  // namespace mimic::cuda
