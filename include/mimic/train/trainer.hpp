#pragma once
// The training loop of robomimic's train.py for every registered algorithm, made of parts: the
// run's data (training_data.hpp), the policy from its spec, epochs of epoch_every_n_steps
// gradient steps, validation, rollouts every `rate` epochs through an environment registry
// (rollouts.hpp), and robomimic's checkpoint rules (checkpoint_manager.hpp); a log file,
// TensorBoard scalars and a progress bar. Needs no physics engine: environments come from the
// registry the caller passes (env::builtin_envs() for Push-T and Lift).
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/config/config.hpp"
#include "mimic/data/loader.hpp"
#include "mimic/env/registry.hpp"
#include "mimic/log/progress.hpp"
#include "mimic/log/run_log.hpp"
#include "mimic/log/tensorboard.hpp"
#include "mimic/policy/core/checkpoint.hpp"
#include "mimic/policy/core/placement.hpp"
#include "mimic/train/checkpoint_manager.hpp"
#include "mimic/train/resume.hpp"
#include "mimic/train/rollouts.hpp"
#include "mimic/train/run_folder.hpp"
#include "mimic/train/statistics.hpp"
#include "mimic/train/training_data.hpp"

namespace mimic::train {

struct TrainOverrides {
  std::string dataset, name, output_dir;
  bool debug = false, resume = false;
  bool quiet = false;            // no terminal output (tests)
  int64_t stop_after_epoch = 0;  // > 0: end the run after this epoch (time-boxed runs, tests)
};

struct TrainSummary {
  std::string run_dir, log_path, last_checkpoint, best_checkpoint, video_path;
  int64_t epochs = 0;
  double train_seconds = 0;
  nlohmann::json last_rollout;       // aggregate of the final rollout, if any
  std::vector<double> epoch_losses;  // mean Train/Loss per epoch run in this process
};

// robomimic's --debug: 3 steps per epoch, 2 epochs, 2 rollouts of 10 steps, a temporary folder.
inline void apply_debug(nlohmann::json& c) {
  auto& e = c["experiment"];
  e["epoch_every_n_steps"] = 3;
  e["validation_epoch_every_n_steps"] = 3;
  e["rollout"]["n"] = 2;
  e["rollout"]["horizon"] = 10;
  e["rollout"]["rate"] = 1;
  e["rollout"]["warmstart"] = 0;
  e["save"]["every_n_epochs"] = 1;
  e["video_skip"] = 1;
  c["train"]["num_epochs"] = 2;
  c["train"]["output_dir"] = (std::filesystem::temp_directory_path() / "mimic_debug").string();
}

// Mean of each scalar over the steps of an epoch.
using ScalarMeans = std::map<std::string, double>;

// One training epoch: `steps` gradient steps on batches from the loader.
inline ScalarMeans train_epoch(policy::AnyPolicy& pol, data::Loader& loader, int64_t steps,
                               int64_t epoch, log::ProgressBar& bar) {
  ScalarMeans sums;
  for (int64_t s = 0; s < steps; ++s) {
    const policy::Scalars sc = pol.train_on_batch(loader.next());
    for (const auto& [k, v] : sc) sums[k] += v;
    if (!std::isfinite(sc.at("Loss")))
      throw ValueError("training diverged: loss is " + std::to_string(sc.at("Loss")) +
                       " at epoch " + std::to_string(epoch) + " step " + std::to_string(s));
    bar.update(s + 1, sc.at("Loss"));
  }
  bar.finish();
  pol.end_epoch();
  for (auto& [k, v] : sums) v /= double(steps);
  return sums;
}

// Validation losses: the mean over `steps` batches (a full pass when null) of a fresh loader.
inline ScalarMeans validate_epoch(policy::AnyPolicy& pol, const data::SequenceDataset& set,
                                  int64_t batch_size, uint64_t seed, std::optional<int64_t> steps) {
  data::Loader loader(set, batch_size, seed, true, 1, false);
  const int64_t n = steps ? *steps : loader.batches_per_epoch();
  ScalarMeans means;
  for (int64_t s = 0; s < n; ++s)
    for (const auto& [k, v] : pol.validate_on_batch(loader.next())) means[k] += v / double(n);
  return means;
}

class Trainer {
 public:
  // `algorithms` builds the policy (mimic's built-in ones by default); `envs` runs rollouts.
  Trainer(nlohmann::json config, TrainOverrides o,
          policy::AlgorithmRegistry algorithms = policy::builtin_algorithms(),
          env::EnvRegistry envs = {})
      : config_(std::move(config)),
        o_(std::move(o)),
        algorithms_(std::move(algorithms)),
        envs_(std::move(envs)) {
    if (o_.debug) apply_debug(config_);
    if (!o_.dataset.empty()) config_["train"]["data"] = o_.dataset;
    if (!o_.name.empty()) config_["experiment"]["name"] = o_.name;
    if (!o_.output_dir.empty()) config_["train"]["output_dir"] = o_.output_dir;
    if (!config_["train"]["data"].is_string())
      throw ValueError("train.data: no dataset given (set it in the config or pass --dataset)");
    rc_ = config::RunConfig::from_json(config_);
  }

