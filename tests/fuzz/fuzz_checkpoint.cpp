// Files handed to `mimic eval --agent` or `--resume`: the safetensors container, mimic's metadata,
// the config it carries, and (for small networks) the policy rebuilt with the stored tensors.
// Invariant: what the reader accepts, the writer writes back to a file the reader reads the same.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mimic/policy/core/checkpoint.hpp"
#include "scratch_file.hpp"
#include "small_network.hpp"
#include "targets.hpp"

namespace mimic::fuzz {

namespace {
[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz_checkpoint: %s\n", what);
  std::abort();
}

}  // namespace

int checkpoint_input(const uint8_t* data, size_t size) {
  const std::string path = scratch_file("checkpoint.safetensors", data, size);
  nn::SafetensorsFile file;
  try {
    file = nn::read_safetensors(path);
  } catch (const Error&) {
    return 0;
  }
  const std::string copy = scratch_path("copy.safetensors");
  nn::write_safetensors(copy, file.tensors, file.metadata);
  const nn::SafetensorsFile again = nn::read_safetensors(copy);
  if (again.metadata != file.metadata || again.tensors.size() != file.tensors.size())
    broken("a file written back reads differently");
  for (const auto& [name, t] : file.tensors) {
    const nn::SafetensorsTensor& u = again.tensors.at(name);
    if (u.dtype != t.dtype || u.shape != t.shape || u.bytes != t.bytes)
      broken("a tensor written back reads differently");
  }
  try {
    const policy::Checkpoint c = policy::load_checkpoint(path);
    const policy::AlgorithmRegistry registry = policy::builtin_algorithms();
    const policy::CheckpointRecipe r = policy::checkpoint_recipe(c, path, registry);
    if (small(r.config.at("algo"), false) && small(c.meta.at("policy").at("shape_meta")))
      policy::policy_from_checkpoint(c, path, registry);
  } catch (const Error&) {
  }
  return 0;
}

}  // namespace mimic::fuzz
