#pragma once
// The sections every algorithm shares (experiment, train, observation, meta) as robomimic's
// current schema (v0.5) defines them; each algorithm's spec adds its "algo" section. The keys
// v0.5 added to v0.3 are written to configs only when set (shared_extension_keys), so what mimic
// writes loads in robomimic 0.3.0 as well.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/config/schema.hpp"

namespace mimic::config {

inline json encoder_defaults(json core_class, json core_kwargs, json randomizer_kwargs) {
  return {{"core_class", core_class},
          {"core_kwargs", core_kwargs},
          {"obs_randomizer_class", nullptr},
          {"obs_randomizer_kwargs", randomizer_kwargs}};
}

inline json shared_defaults(const std::string& algo_name) {
  json experiment = {{"name", "test"},
                     {"validate", false},
                     {"logging",
                      {{"terminal_output_to_txt", true},
                       {"log_tb", true},
                       {"log_wandb", false},
                       {"wandb_proj_name", "debug"}}},
                     {"save",
                      {{"enabled", true},
                       {"every_n_seconds", nullptr},
                       {"every_n_epochs", 50},
                       {"epochs", json::array()},
                       {"on_best_validation", false},
                       {"on_best_rollout_return", false},
                       {"on_best_rollout_success_rate", true}}},
                     {"epoch_every_n_steps", 100},
                     {"validation_epoch_every_n_steps", 10},
                     {"env", nullptr},
                     {"additional_envs", nullptr},
                     {"render", false},
                     {"render_video", true},
                     {"keep_all_videos", false},
                     {"video_skip", 5},
                     {"ckpt_path", nullptr},
                     {"env_meta_update_dict", json::object()},
                     {"rollout",
                      {{"enabled", true},
                       {"n", 50},
                       {"horizon", 400},
                       {"rate", 50},
                       {"warmstart", 0},
                       {"terminate_on_success", true}}}};
  json train = {{"data", nullptr},
                {"output_dir", "../" + algo_name + "_trained_models"},
                {"num_data_workers", 0},
                {"hdf5_cache_mode", "all"},
                {"hdf5_use_swmr", true},
                {"hdf5_load_next_obs", false},
                {"hdf5_normalize_obs", false},
                {"hdf5_filter_key", nullptr},
                {"hdf5_validation_filter_key", nullptr},
                {"seq_length", 1},
                {"pad_seq_length", true},
                {"frame_stack", 1},
                {"pad_frame_stack", true},
                {"dataset_keys", {"actions", "rewards", "dones"}},
                {"goal_mode", nullptr},
                {"cuda", true},
                {"batch_size", 100},
                {"num_epochs", 2000},
                {"seed", 1},
                {"max_grad_norm", nullptr},
                {"action_keys", {"actions"}},
                {"action_config", {{"actions", {{"normalization", nullptr}}}}},
                {"normalize_weights_by_ds_size", false}};
  json empty_mods = {{"low_dim", json::array()},
                     {"rgb", json::array()},
                     {"depth", json::array()},
                     {"scan", json::array()}};
  json obs_mods = empty_mods;
  obs_mods["low_dim"] = {"robot0_eef_pos", "robot0_eef_quat", "robot0_gripper_qpos", "object"};
  // robomimic fills the encoder kwargs at run time from its per-class defaults.
  json observation = {{"modalities", {{"obs", obs_mods}, {"goal", empty_mods}}},
                      {"encoder",
                       {{"low_dim", encoder_defaults(nullptr, json::object(), json::object())},
                        {"rgb", encoder_defaults("VisualCore", json::object(), json::object())},
                        {"depth", encoder_defaults("VisualCore", json::object(), json::object())},
                        {"scan", encoder_defaults("ScanCore", json::object(), json::object())}}}};
  json meta = {
      {"hp_base_config_file", nullptr}, {"hp_keys", json::array()}, {"hp_values", json::array()}};
  return {{"algo_name", algo_name}, {"experiment", experiment},   {"train", train},
          {"algo", json::object()}, {"observation", observation}, {"meta", meta}};
}

// Keys robomimic 0.3.0 lacks (v0.5 added them): written only when they differ from the default.
inline std::vector<std::string> shared_extension_keys() {
  return {"experiment.ckpt_path", "experiment.env_meta_update_dict",
          "train.max_grad_norm",  "train.action_keys",
          "train.action_config",  "train.normalize_weights_by_ds_size"};
}

// robomimic keys that change nothing in mimic; a config that sets one is told so once.
inline std::vector<std::string> shared_no_effect_keys() {
  return {"experiment.logging.log_wandb",
          "experiment.logging.wandb_proj_name",
          "experiment.render",
          "experiment.additional_envs",
          "train.hdf5_use_swmr",
          "train.normalize_weights_by_ds_size",
          "train.dataset_keys",
          "experiment.keep_all_videos"};
}

}  // namespace mimic::config
