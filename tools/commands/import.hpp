#pragma once
// `mimic import --from robomimic|diffusion_policy|lerobot CKPT --output OUT.safetensors`: a
// checkpoint of another framework (for LeRobot, a save_pretrained folder) as a mimic checkpoint
// that `mimic eval` and policy_from_checkpoint run.
// `mimic export --to robomimic IN.safetensors --output model.pth`: the reverse, a checkpoint
// robomimic 0.3.0's policy_from_checkpoint loads.
#include <iostream>
#include <map>
#include <optional>
#include <string>

#include "commands/flags.hpp"
#include "mimic/env/pusht/env.hpp"
#include "mimic/interop/diffusion_policy_checkpoint.hpp"
#include "mimic/interop/lerobot_checkpoint.hpp"
#include "mimic/interop/robomimic_checkpoint.hpp"
#include "mimic/interop/robomimic_export.hpp"

namespace mimic::cli {

// Diffusion Policy's Push-T tasks run in mimic's Push-T, which takes the pixel target scaled to
// [-1, 1]: the low-dim task (9 keypoints and the agent position in pixels, 20 values, as mimic's
// `obs`) and the image task (a 96x96 camera image and agent_pos; mimic renders its own scene,
// which is not pixel for pixel DP's pygame drawing). Other tasks keep DP's units and no
// environment.
inline std::optional<interop::DiffusionPolicyTarget> diffusion_policy_target(
    const nlohmann::json& cfg) {
  const nlohmann::json task = cfg.value("task", nlohmann::json::object());
  if (!task.is_object()) return std::nullopt;
  const std::string name = task.value("name", std::string());
  const bool lowdim =
      name == "pusht_lowdim" && task.value("obs_dim", 0) == 20 && task.value("action_dim", 0) == 2;
  const bool image = name == "pusht_image";
  if (!lowdim && !image) return std::nullopt;
  interop::DiffusionPolicyTarget t;
  env::PushTConfig config;
  config.images = image;
  t.env_args = env::PushT(config).env_args();
  const double scale = env::pusht::target_to_action(1.0) - env::pusht::target_to_action(0.0);
  t.action_scale = {scale, scale};
  t.action_offset = {env::pusht::target_to_action(0.0), env::pusht::target_to_action(0.0)};
  return t;
}

// A LeRobot run on gym-pusht (train_config.json's env: pusht) runs in mimic's Push-T, which takes
// the pixel target scaled to [-1, 1] and observes agent_pos plus, by the run's obs_type, the same
// environment_state (the T's 8 vertices; environment_state_agent_pos) or a top camera image
// (pixels_agent_pos; mimic renders its own scene, not gym-pusht's pygame drawing pixel for
// pixel). Other runs keep LeRobot's names and units and no environment.
inline std::optional<interop::LerobotTarget> lerobot_target(
    const interop::LerobotPolicyFolder& folder) {
  const nlohmann::json& train = folder.train_config;
  if (!train.is_object() || !train.contains("env") || !train["env"].is_object())
    return std::nullopt;
  const nlohmann::json& e = train["env"];
  const std::string obs_type = e.value("obs_type", std::string());
  if (e.value("type", std::string()) != "pusht" ||
      (obs_type != "environment_state_agent_pos" && obs_type != "pixels_agent_pos"))
    return std::nullopt;
  const bool pixels = obs_type == "pixels_agent_pos";
  // gym-pusht's keys as LeRobot names them (the env config's features_map, or its defaults),
  // and mimic's name for each.
  std::map<std::string, std::pair<std::string, std::string>> lerobot_name = {
      {"agent_pos", {"observation.state", "agent_pos"}}};
  if (pixels)
    lerobot_name["pixels"] = {"observation.image", "image"};
  else
    lerobot_name["environment_state"] = {"observation.environment_state", "environment_state"};
  if (e.contains("features_map") && e["features_map"].is_object())
    for (auto& [env_key, names] : lerobot_name)
      if (e["features_map"].contains(env_key) && e["features_map"][env_key].is_string())
        names.first = e["features_map"][env_key].get<std::string>();
  interop::LerobotTarget t;
  for (const auto& [env_key, names] : lerobot_name) t.key_names[names.first] = names.second;
  env::PushTConfig config;
  if (pixels) {  // mimic's camera renders the policy's square image size
    const std::string image = lerobot_name.at("pixels").first;
    const nlohmann::json& f = folder.config.value("input_features", nlohmann::json::object());
    const std::vector<int64_t> shape =
        f.contains(image) && f[image].contains("shape") && f[image]["shape"].is_array()
            ? f[image]["shape"].get<std::vector<int64_t>>()
            : std::vector<int64_t>();
    if (shape.size() != 3 || shape[0] != 3 || shape[1] != shape[2])
      throw ValueError(folder.dir + "/config.json: Push-T's camera " + image + " has shape " +
                       nlohmann::json(shape).dump() + ", expected [3, N, N]");
    config.images = true;
    config.image_size = int(shape[1]);
  }
  t.env_args = env::PushT(config).env_args();
  const double scale = env::pusht::target_to_action(1.0) - env::pusht::target_to_action(0.0);
  t.action_scale = {scale, scale};
  t.action_offset = {env::pusht::target_to_action(0.0), env::pusht::target_to_action(0.0)};
  return t;
}

inline int import_checkpoint(const Flags& flags, const policy::AlgorithmRegistry& algorithms) {
  flags.check_known({"from", "input", "output"});
  const std::string from = flags.require("from");
  if (from != "robomimic" && from != "diffusion_policy" && from != "lerobot")
    throw ValueError(
        "--from: expected robomimic (a robomimic 0.3.0 .pth checkpoint), diffusion_policy (a "
        "Diffusion Policy workspace .ckpt) or lerobot (a folder written by a LeRobot policy's "
        "save_pretrained), got '" +
        from + "'");
  if (!flags.has("input"))
    throw ValueError("missing the checkpoint: mimic import --from " + from +
                     " CKPT --output OUT.safetensors");
  const std::string input = flags.get("input"), output = flags.require("output");
  const interop::ImportedPolicy p =
      from == "robomimic" ? interop::import_robomimic_policy(input, algorithms)
      : from == "lerobot"
          ? interop::import_lerobot_policy(input, algorithms, lerobot_target)
          : interop::import_diffusion_policy(input, algorithms, diffusion_policy_target);
  interop::save_imported(p, input, output);
  if (from == "lerobot")
    std::cout << "wrote " << output << ": LeRobot diffusion as " << p.policy->algo_name()
              << " (observations " << nlohmann::json(p.policy->shape_meta().row_keys()).dump()
              << (p.env_args.is_null() ? " in their units, actions in the dataset's)" : ")");
  else if (from == "robomimic")
    std::cout << "wrote " << output << ": robomimic " << p.config.value("algo_name", "") << " as "
              << p.policy->algo_name();
  else
    std::cout << "wrote " << output << ": Diffusion Policy "
              << p.config["experiment"].value("name", "") << " as " << p.policy->algo_name()
              << (p.config["algo"]["ema"].value("enabled", false) ? " (EMA weights act)" : "");
  std::cout << ", " << p.tensors << " tensors, " << p.policy->parameter_count() << " parameters";
  if (p.env_args.is_object() && p.env_args.contains("env_name"))
    std::cout << ", environment " << p.env_args.value("env_name", std::string());
  std::cout << "\n";
  return 0;
}

inline int export_checkpoint(const Flags& flags, const policy::AlgorithmRegistry& algorithms) {
  flags.check_known({"to", "input", "output"});
  const std::string to = flags.require("to");
  if (to != "robomimic")
    throw ValueError("--to: expected robomimic (a robomimic 0.3.0 .pth checkpoint), got '" + to +
                     "'");
  if (!flags.has("input"))
    throw ValueError(
        "missing the checkpoint: mimic export --to robomimic IN.safetensors --output "
        "model.pth");
  const std::string input = flags.get("input"), output = flags.require("output");
  const interop::RobomimicExport e =
      interop::export_robomimic_checkpoint(input, output, algorithms);
  std::cout << "wrote " << output << ": mimic " << e.algorithm << " as robomimic bc, " << e.tensors
            << " tensors\n";
  return 0;
}

}  // namespace mimic::cli
