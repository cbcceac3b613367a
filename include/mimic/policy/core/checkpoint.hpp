#pragma once
// One self-contained checkpoint file in the safetensors format: the policy's weights under their
// state-dict names (loadable by safetensors.torch.load_file), optimizer moments and EMA weights
// under prefixed names, and everything else (config, algorithm, shape metadata, normalization,
// optimizer/scheduler/EMA counters, random stream, epoch, best values, env metadata) as one JSON
// string in the header's __metadata__ under "mimic". Written atomically.
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/config/config.hpp"
#include "mimic/core/json_error.hpp"
#include "mimic/nn/safetensors.hpp"
#include "mimic/policy/core/policy.hpp"

namespace mimic::policy {

// Raised when the layout of the metadata changes; older versions keep loading.
constexpr int64_t kCheckpointFormatVersion = 1;

struct Checkpoint {
  nlohmann::json meta;  // "config", "policy" (state_json), "schedule_units", "trainer", "env_args"
  std::map<std::string, Tensor<float>> tensors;
};

// Tensors stream from the policy's buffers (through the host one at a time when they are not
// host floats), so saving a checkpoint needs no second copy of the model, optimizer and EMA state.
inline void save_checkpoint(const std::string& path, const AnyPolicy& policy,
                            const nlohmann::json& config, int64_t schedule_units,
                            const nlohmann::json& extra = nlohmann::json::object()) {
  const std::map<std::string, nn::SafetensorsSource> out = policy.state_sources();
  nlohmann::json meta = extra;
  meta["format"] = "mimic-checkpoint";
  meta["format_version"] = kCheckpointFormatVersion;
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
  c.meta = parse_json_text(it->second, path + ": checkpoint metadata");
  if (!c.meta.is_object()) throw IoError(path + ": checkpoint metadata is not a JSON object");
  const nlohmann::json format = c.meta.value("format", nlohmann::json());
  if (format != "mimic-checkpoint")
    throw IoError(path + ": checkpoint metadata 'format' is " + format.dump() +
                  ", expected \"mimic-checkpoint\"");
  const nlohmann::json version = c.meta.value("format_version", nlohmann::json());
  if (!version.is_number_integer() || version.get<int64_t>() < 1 ||
      version.get<int64_t>() > kCheckpointFormatVersion)
    throw IoError(path + ": checkpoint metadata 'format_version' is " + version.dump() +
                  ", expected 1 to " + std::to_string(kCheckpointFormatVersion) +
                  " (a newer mimic wrote it?)");
  for (const char* key : {"config", "policy", "schedule_units"})
    if (!c.meta.contains(key)) throw IoError(path + ": checkpoint metadata has no '" + key + "'");
  if (!c.meta["config"].is_object() || !c.meta["policy"].is_object())
    throw IoError(path + ": checkpoint metadata 'config' and 'policy' must be JSON objects");
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

// Whether any optimizer group of the config (every optim_params block under algo, the parts' of
// a hierarchical algorithm included) steps its schedule every batch.
inline bool schedule_counts_batches(const nlohmann::json& config) {
  std::function<bool(const nlohmann::json&, const std::string&)> any =
      [&](const nlohmann::json& section, const std::string& path) {
        for (const auto& [name, value] : section.items()) {
          if (!value.is_object()) continue;
          if (name == "optim_params") {
            for (const auto& [group, settings] : value.items())
              if (OptimizerSettings::from_json(settings, path + ".optim_params." + group)
                      .step_every_batch)
                return true;
          } else if (any(value, path + "." + name)) {
            return true;
          }
        }
        return false;
      };
  return any(config.at("algo"), "algo");
}

// Builds the policy a merged config asks for through its algorithm's spec.
template <class T = float, class D = Cpu>
std::unique_ptr<Policy<T, D>> make_policy(const AlgorithmRegistry& registry,
                                          const nlohmann::json& config, const ShapeMeta& meta,
                                          const Normalization& norm, uint64_t seed,
                                          int64_t schedule_units) {
  return registry.of(config).build<T, D>(BuildArgs{config, meta, norm, seed, schedule_units});
}

// What a policy is rebuilt from: a checkpoint's shapes, statistics, seed and config, the stored
// config merged over today's defaults again (keys added since it was written take their
// defaults). Errors name the file.
struct CheckpointRecipe {
  ShapeMeta meta;
  Normalization norm;
  uint64_t seed = 0;
  nlohmann::json config;
  int64_t schedule_units = 0;
  BuildArgs args() const { return BuildArgs{config, meta, norm, seed, schedule_units}; }
};

template <class F>
auto naming_checkpoint(const std::string& path, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const nlohmann::json::exception& e) {
    throw IoError(path + ": checkpoint metadata is incomplete: " + json_error_text(e));
  } catch (const ValueError& e) {
    throw IoError(path + ": checkpoint config does not load: " + e.what());
  }
}

inline CheckpointRecipe checkpoint_recipe(const Checkpoint& c, const std::string& path,
                                          const AlgorithmRegistry& registry) {
  return naming_checkpoint(path, [&] {
    const nlohmann::json& p = c.meta.at("policy");
    CheckpointRecipe r;
    r.meta = ShapeMeta::from_json(p.at("shape_meta"));
    r.norm = Normalization::from_json(p.at("normalization"));
    r.seed = p.at("rng").at("seed").get<uint64_t>();
    r.config = config::load_config(c.meta.at("config"), registry);
    r.schedule_units = c.meta.at("schedule_units").get<int64_t>();
    const AlgorithmSpec& spec = registry.of(r.config);
    if (p.contains("algo_name") && p["algo_name"] != spec.name)
      throw IoError(path + ": the checkpoint holds a '" + p["algo_name"].get<std::string>() +
                    "' policy but its config selects '" + spec.name + "'");
    return r;
  });
}

// Rebuilds the policy a checkpoint was saved from, with all its state.
template <class T = float, class D = Cpu>
std::unique_ptr<Policy<T, D>> policy_from_checkpoint(const Checkpoint& c, const std::string& path,
                                                     const AlgorithmRegistry& registry) {
  const CheckpointRecipe r = checkpoint_recipe(c, path, registry);
  return naming_checkpoint(path, [&] {
    auto policy = registry.of(r.config).build<T, D>(r.args());
    policy->load_state(c.tensors, c.meta.at("policy"));
    return policy;
  });
}
template <class T = float, class D = Cpu>
std::unique_ptr<Policy<T, D>> policy_from_checkpoint(const Checkpoint& c,
                                                     const std::string& path = "checkpoint") {
  return policy_from_checkpoint<T, D>(c, path, builtin_algorithms());
}

}  // namespace mimic::policy