  const nlohmann::json& config() const { return config_; }

  TrainSummary run() {
    const config::ExperimentConfig& exp = rc_.experiment;
    const config::TrainConfig& train = rc_.train;
    const policy::AlgorithmSpec& spec = algorithms_.of(config_);

    TrainingData data = TrainingData::open(rc_, config_, spec);
    const nlohmann::json env_args = rollout_env_args(data.env_args, exp.env_meta_update_dict);
    const bool rollouts = exp.rollout.enabled && spec.acts;
    if (rollouts) require_env(envs_, env_args);
    const int workers = std::max<int>(1, int(train.num_data_workers));
    data::Loader loader(*data.train, train.batch_size, train.seed, true, workers);
    const int64_t steps_per_epoch =
        exp.epoch_every_n_steps ? *exp.epoch_every_n_steps : loader.batches_per_epoch();
    const int64_t schedule_units = policy::schedule_counts_batches(config_)
                                       ? train.num_epochs * steps_per_epoch
                                       : train.num_epochs;

    // --- policy and run folder ---------------------------------------------------------------
    const policy::DeviceKind device =
        train.cuda ? policy::DeviceKind::kCuda : policy::DeviceKind::kCpu;
    policy::Placement placed;
    std::string resumed_from;
    RunFolder run;
    int64_t first_epoch = 1;
    nlohmann::json best = {{"valid_loss", nullptr}, {"return", nullptr}, {"success_rate", nullptr}};
    if (o_.resume) {
      run = find_resumable_run(train.output_dir, exp.name);
      const ResumePoint from = resume_checkpoint(run);
      resumed_from = "resuming from " + from.path + " (epoch " + std::to_string(from.epoch) + ")";
      for (const auto& s : from.skipped) resumed_from += "; skipped " + s;
      const policy::Checkpoint& ck = from.checkpoint;
      placed = policy::policy_from_checkpoint_on(device, ck, from.path, algorithms_);
      const auto& tr = ck.meta.at("trainer");
      first_epoch = tr.at("epoch").get<int64_t>() + 1;
      best = tr.at("best");
      loader.seek(tr.at("batches_drawn").get<int64_t>());
    } else {
      run = create_run_folder(train.output_dir, exp.name);
      const policy::Normalization norm =
          compute_normalization(spec.normalization, train, data.meta, data.train->low_dim_demos());
      placed = policy::make_policy_on(device, algorithms_, config_, data.meta, norm, train.seed,
                                      schedule_units);
      if (!exp.ckpt_path.empty()) load_starting_weights(*placed.policy, exp.ckpt_path);
      write_text_atomic(run.root / "config.json",
                        config::robomimic_view(config_, algorithms_).dump(4));
    }
    policy::AnyPolicy* pol = placed.policy.get();
    log::RunLog out((run.logs / "log.txt").string(), !o_.quiet);
    log::EventWriter tb(run.tb.string());
    out.line("mimic train: " + spec.name + " on " + train.data + " (" +
             std::to_string(data.train->size()) + " samples, " +
             std::to_string(data.train->demos().size()) + " demos), " +
             std::to_string(pol->parameter_count()) + " parameters");
    out.line(policy::placement_line(placed, "train.cuda"));
    if (rollouts)
      for (const std::string& l : rollout_env_lines(envs_, env_args)) out.line(l);
    if (exp.rollout.enabled && !spec.acts)
      out.line(spec.name + " does not act (it predicts subgoals): experiment.rollout is skipped");
    for (const auto* set : {data.train.get(), data.valid.get()})
      if (set)
        for (const std::string& w : set->warnings()) out.line("warning: " + w);
    out.line("run folder: " + run.root.string());
    if (!resumed_from.empty()) out.line(resumed_from);
    const auto unused = config::set_without_effect(config_, algorithms_);
    if (!unused.empty()) {
      std::string keys;
      for (const auto& k : unused) keys += (keys.empty() ? "" : ", ") + k;
      out.line("config keys with no effect in mimic: " + keys);
    }

    CheckpointManager checkpoints(run, exp.save, best);
    TrainSummary summary;
    summary.run_dir = run.root.string();
    summary.log_path = (run.logs / "log.txt").string();
    const auto t_start = std::chrono::steady_clock::now();
    for (int64_t epoch = first_epoch; epoch <= train.num_epochs; ++epoch) {
      // --- training epoch ---------------------------------------------------------------------
      const auto t0 = std::chrono::steady_clock::now();
      log::ProgressBar bar(
          "Epoch " + std::to_string(epoch) + "/" + std::to_string(train.num_epochs),
          steps_per_epoch, o_.quiet ? nullptr : &out);
      const ScalarMeans means = train_epoch(*pol, loader, steps_per_epoch, epoch, bar);
      const double epoch_seconds = seconds_since(t0);
      nlohmann::json train_log(means);
      train_log["Time_Epoch"] = epoch_seconds / 60.0;
      summary.epoch_losses.push_back(train_log["Loss"].get<double>());
      out.epoch("Train", epoch, train_log);
      for (const auto& [k, v] : train_log.items())
        if (k != "Time_Epoch") tb.add_scalar("Train/" + k, v.get<double>(), epoch);
      tb.add_scalar("Timing_Stats/Train_Epoch", epoch_seconds / 60.0, epoch);
      tb.add_scalar("System/RAM Usage (MB)", log::system_ram_mb(), epoch);

      // --- validation -------------------------------------------------------------------------
      if (data.valid) {
        const ScalarMeans vs =
            validate_epoch(*pol, *data.valid, train.batch_size, train.seed + uint64_t(epoch),
                           exp.validation_epoch_every_n_steps);
        out.epoch("Validation", epoch, nlohmann::json(vs));
        for (const auto& [k, v] : vs) tb.add_scalar("Valid/" + k, v, epoch);
        checkpoints.validation(vs.at("Loss"));
      }

      // --- rollouts ---------------------------------------------------------------------------
      const config::RolloutConfig& ro = exp.rollout;
      if (rollouts && epoch % ro.rate == 0 && epoch > ro.warmstart) {
        const std::string env_name = env_args.value("env_name", std::string("env"));
        RolloutRequest req;
        req.n = ro.n;
        req.horizon = ro.horizon;
        req.terminate_on_success = ro.terminate_on_success;
        req.first_seed = 100000;  // the benchmark's test episodes, whatever the training seed
        req.video_skip = exp.video_skip;
        if (exp.render_video)
          req.video_path =
              (run.videos / (env_name + "_epoch_" + std::to_string(epoch) + ".mp4")).string();
        const nlohmann::json stats = run_rollouts(*pol, envs_, env_args, req).to_json();
        summary.last_rollout = stats;
        if (!req.video_path.empty()) summary.video_path = req.video_path;
        out.epoch("Rollout", epoch, stats);
        for (const char* k : {"Return", "Horizon", "Success_Rate"})
          tb.add_scalar(std::string("Rollout/") + k + "/" + env_name, stats.at(k).get<double>(),
                        epoch);
        checkpoints.rollout(env_name, stats.at("Return").get<double>(),
                            stats.at("Success_Rate").get<double>());
      }

      // --- checkpoints ------------------------------------------------------------------------
      const nlohmann::json trainer_state = {{"epoch", epoch},
                                            {"best", checkpoints.best()},
                                            {"batches_drawn", loader.batches_drawn()},
                                            {"env_args", env_args}};
      const CheckpointManager::Saved saved =
          checkpoints.finish_epoch(epoch, seconds_since(t_start), [&](const std::string& path) {
            policy::save_checkpoint(path, *pol, config_, schedule_units,
                                    {{"trainer", trainer_state}});
          });
      if (!saved.epoch_checkpoint.empty()) {
        if (saved.best) summary.best_checkpoint = saved.epoch_checkpoint;
        out.line("saved " + saved.epoch_checkpoint);
      }
      tb.flush();
      summary.epochs = epoch;
      if (o_.stop_after_epoch > 0 && epoch >= o_.stop_after_epoch) break;
    }
    summary.train_seconds = seconds_since(t_start);
    summary.last_checkpoint = run.last_checkpoint().string();
    out.line("finished " + std::to_string(summary.epochs) + " epochs in " +
             CheckpointManager::fixed(summary.train_seconds, 1) + " s; last checkpoint " +
             summary.last_checkpoint);
    return summary;
  }

 private:
  static double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }
  // robomimic v0.5's experiment.ckpt_path: the weights of a saved policy to start from (the
  // optimizer, schedule and counters start fresh).
  static void load_starting_weights(policy::AnyPolicy& pol, const std::string& path) {
    const policy::Checkpoint ck = policy::load_checkpoint(path);
    std::map<std::string, Tensor<float>> weights;
    for (const std::string& name : pol.weight_names()) {
      auto it = ck.tensors.find(name);
      if (it == ck.tensors.end())
        throw IoError("experiment.ckpt_path: " + path + " has no tensor '" + name + "'");
      weights.emplace(name, it->second);
    }
    pol.load_weights(weights);
  }

  nlohmann::json config_;
  config::RunConfig rc_;
  TrainOverrides o_;
  policy::AlgorithmRegistry algorithms_;
  env::EnvRegistry envs_;
};

}  // namespace mimic::train
