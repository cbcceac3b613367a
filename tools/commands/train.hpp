#pragma once
// `mimic train`, `mimic eval` and `mimic generate-configs`, over the algorithm and environment
// registries they are given (the CLI passes mimic's built-in ones; tests add their own).
#include <filesystem>
#include <iostream>

#include "commands/flags.hpp"
#include "mimic/config/generate.hpp"
#include "mimic/env/builtin.hpp"
#include "mimic/env/episode.hpp"
#include "mimic/train/trainer.hpp"

namespace mimic::cli {

inline int train(const Flags& flags, const policy::AlgorithmRegistry& algorithms,
                 const env::EnvRegistry& envs) {
  flags.check_known({"config", "dataset", "name", "output_dir", "debug", "resume", "algo"});
  nlohmann::json cfg;
  if (flags.has("config")) {
    cfg = config::load_config_file(flags.require("config"), algorithms);
  } else if (flags.has("algo")) {  // defaults of an algorithm, for quick starts
    cfg = config::load_config({{"algo_name", flags.get("algo")}}, algorithms);
  } else {
    throw ValueError("train: give --config FILE (or --algo NAME for its defaults)");
  }
  train::TrainOverrides o;
  o.dataset = flags.get("dataset");
  o.name = flags.get("name");
  o.output_dir = flags.get("output_dir");
  o.debug = flags.has("debug");
  o.resume = flags.has("resume");
  train::Trainer trainer(cfg, o, algorithms, envs);
  const train::TrainSummary s = trainer.run();
  std::cout << "run folder: " << s.run_dir << "\nlog: " << s.log_path
            << "\nlast checkpoint: " << s.last_checkpoint << "\n";
  if (!s.best_checkpoint.empty()) std::cout << "best checkpoint: " << s.best_checkpoint << "\n";
  if (!s.video_path.empty()) std::cout << "video: " << s.video_path << "\n";
  if (!s.last_rollout.is_null()) std::cout << "last rollout: " << s.last_rollout.dump() << "\n";
  return 0;
}

inline int eval(const Flags& flags, const policy::AlgorithmRegistry& algorithms,
                const env::EnvRegistry& envs) {
  flags.check_known({"agent", "n_rollouts", "horizon", "env", "video_path", "video_skip", "seed",
                     "dataset_path", "n_envs", "camera", "device"});
  const std::string path = flags.require("agent");
  const policy::Checkpoint ck = policy::load_checkpoint(path);
  // The device: --device, else the checkpoint's train.cuda (CPU fallback said once).
  const std::string asked_by = flags.has("device") ? "--device" : "the checkpoint's train.cuda";
  const bool stored_cuda =
      ck.meta.at("config").value("train", nlohmann::json::object()).value("cuda", true);
  const policy::DeviceKind device =
      flags.has("device") ? policy::parse_device(flags.get("device"), "--device")
                          : (stored_cuda ? policy::DeviceKind::kCuda : policy::DeviceKind::kCpu);
  const policy::Placement placed = policy::policy_from_checkpoint_on(device, ck, path, algorithms);
  std::cerr << policy::placement_line(placed, asked_by) << "\n";
  policy::AnyPolicy* pol = placed.policy.get();
  nlohmann::json env_args = ck.meta.contains("trainer")
                                ? ck.meta["trainer"].value("env_args", nlohmann::json())
                                : nlohmann::json();
  if (flags.has("env")) {
    std::string e = flags.get("env");
    if (e == "pusht") e = "PushT";
    if (e == "lift") e = "Lift";
    env_args = nlohmann::json{{"env_name", e}};
  }
  if (env_args.is_null())
    throw ValueError(path + ": the checkpoint names no environment; pass --env pusht|lift");
  const config::RunConfig rc =
      config::RunConfig::from_json(config::load_config(ck.meta.at("config"), algorithms));
  train::RolloutRequest req;
  req.n = int64_t(flags.number("n_rollouts", 27));
  req.horizon = int64_t(flags.number("horizon", double(rc.experiment.rollout.horizon)));
  req.terminate_on_success = rc.experiment.rollout.terminate_on_success;
  req.first_seed = uint64_t(flags.number("seed", 100000));
  req.n_envs = int64_t(flags.number("n_envs", double(std::min<int64_t>(req.n, 8))));
  req.video_path = flags.get("video_path");
  req.video_skip = int64_t(flags.number("video_skip", 5));
  req.camera = flags.get("camera");
  req.record = flags.has("dataset_path");
  const int images = policy::needs_images(pol->shape_meta()) ? 1 : 0;
  for (const std::string& l : train::rollout_env_lines(envs, env_args)) std::cerr << l << "\n";
  const env::RunnerResult r = train::run_rollouts(*pol, envs, env_args, req);
  for (size_t i = 0; i < r.episodes.size(); ++i) {
    const auto& e = r.episodes[i];
    std::cout << "episode " << i << " (seed " << e.seed << "): return " << e.ret << ", horizon "
              << e.horizon << ", success " << e.success << ", max reward " << e.max_reward << "\n";
  }
  std::cout << r.to_json().dump(4) << "\n";
  if (req.record) {
    const std::string out = flags.get("dataset_path");
    data::RobomimicWriter w(out, envs.make(env_args, images)->env_args().dump());
    for (size_t i = 0; i < r.episodes.size(); ++i) {
      const auto& rec = r.episodes[i].record;
      w.add_demo(env::make_demo("demo_" + std::to_string(i), rec.states, rec.obs, rec.actions,
                                rec.rewards, rec.dones));
    }
    w.finish();
    std::cout << "wrote rollouts to " << out << "\n";
  }
  if (!req.video_path.empty()) std::cout << "video: " << req.video_path << "\n";
  return 0;
}

inline int generate_configs(const Flags& flags, const policy::AlgorithmRegistry& algorithms) {
  flags.check_known({"output_dir", "dataset_dir"});
  const std::filesystem::path dir = flags.require("output_dir");
  std::filesystem::create_directories(dir);
  const auto configs = config::published_configs(flags.get("dataset_dir", "datasets"), algorithms);
  for (const auto& c : configs) {
    const auto path = dir / (c.name + ".json");
    train::write_text_atomic(path, config::robomimic_view(c.config, algorithms).dump(4) + "\n");
    std::cout << path.string() << "\n";
  }
  std::cout << "wrote " << configs.size() << " configs to " << dir.string() << "\n";
  return 0;
}

}  // namespace mimic::cli
