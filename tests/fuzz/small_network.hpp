#pragma once
// Whether the network a config describes is small enough for a fuzz target to build it.
#include <nlohmann/json.hpp>
#include <string>

namespace mimic::fuzz {

// Whether the network a config describes is small enough to build for every input: every
// number under a key that sizes it (widths, hidden and embedding sizes, kernels, groups, modes,
// layer counts, horizons, diffusion steps) at most 128, in the sections that are enabled, so that
// one input cannot ask for a network that takes seconds or gigabytes to build. Shapes are checked
// the same.
inline bool sizes_network(const std::string& key) {
  for (const char* part :
       {"dim", "hidden", "embed", "kernel", "groups", "modes", "layers", "horizon", "timesteps"})
    if (key.find(part) != std::string::npos) return true;
  return false;
}
inline bool small(const nlohmann::json& j, bool sizing = true) {
  if (j.is_number()) return !sizing || (j.get<double>() <= 128 && j.get<double>() >= -128);
  if (j.is_array()) {
    for (const auto& v : j)
      if (!small(v, sizing)) return false;
  } else if (j.is_object()) {
    if (j.contains("enabled") && j["enabled"] == false) return true;  // builds nothing
    for (const auto& [k, v] : j.items())
      if (!small(v, sizing || sizes_network(k))) return false;
  }
  return true;
}

}  // namespace mimic::fuzz
