#pragma once
// Loading a training config: the user's JSON is merged over the defaults of its algo_name, as
// robomimic's locked config does. A key the defaults do not have is an error naming its path
// (except inside the open sections robomimic leaves unlocked: any "*kwargs" object), a value of
// the wrong JSON type is an error naming path, expected and actual type, and value ranges a run
// depends on are checked.
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/config/defaults.hpp"

namespace mimic::config {

namespace detail {

inline std::string type_name(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

inline bool open_section(const std::string& key) {
  return key.size() >= 6 && key.compare(key.size() - 6, 6, "kwargs") == 0;
}

// Whether `v` may replace default `d`: same JSON type; integers where numbers are expected;
// anything where the default is null (robomimic's optional values) and null where a string,
// number or list is optional in robomimic (filter keys, goal_mode, output limits ...).
inline bool compatible(const json& d, const json& v) {
  if (d.is_null() || v.is_null()) return !(d.is_object() || v.is_object()) || d.is_null();
  if (d.is_number() && v.is_number())
    return !(d.is_number_integer() && !v.is_number_integer() &&
             v.get<double>() != double(int64_t(v.get<double>())));
  if (d.is_boolean() || v.is_boolean()) return d.is_boolean() == v.is_boolean();
  return type_name(d) == type_name(v);
}

inline void merge(json& base, const json& user, const std::string& path, bool open) {
  for (const auto& [key, value] : user.items()) {
    const std::string p = path.empty() ? key : path + "." + key;
    if (!base.contains(key)) {
      if (open) {
        base[key] = value;
        continue;
      }
      throw ValueError("config: unknown key '" + p + "'");
    }
    json& d = base[key];
    if (!compatible(d, value))
      throw ValueError("config: '" + p + "' must be " +
                       (d.is_null() ? std::string("any") : type_name(d)) + ", got " +
                       type_name(value) + " (" + value.dump() + ")");
    if (d.is_object() && value.is_object())
      merge(d, value, p, open || open_section(key));
    else
      d = value;
  }
}

inline void require(bool ok, const std::string& path, const std::string& what, const json& v) {
  if (!ok) throw ValueError("config: '" + path + "' " + what + ", got " + v.dump());
}

}  // namespace detail

// Checks the values a run depends on; errors name the path.
inline void validate(const json& c) {
  using detail::require;
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
  const json& e = c.at("experiment");
  require(e["epoch_every_n_steps"].is_null() || e["epoch_every_n_steps"].get<int64_t>() > 0,
          "experiment.epoch_every_n_steps", "must be null or > 0", e["epoch_every_n_steps"]);
  require(e["video_skip"].get<int64_t>() >= 1, "experiment.video_skip", "must be >= 1",
          e["video_skip"]);
  const json& r = e["rollout"];
  require(r["n"].get<int64_t>() >= 1, "experiment.rollout.n", "must be >= 1", r["n"]);
  require(r["horizon"].get<int64_t>() >= 1, "experiment.rollout.horizon", "must be >= 1",
          r["horizon"]);
  require(r["rate"].get<int64_t>() >= 1, "experiment.rollout.rate", "must be >= 1", r["rate"]);
  const json& lr = c.at("algo").at("optim_params").at("policy").at("learning_rate");
  require(lr["initial"].get<double>() > 0, "algo.optim_params.policy.learning_rate.initial",
          "must be > 0", lr["initial"]);
  const json& algo = c.at("algo");
  if (c["algo_name"] == "bc") {
    for (const auto& d : algo["actor_layer_dims"])
      require(d.is_number_integer() && d.get<int64_t>() > 0, "algo.actor_layer_dims",
              "must list positive integers", algo["actor_layer_dims"]);
    require(algo["rnn"]["rnn_type"] == "LSTM" || algo["rnn"]["rnn_type"] == "GRU",
            "algo.rnn.rnn_type", "must be \"LSTM\" or \"GRU\"", algo["rnn"]["rnn_type"]);
    require(!(algo["gmm"]["enabled"].get<bool>() && algo["gaussian"]["enabled"].get<bool>()),
            "algo.gmm.enabled", "cannot be combined with algo.gaussian.enabled",
            algo["gmm"]["enabled"]);
    require(!algo["vae"]["enabled"].get<bool>(), "algo.vae.enabled", "is not supported (BC-VAE)",
            algo["vae"]["enabled"]);
    require(!algo["transformer"]["enabled"].get<bool>(), "algo.transformer.enabled",
            "is not supported (BC-Transformer)", algo["transformer"]["enabled"]);
    if (algo["rnn"]["enabled"].get<bool>())
      require(t["frame_stack"].get<int64_t>() == 1, "train.frame_stack",
              "must be 1 for BC-RNN (the RNN sees the history)", t["frame_stack"]);
  }
  if (c["algo_name"] == "diffusion_policy")
    require(algo["ddpm"]["enabled"].get<bool>() != algo["ddim"]["enabled"].get<bool>(),
            "algo.ddpm.enabled", "and algo.ddim.enabled: exactly one must be true",
            algo["ddpm"]["enabled"]);
}

// The user's config merged over the defaults of its algo_name, validated.
inline json load_config(const json& user) {
  if (!user.is_object()) throw ValueError("config: expected a JSON object");
  if (!user.contains("algo_name") || !user["algo_name"].is_string())
    throw ValueError("config: 'algo_name' is missing or not a string");
  json c = default_config(user["algo_name"].get<std::string>());
  detail::merge(c, user, "", false);
  validate(c);
  return c;
}

inline json load_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError(path + ": cannot open the config file");
  json user;
  try {
    user = json::parse(in);
  } catch (const std::exception& e) {
    throw IoError(path + ": not valid JSON: " + e.what());
  }
  try {
    return load_config(user);
  } catch (const ValueError& e) {
    throw ValueError(path + ": " + e.what());
  }
}

}  // namespace mimic::config
