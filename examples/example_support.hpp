#pragma once
// What the examples share: a few flags, a small expert dataset when none is given, and a
// closing evaluation of the trained checkpoint.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "mimic/config/config.hpp"
#include "mimic/env/builtin.hpp"
#include "mimic/env/expert_demos.hpp"
#include "mimic/train/trainer.hpp"

namespace example {

struct Args {
  bool debug = false;
  std::string dataset, output_dir = "trained_models";
  int64_t demos = 50, epochs = 0;
};

inline Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw mimic::ValueError(s + " needs a value");
      return argv[++i];
    };
    if (s == "--debug")
      a.debug = true;
    else if (s == "--dataset")
      a.dataset = value();
    else if (s == "--output_dir")
      a.output_dir = value();
    else if (s == "--demos")
      a.demos = std::stoll(value());
    else if (s == "--epochs")
      a.epochs = std::stoll(value());
    else
      throw mimic::ValueError("unknown flag " + s +
                              " (use --debug, --dataset, --output_dir, --demos, --epochs)");
  }
  return a;
}

// The dataset a run trains on: the given file, or a temporary one of fresh expert demonstrations
// that is deleted when this goes out of scope.
class DemoDataset {
 public:
  DemoDataset(std::string path, bool temporary) : path_(std::move(path)), temporary_(temporary) {}
  DemoDataset(const DemoDataset&) = delete;
  DemoDataset& operator=(const DemoDataset&) = delete;
  ~DemoDataset() {
    std::error_code ec;  // best effort: never throw from a destructor
    if (temporary_) std::filesystem::remove(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool temporary_;
};

// The given dataset, or `n` fresh expert demonstrations of `task` in a temporary file.
inline std::unique_ptr<DemoDataset> dataset_or_demos(const Args& a, const std::string& task) {
  if (!a.dataset.empty()) return std::make_unique<DemoDataset>(a.dataset, false);
  const int64_t n = a.debug ? 5 : a.demos;
  const auto path =
      std::filesystem::temp_directory_path() / ("mimic_example_" + task + "_" + std::to_string(n) +
                                                "_" + std::to_string(::getpid()) + ".hdf5");
  auto dataset = std::make_unique<DemoDataset>(path.string(), true);
  mimic::env::ExpertDemos gen = mimic::env::generate_expert_demos(task, n, 0, false, 2);
  mimic::data::RobomimicWriter w(path.string(), gen.env_args);
  std::vector<std::string> names;
  for (const auto& d : gen.demos) {
    w.add_demo(d);
    names.push_back(d.name);
  }
  w.set_mask("train", names);
  w.finish();
  std::cout << "generated " << n << " " << task << " expert demos in " << path.string() << "\n";
  return dataset;
}

// Trains, then reloads the last checkpoint and rolls it out.
inline int train_and_evaluate(nlohmann::json config, const Args& a, int rollouts) {
  if (a.epochs > 0) config["train"]["num_epochs"] = a.epochs;
  mimic::train::TrainOverrides o;
  o.debug = a.debug;
  o.output_dir = a.output_dir;
  const mimic::env::EnvRegistry envs = mimic::env::builtin_envs();
  const mimic::train::TrainSummary s =
      mimic::train::Trainer(mimic::config::load_config(config), o,
                            mimic::policy::builtin_algorithms(), envs)
          .run();
  const mimic::policy::Checkpoint ck = mimic::policy::load_checkpoint(s.last_checkpoint);
  auto policy = mimic::policy::policy_from_checkpoint<float>(ck, s.last_checkpoint);
  mimic::train::RolloutRequest req;
  req.horizon = a.debug ? 10 : config["experiment"]["rollout"]["horizon"].get<int64_t>();
  req.n = a.debug ? 2 : rollouts;
  req.n_envs = 4;
  const auto r = mimic::train::run_rollouts(*policy, envs, ck.meta["trainer"]["env_args"], req);
  std::cout << "evaluation of " << s.last_checkpoint << ":\n" << r.to_json().dump(2) << "\n";
  return 0;
}

}  // namespace example
