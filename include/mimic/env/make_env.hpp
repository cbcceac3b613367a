#pragma once
// An environment from a dataset's robomimic `env_args` (env_name + env_kwargs), so that training,
// evaluation and playback recreate the task the demonstrations came from.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/env/lift.hpp"
#include "mimic/env/pusht.hpp"

namespace mimic::env {

// images: whether camera observations are wanted (overrides env_kwargs); -1 keeps the dataset's.
inline std::unique_ptr<Env> make_env(const nlohmann::json& env_args, int images = -1) {
  if (!env_args.is_object() || !env_args.contains("env_name") || !env_args["env_name"].is_string())
    throw ValueError("env_args: expected a JSON object with a string 'env_name', got " +
                     env_args.dump());
  const std::string name = env_args["env_name"].get<std::string>();
  const nlohmann::json kwargs = env_args.value("env_kwargs", nlohmann::json::object());
  if (name == "PushT") {
    PushTConfig cfg = PushTConfig::from_json(kwargs);
    if (images >= 0) cfg.images = images != 0;
    return std::make_unique<PushT>(cfg);
  }
  if (name == "Lift") {
    LiftConfig cfg;
    cfg.use_camera_obs = kwargs.value("use_camera_obs", cfg.use_camera_obs);
    cfg.camera_size = kwargs.value("camera_heights", cfg.camera_size);
    cfg.horizon = kwargs.value("horizon", cfg.horizon);
    if (images >= 0) cfg.use_camera_obs = images != 0;
    return std::make_unique<LiftEnv>(cfg);
  }
  throw ValueError("env_args.env_name: unknown environment '" + name +
                   "' (this build provides PushT and Lift)");
}

}  // namespace mimic::env
