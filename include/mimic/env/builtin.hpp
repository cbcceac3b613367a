#pragma once
// The environments mimic ships, Push-T and Lift (both on MuJoCo), as a registry; and make_env,
// the one-call form for programs that need no environment of their own.
#include <memory>
#include <nlohmann/json.hpp>

#include "mimic/env/lift/env.hpp"
#include "mimic/env/pusht/env.hpp"
#include "mimic/env/registry.hpp"

namespace mimic::env {

// Factories from robomimic env_kwargs (see EnvFactory); images >= 0 overrides env_kwargs.
inline std::unique_ptr<Env> make_pusht(const nlohmann::json& kwargs, int images) {
  PushTConfig cfg = PushTConfig::from_json(kwargs);
  if (images >= 0) cfg.images = images != 0;
  return std::make_unique<PushT>(cfg);
}
inline std::unique_ptr<Env> make_lift(const nlohmann::json& kwargs, int images) {
  LiftConfig cfg;
  cfg.use_camera_obs = kwargs.value("use_camera_obs", cfg.use_camera_obs);
  cfg.camera_size = kwargs.value("camera_heights", cfg.camera_size);
  cfg.horizon = kwargs.value("horizon", cfg.horizon);
  if (images >= 0) cfg.use_camera_obs = images != 0;
  return std::make_unique<LiftEnv>(cfg);
}

inline EnvRegistry builtin_envs() {
  EnvRegistry r;
  r.add("PushT", make_pusht);
  r.add("Lift", make_lift);
  return r;
}

// An environment from a dataset's robomimic env_args, among the built-in ones.
inline std::unique_ptr<Env> make_env(const nlohmann::json& env_args, int images = -1) {
  return builtin_envs().make(env_args, images);
}

}  // namespace mimic::env
