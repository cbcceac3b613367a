#pragma once
// Rollouts of a trained policy in the environment a dataset came from, the one set-up that
// training (every experiment.rollout.rate epochs) and `mimic eval` share: the environment from
// the registry by env_args (plus v0.5's env_meta_update_dict), camera observations when the
// policy reads images, seeded episodes over several environments, an optional video and record.
#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/env/registry.hpp"
#include "mimic/env/runner.hpp"
#include "mimic/policy/core/rollout.hpp"

namespace mimic::train {

struct RolloutRequest {
  int64_t n = 50;         // episodes
  int64_t horizon = 400;  // steps per episode at most
  bool terminate_on_success = true;
  uint64_t first_seed = 100000;    // episode i resets with first_seed + i
  int64_t n_envs = 0;              // environments stepped together (0: min(n, 8))
  std::string video_path, camera;  // "" = no video / the default camera
  int64_t video_skip = 5;
  bool record = false;  // keep states, observations and actions (for a dataset)
};

// env_args as stored with the dataset, with robomimic v0.5's env_meta_update_dict merged in.
inline nlohmann::json rollout_env_args(nlohmann::json env_args, const nlohmann::json& update) {
  if (update.is_object() && !update.empty()) env_args.merge_patch(update);
  return env_args;
}

// Checks before training that rollouts can run in this environment.
inline void require_env(const env::EnvRegistry& envs, const nlohmann::json& env_args) {
  const std::string name = env_args.value("env_name", std::string());
  if (!envs.contains(name)) {
    std::string known;
    for (const auto& n : envs.names()) known += (known.empty() ? "" : ", ") + n;
    throw ValueError("experiment.rollout.enabled: the dataset's environment '" + name +
                     "' is not registered (registered: " + (known.empty() ? "none" : known) +
                     "); give the trainer an EnvRegistry with it, or disable rollouts");
  }
}

// What rollouts run in, said once: "environment: mimic's PushT (mimic-pusht-2)", and a warning
// when the dataset was recorded in another version of the task (robosuite's Lift is "1.4.1"; an
// older mimic's Push-T "mimic-pusht-1"), whose observations and physics are not the same.
inline std::vector<std::string> rollout_env_lines(const env::EnvRegistry& envs,
                                                  const nlohmann::json& env_args) {
  const std::string name = env_args.value("env_name", std::string());
  const nlohmann::json mine = envs.make(env_args, 0)->env_args();
  const std::string ours = mine.value("env_version", std::string("unversioned"));
  std::vector<std::string> lines{"environment: mimic's " + name + " (" + ours + ")"};
  const auto theirs = env_args.find("env_version");
  if (theirs != env_args.end() && theirs->is_string() && theirs->get<std::string>() != ours)
    lines.push_back("warning: the dataset's " + name + " is version '" +
                    theirs->get<std::string>() + "', not mimic's '" + ours +
                    "': rollouts run mimic's own task, whose observations and physics may differ");
  return lines;
}

inline env::RunnerResult run_rollouts(policy::AnyPolicy& pol, const env::EnvRegistry& envs,
                                      const nlohmann::json& env_args, const RolloutRequest& r) {
  env::RunnerOptions opt;
  opt.horizon = int(r.horizon);
  opt.terminate_on_success = r.terminate_on_success;
  for (int64_t i = 0; i < r.n; ++i) opt.seeds.push_back(r.first_seed + uint64_t(i));
  opt.n_envs = int(r.n_envs > 0 ? r.n_envs : std::min<int64_t>(r.n, 8));
  opt.video_path = r.video_path;
  opt.video_skip = int(r.video_skip);
  opt.camera = r.camera;
  opt.record = r.record;
  policy::PolicyRollout adapter(pol);
  const int images = policy::needs_images(pol.shape_meta()) ? 1 : 0;
  opt.parallel = images == 0;  // off-screen rendering stays on one thread
  return env::run_episodes([&] { return envs.make(env_args, images); }, adapter, opt);
}

}  // namespace mimic::train
