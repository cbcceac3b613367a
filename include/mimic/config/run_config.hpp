#pragma once
// The shared sections of a merged config (experiment, train, observation) parsed once into typed
// structs. Parsing reads every key with .at(): the defaults (config/defaults.hpp) are the one
// source of default values, so nothing after this reads raw JSON with a fallback of its own.
#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mimic/config/schema.hpp"

namespace mimic::config {

namespace detail {
// A string that may be null (robomimic's "not set"), as "".
inline std::string string_or_empty(const json& v, const std::string& path) {
  return v.is_null() ? std::string() : typed<std::string>(v, path);
}
template <class V>
std::optional<V> optional_of(const json& v, const std::string& path) {
  if (v.is_null()) return std::nullopt;
  return typed<V>(v, path);
}
}  // namespace detail

struct SaveConfig {
  bool enabled = true;
  std::optional<double> every_n_seconds;
  int64_t every_n_epochs = 50;
  std::vector<int64_t> epochs;
  bool on_best_validation = false, on_best_rollout_return = false,
       on_best_rollout_success_rate = true;
};

struct RolloutConfig {
  bool enabled = true;
  int64_t n = 50, horizon = 400, rate = 50, warmstart = 0;
  bool terminate_on_success = true;
};

struct ExperimentConfig {
  std::string name;
  bool validate = false;
  bool log_tb = true, terminal_output_to_txt = true;
  SaveConfig save;
  std::optional<int64_t> epoch_every_n_steps, validation_epoch_every_n_steps;  // null: a full pass
  bool render_video = true;
  int64_t video_skip = 5;
  RolloutConfig rollout;
  std::string ckpt_path;      // v0.5: starting weights ("" = none)
  json env_meta_update_dict;  // v0.5: merged into the dataset's env_args for rollouts

  static ExperimentConfig from_json(const json& e) {
    ExperimentConfig x;
    x.name = typed<std::string>(e.at("name"), "experiment.name");
    x.validate = typed<bool>(e.at("validate"), "experiment.validate");
    x.log_tb = typed<bool>(e.at("logging").at("log_tb"), "experiment.logging.log_tb");
    x.terminal_output_to_txt = typed<bool>(e.at("logging").at("terminal_output_to_txt"),
                                           "experiment.logging.terminal_output_to_txt");
    const json& s = e.at("save");
    x.save.enabled = typed<bool>(s.at("enabled"), "experiment.save.enabled");
    x.save.every_n_seconds =
        detail::optional_of<double>(s.at("every_n_seconds"), "experiment.save.every_n_seconds");
    x.save.every_n_epochs =
        s.at("every_n_epochs").is_null()
            ? 0
            : typed<int64_t>(s.at("every_n_epochs"), "experiment.save.every_n_epochs");
    x.save.epochs = s.at("epochs").is_null()
                        ? std::vector<int64_t>()
                        : typed<std::vector<int64_t>>(s.at("epochs"), "experiment.save.epochs");
    x.save.on_best_validation =
        typed<bool>(s.at("on_best_validation"), "experiment.save.on_best_validation");
    x.save.on_best_rollout_return =
        typed<bool>(s.at("on_best_rollout_return"), "experiment.save.on_best_rollout_return");
    x.save.on_best_rollout_success_rate = typed<bool>(
        s.at("on_best_rollout_success_rate"), "experiment.save.on_best_rollout_success_rate");
    x.epoch_every_n_steps =
        detail::optional_of<int64_t>(e.at("epoch_every_n_steps"), "experiment.epoch_every_n_steps");
    x.validation_epoch_every_n_steps = detail::optional_of<int64_t>(
        e.at("validation_epoch_every_n_steps"), "experiment.validation_epoch_every_n_steps");
    x.render_video = typed<bool>(e.at("render_video"), "experiment.render_video");
    x.video_skip = typed<int64_t>(e.at("video_skip"), "experiment.video_skip");
    const json& r = e.at("rollout");
    x.rollout.enabled = typed<bool>(r.at("enabled"), "experiment.rollout.enabled");
    x.rollout.n = typed<int64_t>(r.at("n"), "experiment.rollout.n");
    x.rollout.horizon = typed<int64_t>(r.at("horizon"), "experiment.rollout.horizon");
    x.rollout.rate = typed<int64_t>(r.at("rate"), "experiment.rollout.rate");
    x.rollout.warmstart = typed<int64_t>(r.at("warmstart"), "experiment.rollout.warmstart");
    x.rollout.terminate_on_success =
        typed<bool>(r.at("terminate_on_success"), "experiment.rollout.terminate_on_success");
    x.ckpt_path = detail::string_or_empty(e.at("ckpt_path"), "experiment.ckpt_path");
    x.env_meta_update_dict = e.at("env_meta_update_dict");
    return x;
  }
};

struct TrainConfig {
  std::string data, output_dir;
  int64_t num_data_workers = 0;
  std::string hdf5_cache_mode;  // "all", "low_dim" or "" (none)
  bool hdf5_load_next_obs = false, hdf5_normalize_obs = false;
  std::string hdf5_filter_key, hdf5_validation_filter_key;
  int64_t seq_length = 1, frame_stack = 1;
  bool pad_seq_length = true, pad_frame_stack = true;
  bool cuda = true;  // train on the GPU when the program and machine can (else the CPU, said once)
  std::string goal_mode;  // "" or "last"
  int64_t batch_size = 100, num_epochs = 2000;
  uint64_t seed = 1;
  std::optional<double> max_grad_norm;
  std::vector<std::string> action_keys{"actions"};
  json action_config;  // v0.5: per action key {"normalization": null | "min_max", ...}

