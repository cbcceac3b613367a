#pragma once
// Ready-to-run configs with the published settings of every registered algorithm x task x
// observation type (robomimic's paper configs for BC and BC-RNN, Diffusion Policy's and Implicit
// BC's for theirs), each validated, and as mimic writes them (robomimic_view).
#include <string>
#include <vector>

#include "mimic/config/config.hpp"

namespace mimic::config {

using GeneratedConfig = policy::PublishedConfig;

inline std::vector<GeneratedConfig> published_configs(const std::string& dataset_dir,
                                                      const AlgorithmRegistry& registry) {
  std::vector<GeneratedConfig> out;
  for (const policy::AlgorithmSpec& spec : registry.specs()) {
    if (!spec.published) continue;
    for (GeneratedConfig& c : spec.published(dataset_dir)) {
      c.config = load_config(c.config, registry);
      out.push_back(std::move(c));
    }
  }
  return out;
}
inline std::vector<GeneratedConfig> published_configs(const std::string& dataset_dir) {
  return published_configs(dataset_dir, policy::builtin_algorithms());
}

// One published config by algorithm ("bc_rnn"), task and observation type.
inline json published_config(const std::string& algorithm, const std::string& task,
                             const std::string& obs_type, const std::string& dataset_dir,
                             const AlgorithmRegistry& registry) {
  const std::string name = algorithm + "_" + task + "_" + obs_type;
  for (const GeneratedConfig& c : registry.at(algorithm).published(dataset_dir))
    if (c.name == name) return c.config;
  throw ValueError("no published config '" + name + "'");
}
inline json published_config(const std::string& algorithm, const std::string& task,
                             const std::string& obs_type, const std::string& dataset_dir) {
  return published_config(algorithm, task, obs_type, dataset_dir, policy::builtin_algorithms());
}

}  // namespace mimic::config
