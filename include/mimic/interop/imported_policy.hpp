#pragma once
// What every import (robomimic, Diffusion Policy, LeRobot) produces and checks: the imported
// policy with what its mimic checkpoint needs, the one-to-one match between the file's renamed
// tensors and the policy's weights, an environment's action units folded into the action
// statistics, and the diffusers noise scheduler and Adam settings of the diffusion importers.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mimic/core/error.hpp"
#include "mimic/policy/core/checkpoint.hpp"

namespace mimic::interop {

// A policy that computes what the imported file computes, with everything needed to save it as a
// mimic checkpoint.
struct ImportedPolicy {
  std::string format = "robomimic";  // where it came from: robomimic, diffusion_policy, lerobot
  std::unique_ptr<policy::Policy<float, Cpu>> policy;
  nlohmann::json config;  // merged over mimic's defaults
  nlohmann::json env_args;
  int64_t schedule_units = 0;
  size_t tensors = 0;  // tensors read from the file
};

// The learning-rate schedule's length for further training of an imported policy: the run's
// epochs, in batches (epoch_every_n_steps, else 100 per epoch) when the schedule counts batches.
inline int64_t imported_schedule_units(const nlohmann::json& config) {
  const int64_t epochs = config.at("train").value("num_epochs", int64_t(1));
  const auto& every = config.at("experiment").value("epoch_every_n_steps", nlohmann::json());
  return policy::schedule_counts_batches(config)
             ? epochs * (every.is_number_integer() ? every.get<int64_t>() : 100)
             : epochs;
}

// Writes the mimic checkpoint (atomically) that `mimic eval` and policy_from_checkpoint run.
inline void save_imported(const ImportedPolicy& p, const std::string& source_path,
                          const std::string& out_path) {
  nlohmann::json extra = {{"imported_from", {{"format", p.format}, {"path", source_path}}}};
  if (!p.env_args.is_null()) extra["trainer"] = {{"env_args", p.env_args}};
  policy::save_checkpoint(out_path, *p.policy, p.config, p.schedule_units, extra);
}

// The renamed tensors must be exactly the policy's weights: one the policy has no place for, or a
// weight no tensor gives, is an error naming it (`describe` names a renamed tensor as the file
// does, quoted; `holder` is what lacks a weight, "the checkpoint").
inline void expect_weights_match(
    const std::map<std::string, Tensor<float>>& renamed, const policy::AnyPolicy& p,
    const std::string& where, const std::string& holder,
    const std::function<std::string(const std::string&)>& describe = {}) {
  const std::vector<std::string> names = p.weight_names();
  for (const auto& [name, t] : renamed)
    if (std::find(names.begin(), names.end(), name) == names.end())
      throw IoError(where + ": tensor " + (describe ? describe(name) : "'" + name + "'") +
                    " has no place in mimic's " + p.algo_name() + " policy built from its config");
  for (const std::string& n : names)
    if (!renamed.count(n))
      throw IoError(where + ": mimic's " + p.algo_name() + " policy needs '" + n + "', which " +
                    holder + " does not hold");
}

// An environment's action units a = scale * a' + offset, with a' in the file's units, folded
// into the action statistics (unnormalized = y * scale + offset).
inline void fold_action_units(policy::Normalization& norm, const std::vector<double>& scale,
                              const std::vector<double>& offset, const std::string& where) {
  const size_t dims = norm.action.scale.size();
  if (scale.size() != dims || offset.size() != dims)
    throw ValueError(where + ": the target environment's action map has " +
                     std::to_string(scale.size()) + " dims, the policy " + std::to_string(dims));
  for (size_t d = 0; d < dims; ++d) {
    norm.action.offset[d] = scale[d] * norm.action.offset[d] + offset[d];
    norm.action.scale[d] *= scale[d];
  }
}

// A diffusers DDPMScheduler or DDIMScheduler as the original built it.
struct DiffusersScheduler {
  bool ddim = false;
  nlohmann::json train_steps, inference_steps;
  std::string beta_schedule = "squaredcos_cap_v2";
  bool clip_sample = true;
  std::string prediction_type = "epsilon";
  bool set_alpha_to_one = true;  // DDIM only
  nlohmann::json steps_offset = 0;

  // mimic's algo.ddpm / algo.ddim: the one in use enabled, with diffusers' float32 tables, as
  // the original sampled with them.
  void write_to(nlohmann::json& algo) const {
    nlohmann::json& s = algo[ddim ? "ddim" : "ddpm"];
    algo["ddpm"]["enabled"] = !ddim;
    algo["ddim"]["enabled"] = ddim;
    s["num_train_timesteps"] = train_steps;
    s["num_inference_timesteps"] = inference_steps;
    s["beta_schedule"] = beta_schedule;
    s["clip_sample"] = clip_sample;
    s["float32_tables"] = true;
    s["prediction_type"] = prediction_type;
    if (ddim) {
      s["set_alpha_to_one"] = set_alpha_to_one;
      s["steps_offset"] = steps_offset;
    }
  }
};

// mimic's beta schedules other than squaredcos_cap_v2 use diffusers' default range.
inline void expect_default_beta_range(const std::string& schedule, double beta_start,
                                      double beta_end, const std::string& where) {
  if (schedule != "squaredcos_cap_v2" && (beta_start != 1e-4 || beta_end != 0.02))
    throw UnsupportedError(where + ": a " + schedule +
                           " schedule with beta_start/beta_end other than 1e-4/0.02");
}

// The original's Adam(W) settings, where it names them (null: mimic's default stays).
inline void write_adam(nlohmann::json& algo, const nlohmann::json& lr, const nlohmann::json& betas,
                       const nlohmann::json& weight_decay, const nlohmann::json& warmup_steps) {
  nlohmann::json& p = algo["optim_params"]["policy"];
  if (!lr.is_null()) p["learning_rate"]["initial"] = lr;
  if (!betas.is_null()) p["betas"] = betas;
  if (!weight_decay.is_null()) p["regularization"]["L2"] = weight_decay;
  if (!warmup_steps.is_null()) p["learning_rate"]["warmup_steps"] = warmup_steps;
}

// observation.encoder.rgb for robomimic's VisualCore as the originals build it: ResNet18Conv, a
// spatial softmax of `keypoints` (temperature 1, fixed, no noise), a linear layer to `features`,
// and a crop of (height, width), random in training and centred at evaluation, or none.
inline void write_visual_core(nlohmann::json& rgb, int64_t keypoints, int64_t features,
                              const std::optional<std::pair<int64_t, int64_t>>& crop) {
  rgb["core_kwargs"] = {{"feature_dimension", features},
                        {"backbone_class", "ResNet18Conv"},
                        {"pool_class", "SpatialSoftmax"},
                        {"pool_kwargs",
                         {{"num_kp", keypoints},
                          {"temperature", 1.0},
                          {"learnable_temperature", false},
                          {"noise_std", 0.0}}}};
  if (crop) {
    rgb["obs_randomizer_class"] = "CropRandomizer";
    rgb["obs_randomizer_kwargs"] = {
        {"crop_height", crop->first}, {"crop_width", crop->second}, {"num_crops", 1}};
  } else {
    rgb["obs_randomizer_class"] = nullptr;
  }
}

}  // namespace mimic::interop