  // Steps each sampled window holds.
  int64_t window() const { return frame_stack - 1 + seq_length; }

  static TrainConfig from_json(const json& t) {
    TrainConfig x;
    x.data = detail::string_or_empty(t.at("data"), "train.data");
    x.output_dir = typed<std::string>(t.at("output_dir"), "train.output_dir");
    x.num_data_workers = typed<int64_t>(t.at("num_data_workers"), "train.num_data_workers");
    x.hdf5_cache_mode = detail::string_or_empty(t.at("hdf5_cache_mode"), "train.hdf5_cache_mode");
    x.hdf5_load_next_obs = typed<bool>(t.at("hdf5_load_next_obs"), "train.hdf5_load_next_obs");
    x.hdf5_normalize_obs = typed<bool>(t.at("hdf5_normalize_obs"), "train.hdf5_normalize_obs");
    x.hdf5_filter_key = detail::string_or_empty(t.at("hdf5_filter_key"), "train.hdf5_filter_key");
    x.hdf5_validation_filter_key = detail::string_or_empty(t.at("hdf5_validation_filter_key"),
                                                           "train.hdf5_validation_filter_key");
    x.seq_length = typed<int64_t>(t.at("seq_length"), "train.seq_length");
    x.frame_stack = typed<int64_t>(t.at("frame_stack"), "train.frame_stack");
    x.pad_seq_length = typed<bool>(t.at("pad_seq_length"), "train.pad_seq_length");
    x.pad_frame_stack = typed<bool>(t.at("pad_frame_stack"), "train.pad_frame_stack");
    x.goal_mode = detail::string_or_empty(t.at("goal_mode"), "train.goal_mode");
    x.batch_size = typed<int64_t>(t.at("batch_size"), "train.batch_size");
    x.num_epochs = typed<int64_t>(t.at("num_epochs"), "train.num_epochs");
    x.seed = typed<uint64_t>(t.at("seed"), "train.seed");
    x.cuda = typed<bool>(t.at("cuda"), "train.cuda");
    x.max_grad_norm = detail::optional_of<double>(t.at("max_grad_norm"), "train.max_grad_norm");
    x.action_keys = typed<std::vector<std::string>>(t.at("action_keys"), "train.action_keys");
    x.action_config = t.at("action_config");
    return x;
  }
};

// Observation keys by modality: the obs keys, and the subgoal keys a planner predicts (goal
// observations are not used). A hierarchical config keeps one observation section per part
// (observation.planner, observation.actor, observation.value_planner.{planner, value}): the
// dataset then loads the union of the parts' keys, each once.
struct ObservationConfig {
  std::vector<std::string> low_dim, rgb;

