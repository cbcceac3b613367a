#pragma once
// `mimic train`, `mimic eval` and `mimic generate-configs`.
#include <filesystem>
#include <iostream>

#include "commands/flags.hpp"
#include "mimic/config/generate.hpp"
#include "mimic/env/episode.hpp"
#include "mimic/train/trainer.hpp"

namespace mimic::cli {

inline int train(const Flags& flags) {
  flags.check_known({"config", "dataset", "name", "output_dir", "debug", "resume", "algo"});
  nlohmann::json cfg;
  if (flags.has("config")) {
    cfg = config::load_config_file(flags.require("config"));
  } else if (flags.has("algo")) {  // defaults of an algorithm, for quick starts
    cfg = config::load_config({{"algo_name", flags.get("algo")}});
  } else {
    throw ValueError("train: give --config FILE (or --algo NAME for its defaults)");
  }
  train::TrainOverrides o;
  o.dataset = flags.get("dataset");
  o.name = flags.get("name");
  o.output_dir = flags.get("output_dir");
  o.debug = flags.has("debug");
  o.resume = flags.has("resume");
  train::Trainer trainer(cfg, o);
  const train::TrainSummary s = trainer.run();
  std::cout << "run folder: " << s.run_dir << "\nlog: " << s.log_path
            << "\nlast checkpoint: " << s.last_checkpoint << "\n";
  if (!s.best_checkpoint.empty()) std::cout << "best checkpoint: " << s.best_checkpoint << "\n";
  if (!s.video_path.empty()) std::cout << "video: " << s.video_path << "\n";
  if (!s.last_rollout.is_null()) std::cout << "last rollout: " << s.last_rollout.dump() << "\n";
  return 0;
}

inline int eval(const Flags& flags) {
  flags.check_known({"agent", "n_rollouts", "horizon", "env", "video_path", "video_skip", "seed",
                     "dataset_path", "n_envs", "camera"});
  const std::string path = flags.require("agent");
  const policy::Checkpoint ck = policy::load_checkpoint(path);
  auto pol = policy::policy_from_checkpoint<float>(ck, path);
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
  const auto& ro = ck.meta.at("config").at("experiment").at("rollout");
  env::RunnerOptions opt;
  const int64_t n = int64_t(flags.number("n_rollouts", 27));
  opt.horizon = int(flags.number("horizon", double(ro.value("horizon", int64_t(400)))));
  opt.terminate_on_success = ro.value("terminate_on_success", true);
  const uint64_t seed = uint64_t(flags.number("seed", 100000));
  for (int64_t i = 0; i < n; ++i) opt.seeds.push_back(seed + uint64_t(i));
  opt.n_envs = int(flags.number("n_envs", double(std::min<int64_t>(n, 8))));
  opt.video_path = flags.get("video_path");
  opt.video_skip = int(flags.number("video_skip", 5));
  opt.camera = flags.get("camera");
  opt.record = flags.has("dataset_path");
  policy::PolicyRollout<float> adapter(*pol);
  const int images = policy::needs_images(pol->shape_meta()) ? 1 : 0;
  opt.parallel = images == 0;  // off-screen rendering stays on one thread
  const env::RunnerResult r =
      env::run_episodes([&] { return env::make_env(env_args, images); }, adapter, opt);
  for (size_t i = 0; i < r.episodes.size(); ++i) {
    const auto& e = r.episodes[i];
    std::cout << "episode " << i << " (seed " << e.seed << "): return " << e.ret << ", horizon "
              << e.horizon << ", success " << e.success << ", max reward " << e.max_reward << "\n";
  }
  std::cout << r.to_json().dump(4) << "\n";
  if (opt.record) {
    const std::string out = flags.get("dataset_path");
    data::RobomimicWriter w(out, env::make_env(env_args, images)->env_args().dump());
    for (size_t i = 0; i < r.episodes.size(); ++i) {
      const auto& rec = r.episodes[i].record;
      w.add_demo(env::make_demo("demo_" + std::to_string(i), rec.states, rec.obs, rec.actions,
                                rec.rewards, rec.dones));
    }
    w.finish();
    std::cout << "wrote rollouts to " << out << "\n";
  }
  if (!opt.video_path.empty()) std::cout << "video: " << opt.video_path << "\n";
  return 0;
}

inline int generate_configs(const Flags& flags) {
  flags.check_known({"output_dir", "dataset_dir"});
  const std::filesystem::path dir = flags.require("output_dir");
  std::filesystem::create_directories(dir);
  const auto configs = config::published_configs(flags.get("dataset_dir", "datasets"));
  for (const auto& c : configs) {
    const auto path = dir / (c.name + ".json");
    train::write_text_atomic(path, c.config.dump(4) + "\n");
    std::cout << path.string() << "\n";
  }
  std::cout << "wrote " << configs.size() << " configs to " << dir.string() << "\n";
  return 0;
}

}  // namespace mimic::cli
