#pragma once
// The environment interface shared by the simulated tasks (Push-T, Lift): robomimic-style
// observations, flattened simulator states and rollouts, independent of the physics engine.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mimic::env {

struct ObsSpec {
  std::string key;
  std::vector<int64_t> shape;
  bool is_image = false;  // images uint8 HWC
};

struct Observation {  // one time step
  std::map<std::string, std::vector<float>> low_dim;
  std::map<std::string, std::vector<uint8_t>> images;  // H*W*3, rows top-down
};

struct StepResult {
  double reward = 0;
  bool done = false;
  bool success = false;
};

class Env {
 public:
  virtual ~Env() = default;
  virtual std::string name() const = 0;  // "PushT", "Lift"
  // robomimic env_args: env_name, env_version, type, env_kwargs
  virtual nlohmann::json env_args() const = 0;
  virtual int action_dim() const = 0;
  virtual std::vector<ObsSpec> observation_specs() const = 0;
  virtual void reset(uint64_t seed) = 0;  // deterministic for a seed
  virtual void reset_to(const std::vector<double>& state) = 0;
  // Flattened simulator state (robomimic `states`).
  virtual std::vector<double> get_state() const = 0;
  // Throws ValueError on NaN / wrong length.
  virtual StepResult step(const std::vector<float>& action) = 0;
  virtual Observation observe() const = 0;  // low-dim keys (+ images when enabled)
  virtual bool is_success() const = 0;
  virtual std::vector<std::string> cameras() const = 0;
  // RGB HWC, rows top-down.
  virtual std::vector<uint8_t> render(const std::string& camera, int width, int height) = 0;
  virtual int horizon() const = 0;  // default episode length (300 / 400)
  // The scene as MJCF for a demo's `model_file` (robosuite's datasets carry one per demo); empty
  // where the environment has no such scene.
  virtual std::string model_file() const { return {}; }
};

}  // namespace mimic::env
