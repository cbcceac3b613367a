#pragma once
// A run's data: the training (and validation) sequence datasets from the typed config, the shape
// metadata the policy is built for, and the dataset's environment metadata. The sampled window
// must cover what the algorithm slices from it (its spec's window_steps).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/config/run_config.hpp"
#include "mimic/data/sequence_dataset.hpp"
#include "mimic/policy/core/algorithm.hpp"
#include "mimic/policy/core/features.hpp"

namespace mimic::train {

// transitions: the algorithm learns from (s, a, r, s', done) (its spec's uses_transitions).
inline data::SequenceDatasetOptions dataset_options(const config::RunConfig& rc,
                                                    const std::string& filter_key,
                                                    bool transitions = false) {
  const config::TrainConfig& t = rc.train;
  data::SequenceDatasetOptions o;
  o.path = t.data;
  o.obs_keys = rc.observation.keys();
  o.dataset_keys = {"actions"};
  if (transitions) o.dataset_keys = {"actions", "rewards", "dones"};
  o.filter_key = filter_key;
  o.seq_length = t.seq_length;
  o.frame_stack = t.frame_stack;
  o.pad_seq_length = t.pad_seq_length;
  o.pad_frame_stack = t.pad_frame_stack;
  o.goal_mode = t.goal_mode;
  o.load_next_obs = t.hdf5_load_next_obs && (transitions || !o.goal_mode.empty());
  o.cache_mode = t.hdf5_cache_mode.empty() ? "none" : t.hdf5_cache_mode;
  return o;
}

struct TrainingData {
  std::unique_ptr<data::SequenceDataset> train, valid;  // valid: when experiment.validate
  policy::ShapeMeta meta;
  nlohmann::json env_args;

  static TrainingData open(const config::RunConfig& rc, const nlohmann::json& config,
                           const policy::AlgorithmSpec& spec) {
    if (spec.window_steps) {
      const int64_t need = spec.window_steps(config), window = rc.train.window();
      if (window < need)
        throw ValueError("train.seq_length / train.frame_stack: the sampled window of " +
                         std::to_string(window) + " steps is shorter than the " +
                         std::to_string(need) + " steps " + spec.name + " needs");
    }
    if (spec.uses_transitions && !rc.train.hdf5_load_next_obs)
      throw ValueError("train.hdf5_load_next_obs is false, but " + spec.name +
                       " learns from next observations: set it to true");
    TrainingData d;
    d.train = std::make_unique<data::SequenceDataset>(
        dataset_options(rc, rc.train.hdf5_filter_key, spec.uses_transitions));
    if (rc.experiment.validate) {
      if (rc.train.hdf5_validation_filter_key.empty())
        throw ValueError(
            "experiment.validate is true but train.hdf5_validation_filter_key is not set");
      d.valid = std::make_unique<data::SequenceDataset>(
          dataset_options(rc, rc.train.hdf5_validation_filter_key, spec.uses_transitions));
    }
    const auto shapes = d.train->obs_shapes();
    for (const std::string& k : rc.observation.keys()) d.meta.obs_shapes[k] = shapes.at(k);
    d.meta.rgb_keys = rc.observation.rgb_set();
    d.meta.action_dim = d.train->action_dim();
    d.meta.validate();
    d.env_args = data::parse_env_args(rc.train.data, d.train->env_args());
    return d;
  }
};

}  // namespace mimic::train
