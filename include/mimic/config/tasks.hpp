#pragma once
// The task and observation settings that published configs share: dataset path, rollout
// horizon, observation keys of Lift and Push-T, and robomimic's image recipe (batch 16, 600 epochs
// of 500 steps, rollouts every 20, ResNet18 + SpatialSoftmax with 32 keypoints, random crops).
// Each algorithm's spec adds its own settings on top (policy/*/spec.hpp).
#include <string>
#include <vector>

#include "mimic/config/schema.hpp"

namespace mimic::config {

// `c` (an algorithm's defaults) set up for `task` ("lift" | "pusht") and `obs_type`
// ("low_dim" | "image"), named "<label>_<task>_<obs_type>".
inline json for_task(json c, const std::string& label, const std::string& task,
                     const std::string& obs_type, const std::string& dataset_dir) {
  const bool image = obs_type == "image", lift = task == "lift";
  c["experiment"]["name"] = label + "_" + task + "_" + obs_type;
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
  if (image) {
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
  return c;
}

inline std::vector<std::string> published_tasks() { return {"lift", "pusht"}; }
inline std::vector<std::string> published_obs_types() { return {"low_dim", "image"}; }

}  // namespace mimic::config
