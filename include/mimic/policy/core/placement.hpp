#pragma once
// Which device a policy runs on. A config or command asks for one (train.cuda, eval --device);
// the policy is built there when the program has that device's builder for the algorithm and
// the machine can run it, and otherwise on the CPU, with the reason kept so the caller can say
// so once. CUDA builders are compiled by nvcc and registered by cuda::add_cuda_builders
// (cuda/mimic/cuda/algorithms.cuh); a program built without nvcc has none.
#include <memory>
#include <string>

#include "mimic/core/device.hpp"
#include "mimic/policy/core/algorithm.hpp"
#include "mimic/policy/core/checkpoint.hpp"

namespace mimic::policy {

enum class DeviceKind { kCpu, kCuda };

inline DeviceKind parse_device(const std::string& name, const std::string& where) {
  if (name == "cpu") return DeviceKind::kCpu;
  if (name == "cuda" || name == "gpu") return DeviceKind::kCuda;
  throw ValueError(where + ": device '" + name + "' is not one of cpu, cuda");
}

struct Placement {
  std::unique_ptr<AnyPolicy> policy;
  // Why the policy is on the CPU although CUDA was asked for; empty otherwise.
  std::string fallback;
};

// Builds the policy of `spec` on the wanted device, falling back to the CPU as described above.
inline Placement place_policy(const AlgorithmSpec& spec, const BuildArgs& args, DeviceKind want) {
  Placement p;
  if (want == DeviceKind::kCuda) {
    if (!spec.builds_on(Cuda::name)) {
      p.fallback = "this program has no CUDA build of '" + spec.name +
                   "' (built without nvcc, or its algorithm registry lacks the CUDA builders)";
    } else {
      try {
        p.policy = spec.build_on(Cuda::name, args);
        return p;
      } catch (const DeviceUnavailableError& e) {
        p.fallback = e.what();
      }
    }
  }
  p.policy = spec.build_on(Cpu::name, args);
  return p;
}

inline Placement make_policy_on(DeviceKind want, const AlgorithmRegistry& registry,
                                const nlohmann::json& config, const ShapeMeta& meta,
                                const Normalization& norm, uint64_t seed, int64_t schedule_units) {
  return place_policy(registry.of(config), BuildArgs{config, meta, norm, seed, schedule_units},
                      want);
}

// A checkpoint's policy with all its state, on the wanted device (checkpoints hold host floats,
// so any device loads what any device saved).
inline Placement policy_from_checkpoint_on(DeviceKind want, const Checkpoint& c,
                                           const std::string& path,
                                           const AlgorithmRegistry& registry) {
  const CheckpointRecipe r = checkpoint_recipe(c, path, registry);
  Placement p = place_policy(registry.of(r.config), r.args(), want);
  naming_checkpoint(path, [&] { p.policy->load_state(c.tensors, c.meta.at("policy")); });
  return p;
}

// The line a program prints about where its policy runs.
inline std::string placement_line(const Placement& p, const std::string& asked_by) {
  if (!p.fallback.empty()) return asked_by + " asks for CUDA, running on the CPU: " + p.fallback;
  return "device: " + std::string(p.policy->device_name());
}

}  // namespace mimic::policy