  // Every key, low_dim first, in the order the config lists them.
  std::vector<std::string> keys() const {
    std::vector<std::string> k = low_dim;
    k.insert(k.end(), rgb.begin(), rgb.end());
    return k;
  }
  std::set<std::string> rgb_set() const { return {rgb.begin(), rgb.end()}; }

  static ObservationConfig from_json(const json& o) {
    ObservationConfig x;
    if (o.contains("modalities")) {
      x.add_section(o, "observation");
    } else {
      x.add_parts(o, "observation");
      if (x.low_dim.empty() && x.rgb.empty())
        throw ValueError("observation: no 'modalities' section and no part with one");
    }
    if (x.keys().empty()) throw ValueError("observation.modalities.obs: no observation keys");
    return x;
  }

 private:
  // The obs (and subgoal) keys of one section with modalities at `path`.
  void add_section(const json& o, const std::string& path) {
    const json& mods = o.at("modalities");
    for (const char* group : {"obs", "subgoal"}) {
      if (!mods.contains(group)) continue;
      const std::string at = path + ".modalities." + group;
      auto list = [&](const char* modality) {
        const json& g = mods.at(group);
        if (!g.contains(modality) || g.at(modality).is_null()) return std::vector<std::string>();
        return typed<std::vector<std::string>>(g.at(modality), at + "." + modality);
      };
      for (const char* m : {"depth", "scan"})
        if (!list(m).empty())
          throw UnsupportedError(at + "." + m +
                                 ": depth and scan observations are not supported (use low_dim "
                                 "or rgb)");
      std::vector<std::string> seen;
      for (const char* m : {"low_dim", "rgb"})
        for (const std::string& k : list(m)) {
          if (std::find(seen.begin(), seen.end(), k) != seen.end())
            throw ValueError(at + ": key '" + k + "' is listed twice");
          seen.push_back(k);
          auto& dst = std::string(m) == "rgb" ? rgb : low_dim;
          auto& other = std::string(m) == "rgb" ? low_dim : rgb;
          if (std::find(other.begin(), other.end(), k) != other.end())
            throw ValueError(at + ": key '" + k + "' is listed as low_dim in one place and rgb " +
                             "in another");
          if (std::find(dst.begin(), dst.end(), k) == dst.end()) dst.push_back(k);
        }
    }
  }
  // Every part of a hierarchical observation section (sections with modalities, at any depth).
  void add_parts(const json& o, const std::string& path) {
    for (const auto& [name, part] : o.items()) {
      if (!part.is_object()) continue;
      if (part.contains("modalities"))
        add_section(part, path + "." + name);
      else if (name != "encoder")
        add_parts(part, path + "." + name);
    }
  }

 public:
};

// The shared sections of a merged config; the algo section stays JSON for the algorithm's spec.
struct RunConfig {
  std::string algo_name;
  ExperimentConfig experiment;
  TrainConfig train;
  ObservationConfig observation;

  static RunConfig from_json(const json& c) {
    RunConfig x;
    x.algo_name = typed<std::string>(c.at("algo_name"), "algo_name");
    x.experiment = ExperimentConfig::from_json(c.at("experiment"));
    x.train = TrainConfig::from_json(c.at("train"));
    x.observation = ObservationConfig::from_json(c.at("observation"));
    return x;
  }
};

}  // namespace mimic::config
