#pragma once
// Loading a training config: the user's JSON is merged over the defaults of its algo_name, as
// robomimic's locked config does (config/schema.hpp), then the shared sections and the
// algorithm's own settings are validated. The algorithm is looked up in an AlgorithmRegistry;
// the overloads without one use mimic's built-in algorithms. Configs are written back without
// the keys robomimic 0.3.0 lacks unless they are set (robomimic_view), so robomimic loads them.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/config/defaults.hpp"
#include "mimic/config/run_config.hpp"
#include "mimic/config/schema.hpp"
#include "mimic/core/json_error.hpp"
#include "mimic/policy/core/algorithm.hpp"

namespace mimic::config {

using policy::AlgorithmRegistry;

// Checks the shared values a run depends on; errors name the path.
inline void validate_shared(const json& c) {
  RunConfig::from_json(c);  // the typed view first: every value of the wrong type named
  const json& t = c.at("train");
  require(t["batch_size"].get<int64_t>() > 0, "train.batch_size", "must be > 0", t["batch_size"]);
  require(t["num_epochs"].get<int64_t>() > 0, "train.num_epochs", "must be > 0", t["num_epochs"]);
  require(t["seq_length"].get<int64_t>() >= 1, "train.seq_length", "must be >= 1", t["seq_length"]);
  require(t["frame_stack"].get<int64_t>() >= 1, "train.frame_stack", "must be >= 1",
          t["frame_stack"]);
  require(t["num_data_workers"].get<int64_t>() >= 0, "train.num_data_workers", "must be >= 0",
          t["num_data_workers"]);
  const json& cache = t["hdf5_cache_mode"];
  require(cache.is_null() || cache == "all" || cache == "low_dim", "train.hdf5_cache_mode",
          "must be \"all\", \"low_dim\" or null", cache);
  const json& goal = t["goal_mode"];
  require(goal.is_null() || goal == "last", "train.goal_mode", "must be null or \"last\"", goal);
  require(t["max_grad_norm"].is_null() || t["max_grad_norm"].get<double>() > 0,
          "train.max_grad_norm", "must be null or > 0", t["max_grad_norm"]);
  const json& keys = t["action_keys"];
  require(keys.is_array() && keys.size() == 1 && keys[0] == "actions", "train.action_keys",
          "must be [\"actions\"] (one action key; mimic reads the dataset's actions)", keys);
  for (const auto& [key, entry] : t["action_config"].items()) {
    const std::string p = "train.action_config." + key;
    require(entry.is_object(), p, "must be an object", entry);
    for (const auto& [k, v] : entry.items()) {
      if (k == "normalization")
        require(v.is_null() || v == "min_max" || v == "gaussian", p + ".normalization",
                "must be null, \"min_max\" or \"gaussian\"", v);
      else if (k == "format" || k == "convert_at_runtime")
        require(v.is_null() || (k == "format" && v == "rot_6d") || (k == "convert_at_runtime"),
                p + "." + k, "is not supported (actions are used as stored)", v);
      else
        throw ValueError("config: unknown key '" + p + "." + k + "'");
    }
  }
  const json& e = c.at("experiment");
  require(e["epoch_every_n_steps"].is_null() || e["epoch_every_n_steps"].get<int64_t>() > 0,
          "experiment.epoch_every_n_steps", "must be null or > 0", e["epoch_every_n_steps"]);
  require(e["video_skip"].get<int64_t>() >= 1, "experiment.video_skip", "must be >= 1",
          e["video_skip"]);
  require(e["save"]["every_n_seconds"].is_null() || e["save"]["every_n_seconds"].get<double>() > 0,
          "experiment.save.every_n_seconds", "must be null or > 0", e["save"]["every_n_seconds"]);
  const json& r = e["rollout"];
  require(r["n"].get<int64_t>() >= 1, "experiment.rollout.n", "must be >= 1", r["n"]);
  require(r["horizon"].get<int64_t>() >= 1, "experiment.rollout.horizon", "must be >= 1",
          r["horizon"]);
  require(r["rate"].get<int64_t>() >= 1, "experiment.rollout.rate", "must be >= 1", r["rate"]);
}

inline json default_config(const std::string& algo_name, const AlgorithmRegistry& registry) {
  return registry.defaults(algo_name);
}

// The user's config merged over the defaults of its algo_name, validated.
inline json load_config(const json& user, const AlgorithmRegistry& registry) {
  if (!user.is_object()) throw ValueError("config: expected a JSON object");
  if (nesting_depth(user) > kMaxConfigDepth)
    throw ValueError("config: nested more than " + std::to_string(kMaxConfigDepth) +
                     " levels deep (robomimic configs have about 7)");
  if (!user.contains("algo_name") || !user["algo_name"].is_string())
    throw ValueError("config: 'algo_name' is missing or not a string");
  json c = registry.defaults(user["algo_name"].get<std::string>());
  merge(c, user, "", false);
  validate_shared(c);
  const policy::AlgorithmSpec& spec = registry.of(c);
  if (spec.validate) spec.validate(c);
  return c;
}

// Far larger than any robomimic config (about 10 KB): bounds what a hostile file makes mimic read.
constexpr std::uintmax_t kMaxConfigFileBytes = std::uintmax_t(16) << 20;

inline json load_config_file(const std::string& path, const AlgorithmRegistry& registry) {
  const std::string text = read_json_file_text(path, kMaxConfigFileBytes, "config file");
  const json user = parse_json_text(text, path, int(kMaxConfigDepth));
  try {
    return load_config(user, registry);
  } catch (const ValueError& e) {
    throw ValueError(path + ": " + e.what());
  }
}

// A merged config as mimic writes it: its spec's extension keys (those robomimic's schema for the
// algorithm lacks) only where they differ from the defaults, so that robomimic's config_factory
// loads the file (0.3.0's for bc).
inline json robomimic_view(const json& merged, const AlgorithmRegistry& registry) {
  return without_defaults(merged, registry.defaults(merged.at("algo_name").get<std::string>()),
                          registry.of(merged).extension_keys);
}

// Keys a merged config sets away from their defaults that change nothing in mimic.
inline std::vector<std::string> set_without_effect(const json& merged,
                                                   const AlgorithmRegistry& registry) {
  return changed(merged, registry.defaults(merged.at("algo_name").get<std::string>()),
                 shared_no_effect_keys());
}

}  // namespace mimic::config

// --- with mimic's built-in algorithms ------------------------------------------------------
#include "mimic/policy/builtin.hpp"

namespace mimic::config {

inline json default_config(const std::string& algo_name) {
  return default_config(algo_name, policy::builtin_algorithms());
}
inline json load_config(const json& user) {
  return load_config(user, policy::builtin_algorithms());
}
inline json load_config_file(const std::string& path) {
  return load_config_file(path, policy::builtin_algorithms());
}

}  // namespace mimic::config
