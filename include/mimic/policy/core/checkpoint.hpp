#pragma once
// One self-contained checkpoint file in the safetensors format: the policy's weights under their
// state-dict names (loadable by safetensors.torch.load_file), optimizer moments and EMA weights
// under prefixed names, and everything else (config, algorithm, shape metadata, normalization,
// optimizer/scheduler/EMA counters, random stream, epoch, best values, env metadata) as one JSON
// string in the header's __metadata__ under "mimic". Written atomically.
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/config/config.hpp"
#include "mimic/nn/safetensors.hpp"
#include "mimic/policy/core/policy.hpp"

namespace mimic::policy {

struct Checkpoint {
  nlohmann::json meta;  // "config", "policy" (state_json), "schedule_units", "trainer", "env_args"
  std::map<std::string, Tensor<float>> tensors;
};

template <class T, class D>
void save_checkpoint(const std::string& path, const Policy<T, D>& policy,
                     const nlohmann::json& config, int64_t schedule_units,
                     const nlohmann::json& extra = nlohmann::json::object()) {
  // Tensors stream from the policy's buffers (converted one at a time when they are not host
  // floats), so saving a checkpoint needs no second copy of the model, optimizer and EMA state.
  const std::map<std::string, Tensor<T, D>> state = policy.state_tensors();
  std::map<std::string, nn::SafetensorsSource> out;
  for (const auto& [name, t] : state) {
    const Shape s = t.shape();
    out[name] = {"F32", std::vector<int64_t>(s.dims, s.dims + s.rank), uint64_t(s.numel()) * 4,
                 [&t](std::ostream& o) {
                   if constexpr (std::is_same_v<T, float> && is_cpu_v<D>) {
                     o.write(reinterpret_cast<const char*>(t.data()),
                             static_cast<std::streamsize>(t.numel() * 4));
                   } else {
                     const Tensor<float> host = download(t);
                     o.write(reinterpret_cast<const char*>(host.data()),
                             static_cast<std::streamsize>(host.numel() * 4));
                   }
                 }};
  }
  nlohmann::json meta = extra;
  meta["format"] = "mimic-checkpoint";
  meta["format_version"] = 1;
  meta["config"] = config;
  meta["policy"] = policy.state_json();
  meta["schedule_units"] = schedule_units;
  nn::write_safetensors(path, out, {{"mimic", meta.dump()}});
}

inline Checkpoint load_checkpoint(const std::string& path) {
  nn::SafetensorsFile file = nn::read_safetensors(path);
  auto it = file.metadata.find("mimic");
  if (it == file.metadata.end())
    throw IoError(path + ": not a mimic checkpoint (no 'mimic' entry in the safetensors metadata)");
  Checkpoint c;
  try {
    c.meta = nlohmann::json::parse(it->second);
  } catch (const std::exception& e) {
    throw IoError(path + ": checkpoint metadata is not valid JSON: " + e.what());
  }
  for (const char* key : {"config", "policy", "schedule_units"})
    if (!c.meta.contains(key)) throw IoError(path + ": checkpoint metadata has no '" + key + "'");
  for (auto& [name, t] : file.tensors) {
    if (t.dtype != "F32")
      throw IoError(path + ": tensor '" + name + "' has dtype " + t.dtype + ", expected F32");
    const Shape s = Shape::from_range(t.shape.begin(), t.shape.end());
    if (size_t(s.numel()) * 4 != t.bytes.size())
      throw IoError(path + ": tensor '" + name + "' has " + std::to_string(t.bytes.size()) +
                    " bytes for shape " + s.str());
    auto host = Tensor<float>::empty(s);
    std::memcpy(host.data(), t.bytes.data(), t.bytes.size());
    c.tensors.emplace(name, host);
  }
  return c;
}

// Whether the learning-rate schedule of a merged config counts batches (true) or epochs.
inline bool schedule_counts_batches(const nlohmann::json& config) {
  return OptimizerSettings::from_config(config).step_every_batch;
}

// Builds the policy a merged config asks for through its algorithm's spec.
template <class T = float, class D = Cpu>
std::unique_ptr<Policy<T, D>> make_policy(const AlgorithmRegistry& registry,
                                          const nlohmann::json& config, const ShapeMeta& meta,
                                          const Normalization& norm, uint64_t seed,
                                          int64_t schedule_units) {
  return registry.of(config).build<T, D>(BuildArgs{config, meta, norm, seed, schedule_units});
}

// Rebuilds the policy a checkpoint was saved from, with all its state. The stored config is
// merged over today's defaults again, so keys added since it was written take their defaults.
template <class T = float, class D = Cpu>
std::unique_ptr<Policy<T, D>> policy_from_checkpoint(const Checkpoint& c, const std::string& path,
                                                     const AlgorithmRegistry& registry) {
  try {
    const nlohmann::json& p = c.meta.at("policy");
    const ShapeMeta meta = ShapeMeta::from_json(p.at("shape_meta"));
    const Normalization norm = Normalization::from_json(p.at("normalization"));
    const uint64_t seed = p.at("rng").at("seed").get<uint64_t>();
    const nlohmann::json config = config::load_config(c.meta.at("config"), registry);
    const AlgorithmSpec& spec = registry.of(config);
    if (p.contains("algo_name") && p["algo_name"] != spec.name)
      throw IoError(path + ": the checkpoint holds a '" + p["algo_name"].get<std::string>() +
                    "' policy but its config selects '" + spec.name + "'");
    auto policy = make_policy<T, D>(registry, config, meta, norm, seed,
                                    c.meta.at("schedule_units").get<int64_t>());
    policy->load_state(c.tensors, p);
    return policy;
  } catch (const nlohmann::json::exception& e) {
    throw IoError(path + ": checkpoint metadata is incomplete: " + e.what());
  } catch (const ValueError& e) {
    throw IoError(path + ": checkpoint config does not load: " + e.what());
  }
}
template <class T = float, class D = Cpu>
std::unique_ptr<Policy<T, D>> policy_from_checkpoint(const Checkpoint& c,
                                                     const std::string& path = "checkpoint") {
  return policy_from_checkpoint<T, D>(c, path, builtin_algorithms());
}

}  // namespace mimic::policy
