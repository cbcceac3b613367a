// Files handed to `mimic import --from robomimic|diffusion_policy`: a zip archive (starting
// "PK") through the torch.save reader, robomimic's and Diffusion Policy's checkpoint layouts and,
// for small networks, the whole import; any other bytes straight through the restricted
// unpickler (with Diffusion Policy's OmegaConf globals) and the plain-data conversions.
// Invariant: an imported policy exported to robomimic's format imports back to the same weights.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mimic/interop/diffusion_policy_checkpoint.hpp"
#include "mimic/interop/robomimic_export.hpp"
#include "mimic/policy/builtin.hpp"
#include "scratch_file.hpp"
#include "small_network.hpp"
#include "targets.hpp"

namespace mimic::fuzz {

namespace {
[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz_torch: %s\n", what);
  std::abort();
}

void import_and_round_trip(const std::string& path) {
  const interop::RobomimicCheckpoint c = interop::read_robomimic_checkpoint(path);
  const policy::AlgorithmRegistry registry = policy::builtin_algorithms();
  if (!c.config.is_object() || !small(c.shape_metadata)) return;
  nlohmann::json merged;
  try {
    merged = config::load_config(c.config, registry);
  } catch (const Error&) {
    return;
  }
  if (!small(merged.at("algo"), false)) return;
  const interop::ImportedPolicy p = interop::import_robomimic_policy(path, registry);
  const std::string ours = scratch_path("imported.safetensors");
  const std::string back = scratch_path("exported.pth");
  interop::save_imported(p, path, ours);
  try {
    interop::export_robomimic_checkpoint(ours, back, registry);
  } catch (const UnsupportedError&) {
    return;  // imported, but a setting robomimic 0.3.0 lacks
  }
  const interop::ImportedPolicy again = interop::import_robomimic_policy(back, registry);
  const auto a = p.policy->params().values().to_vector();
  const auto b = again.policy->params().values().to_vector();
  if (a != b) broken("an exported policy imports back to different weights");
}

void import_diffusion_policy(const std::string& path) {
  const interop::DiffusionPolicyCheckpoint c = interop::read_diffusion_policy_checkpoint(path);
  const policy::AlgorithmRegistry registry = policy::builtin_algorithms();
  const nlohmann::json merged = interop::diffusion_policy_config_from_dp(c.cfg, path, registry);
  if (!small(merged.at("algo"), false)) return;
  interop::import_diffusion_policy(path, registry);
}
}  // namespace

int torch_input(const uint8_t* data, size_t size) {
  if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
    const std::string path = scratch_file("checkpoint.pth", data, size);
    try {
      import_and_round_trip(path);
    } catch (const Error&) {
    }
    try {
      import_diffusion_policy(path);
    } catch (const Error&) {
    }
    return 0;
  }
  try {
    const io::Unpickled u = io::Unpickler("fuzz.pkl", io::torch_allowed_globals())
                                .load(reinterpret_cast<const char*>(data), size);
    io::pickle_to_json(u.root(), "root");
  } catch (const Error&) {
  }
  try {
    const io::Unpickled u = io::Unpickler("fuzz.pkl", interop::diffusion_policy_allowed_globals())
                                .load(reinterpret_cast<const char*>(data), size);
    interop::omegaconf_to_json(u.root(), "root");
  } catch (const Error&) {
  }
  return 0;
}

}  // namespace mimic::fuzz
