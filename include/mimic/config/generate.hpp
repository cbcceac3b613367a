#pragma once
// Ready-to-run configs with the published settings for every algorithm x task x observation type
// (robomimic's paper configs for BC and BC-RNN, Diffusion Policy's and Implicit BC's for theirs).
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mimic/config/config.hpp"

namespace mimic::config {

struct GeneratedConfig {
  std::string name;  // file stem, e.g. "bc_rnn_lift_low_dim"
  json config;
};

inline json published_config(const std::string& algo, const std::string& task,
                             const std::string& obs_type, const std::string& dataset_dir) {
  const bool image = obs_type == "image", lift = task == "lift";
  json c = default_config(algo == "bc_rnn" ? "bc" : algo);
  const std::string name = algo + "_" + task + "_" + obs_type;
  c["experiment"]["name"] = name;
  c["train"]["data"] = dataset_dir + "/" + task + "_" + obs_type + ".hdf5";
  c["train"]["output_dir"] = "trained_models";
  c["train"]["hdf5_filter_key"] = "train";
  c["train"]["hdf5_validation_filter_key"] = "valid";
  c["experiment"]["rollout"]["horizon"] = lift ? 400 : 300;
  json& mods = c["observation"]["modalities"]["obs"];
  if (lift) {
    mods["low_dim"] =
        image ? json{"robot0_eef_pos", "robot0_eef_quat", "robot0_gripper_qpos"}
              : json{"robot0_eef_pos", "robot0_eef_quat", "robot0_gripper_qpos", "object"};
    mods["rgb"] = image ? json{"agentview_image", "robot0_eye_in_hand_image"} : json::array();
  } else {
    mods["low_dim"] = image ? json{"agent_pos"} : json{"obs"};
    mods["rgb"] = image ? json{"image"} : json::array();
  }
  if (image) {  // robomimic's image settings: batch 16, 600 epochs of 500 steps, rollouts every 20
    c["train"]["batch_size"] = 16;
    c["train"]["num_epochs"] = 600;
    c["experiment"]["epoch_every_n_steps"] = 500;
    c["experiment"]["rollout"]["rate"] = 20;
    c["train"]["hdf5_cache_mode"] = "low_dim";
    json& rgb = c["observation"]["encoder"]["rgb"];
    rgb["core_kwargs"] = {{"feature_dimension", 64},
                          {"backbone_class", "ResNet18Conv"},
                          {"pool_class", "SpatialSoftmax"},
                          {"pool_kwargs", {{"num_kp", 32}}}};
    rgb["obs_randomizer_class"] = "CropRandomizer";
    const int crop = lift ? 76 : 84;
    rgb["obs_randomizer_kwargs"] = {{"crop_height", crop}, {"crop_width", crop}, {"num_crops", 1}};
  }
  if (algo == "bc_rnn") {
    c["train"]["seq_length"] = 10;
    c["algo"]["actor_layer_dims"] = json::array();
    c["algo"]["rnn"] = {{"enabled", true},
                        {"horizon", 10},
                        {"hidden_dim", image ? 1000 : 400},
                        {"rnn_type", "LSTM"},
                        {"num_layers", 2},
                        {"open_loop", false},
                        {"kwargs", {{"bidirectional", false}}}};
    c["algo"]["gmm"]["enabled"] = true;
    c["algo"]["gmm"]["num_modes"] = 5;
  }
  if (algo == "diffusion_policy" || algo == "ibc") {
    c["experiment"]["rollout"]["n"] = 50;
    if (!image) c["train"]["batch_size"] = 256;
  }
  return c;
}

inline std::vector<GeneratedConfig> published_configs(const std::string& dataset_dir) {
  std::vector<GeneratedConfig> out;
  for (const char* algo : {"bc", "bc_rnn", "diffusion_policy", "ibc"})
    for (const char* task : {"lift", "pusht"})
      for (const char* obs : {"low_dim", "image"}) {
        json c = published_config(algo, task, obs, dataset_dir);
        out.push_back({c["experiment"]["name"].get<std::string>(), load_config(c)});
      }
  return out;
}

}  // namespace mimic::config
