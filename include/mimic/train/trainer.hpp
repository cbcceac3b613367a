#pragma once
// The training loop of robomimic's train.py for every algorithm: datasets and normalization from
// the config, epochs of epoch_every_n_steps gradient steps, validation, rollouts every `rate`
// epochs through the environment runner (with videos), robomimic's checkpoint rules plus `last` /
// `last_bak` for resuming, a log file, TensorBoard scalars and a progress bar.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "mimic/data/loader.hpp"
#include "mimic/data/sequence_dataset.hpp"
#include "mimic/env/make_env.hpp"
#include "mimic/env/runner.hpp"
#include "mimic/log/progress.hpp"
#include "mimic/log/run_log.hpp"
#include "mimic/log/tensorboard.hpp"
#include "mimic/policy/checkpoint.hpp"
#include "mimic/policy/rollout.hpp"
#include "mimic/train/run_folder.hpp"
#include "mimic/train/statistics.hpp"

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

// Every observation key of the config (low_dim and rgb); `rgb` receives the rgb ones.
inline std::vector<std::string> observation_keys(const nlohmann::json& config,
                                                 std::set<std::string>* rgb = nullptr) {
  const auto& mods = config.at("observation").at("modalities").at("obs");
  std::vector<std::string> keys;
  for (const char* modality : {"low_dim", "rgb", "depth", "scan"}) {
    if (!mods.contains(modality) || mods[modality].is_null()) continue;
    const auto list = mods[modality].get<std::vector<std::string>>();
    const std::string m = modality;
    if ((m == "depth" || m == "scan") && !list.empty())
      throw UnsupportedError("observation.modalities.obs." + m +
                             ": depth and scan observations are not supported (use low_dim or "
                             "rgb)");
    for (const std::string& k : list) {
      if (std::find(keys.begin(), keys.end(), k) != keys.end())
        throw ValueError("observation.modalities.obs: key '" + k + "' is listed twice");
      keys.push_back(k);
      if (m == "rgb" && rgb) rgb->insert(k);
    }
  }
  if (keys.empty()) throw ValueError("observation.modalities.obs: no observation keys");
  return keys;
}

inline data::SequenceDatasetOptions dataset_options(const nlohmann::json& config,
                                                    const std::string& path,
                                                    const std::string& filter_key) {
  const auto& t = config.at("train");
  data::SequenceDatasetOptions o;
  o.path = path;
  o.obs_keys = observation_keys(config);
  o.dataset_keys = {"actions"};
  o.filter_key = filter_key;
  o.seq_length = t.value("seq_length", int64_t(1));
  o.frame_stack = t.value("frame_stack", int64_t(1));
  o.pad_seq_length = t.value("pad_seq_length", true);
  o.pad_frame_stack = t.value("pad_frame_stack", true);
  o.goal_mode = t.contains("goal_mode") && t["goal_mode"].is_string()
                    ? t["goal_mode"].get<std::string>()
                    : "";
  o.load_next_obs = t.value("hdf5_load_next_obs", false) && !o.goal_mode.empty();
  o.cache_mode = t.contains("hdf5_cache_mode") && t["hdf5_cache_mode"].is_string()
                     ? t["hdf5_cache_mode"].get<std::string>()
                     : "none";
  return o;
}

class Trainer {
 public:
  Trainer(nlohmann::json config, TrainOverrides o) : config_(std::move(config)), o_(std::move(o)) {
    if (o_.debug) apply_debug(config_);
    if (!o_.dataset.empty()) config_["train"]["data"] = o_.dataset;
    if (!o_.name.empty()) config_["experiment"]["name"] = o_.name;
    if (!o_.output_dir.empty()) config_["train"]["output_dir"] = o_.output_dir;
    if (!config_["train"]["data"].is_string())
      throw ValueError("train.data: no dataset given (set it in the config or pass --dataset)");
  }

  const nlohmann::json& config() const { return config_; }

  TrainSummary run() {
    namespace fs = std::filesystem;
    const auto& exp = config_.at("experiment");
    const auto& train = config_.at("train");
    const std::string data_path = train.at("data").get<std::string>();
    const std::string name = exp.value("name", std::string("test"));
    const fs::path output_dir = train.value("output_dir", std::string("trained_models"));
    const uint64_t seed = train.value("seed", uint64_t(1));
    const std::string algorithm = policy::algorithm_of(config_);

    // --- data ---------------------------------------------------------------------------------
    const std::string train_key = string_or_empty(train, "hdf5_filter_key");
    data::SequenceDataset train_set(dataset_options(config_, data_path, train_key));
    std::unique_ptr<data::SequenceDataset> valid_set;
    if (exp.value("validate", false)) {
      const std::string valid_key = string_or_empty(train, "hdf5_validation_filter_key");
      if (valid_key.empty())
        throw ValueError(
            "experiment.validate is true but train.hdf5_validation_filter_key is not set");
      valid_set =
          std::make_unique<data::SequenceDataset>(dataset_options(config_, data_path, valid_key));
    }
    policy::ShapeMeta meta;
    const auto shapes = train_set.obs_shapes();
    for (const std::string& k : observation_keys(config_, &meta.rgb_keys))
      meta.obs_shapes[k] = shapes.at(k);
    meta.action_dim = train_set.action_dim();
    meta.validate();
    check_window(algorithm, train);

    const int64_t batch_size = train.value("batch_size", int64_t(100));
    const int64_t num_epochs = train.value("num_epochs", int64_t(2000));
    const int workers = std::max<int>(1, train.value("num_data_workers", 0));
    data::Loader loader(train_set, batch_size, seed, true, workers);
    const int64_t steps_per_epoch =
        exp.contains("epoch_every_n_steps") && exp["epoch_every_n_steps"].is_number()
            ? exp["epoch_every_n_steps"].get<int64_t>()
            : loader.batches_per_epoch();
    const int64_t schedule_units =
        policy::schedule_counts_batches(config_) ? num_epochs * steps_per_epoch : num_epochs;

    // --- policy and run folder ---------------------------------------------------------------
    std::unique_ptr<policy::Policy<float>> pol;
    RunFolder run;
    int64_t first_epoch = 1;
    nlohmann::json best = {{"valid_loss", nullptr}, {"return", nullptr}, {"success_rate", nullptr}};
    if (o_.resume) {
      run = find_resumable_run(output_dir, name);
      const policy::Checkpoint ck = policy::load_checkpoint(run.last_checkpoint().string());
      pol = policy::policy_from_checkpoint<float>(ck, run.last_checkpoint().string());
      const auto& tr = ck.meta.at("trainer");
      first_epoch = tr.at("epoch").get<int64_t>() + 1;
      best = tr.at("best");
      loader.seek(tr.at("batches_drawn").get<int64_t>());
    } else {
      run = create_run_folder(output_dir, name);
      const policy::Normalization norm =
          compute_normalization(algorithm, config_, meta, train_set.low_dim_demos());
      pol = policy::make_policy<float>(config_, meta, norm, seed, schedule_units);
      write_text_atomic(run.root / "config.json", config_.dump(4));
    }
    const nlohmann::json env_args = nlohmann::json::parse(train_set.env_args());
    log::RunLog out((run.logs / "log.txt").string(), !o_.quiet);
    log::EventWriter tb(run.tb.string());
    out.line("mimic train: " + algorithm + " on " + data_path + " (" +
             std::to_string(train_set.size()) + " samples, " +
             std::to_string(train_set.demos().size()) + " demos), " +
             std::to_string(pol->params().count()) + " parameters");
    out.line("run folder: " + run.root.string());

    TrainSummary summary;
    summary.run_dir = run.root.string();
    summary.log_path = (run.logs / "log.txt").string();
    const auto t_start = std::chrono::steady_clock::now();
    for (int64_t epoch = first_epoch; epoch <= num_epochs; ++epoch) {
      // --- training epoch ---------------------------------------------------------------------
      const auto t0 = std::chrono::steady_clock::now();
      std::map<std::string, double> sums;
      log::ProgressBar bar("Epoch " + std::to_string(epoch) + "/" + std::to_string(num_epochs),
                           steps_per_epoch, o_.quiet ? nullptr : &out);
      for (int64_t s = 0; s < steps_per_epoch; ++s) {
        const policy::Scalars sc = pol->train_on_batch(loader.next());
        for (const auto& [k, v] : sc) sums[k] += v;
        if (!std::isfinite(sc.at("Loss")))
          throw ValueError("training diverged: loss is " + std::to_string(sc.at("Loss")) +
                           " at epoch " + std::to_string(epoch) + " step " + std::to_string(s));
        bar.update(s + 1, sc.at("Loss"));
      }
      bar.finish();
      pol->end_epoch();
      const double epoch_seconds = seconds_since(t0);
      nlohmann::json train_log;
      for (const auto& [k, v] : sums) train_log[k] = v / double(steps_per_epoch);
      train_log["Time_Epoch"] = epoch_seconds / 60.0;
      summary.epoch_losses.push_back(train_log["Loss"].get<double>());
      out.epoch("Train", epoch, train_log);
      for (const auto& [k, v] : train_log.items())
        if (k != "Time_Epoch") tb.add_scalar("Train/" + k, v.get<double>(), epoch);
      tb.add_scalar("Timing_Stats/Train_Epoch", epoch_seconds / 60.0, epoch);
      tb.add_scalar("System/RAM Usage (MB)", log::system_ram_mb(), epoch);

      // --- validation -------------------------------------------------------------------------
      bool best_valid = false;
      std::string valid_suffix;
      if (valid_set) {
        data::Loader vloader(*valid_set, batch_size, seed + uint64_t(epoch), true, 1, false);
        const int64_t n = exp.contains("validation_epoch_every_n_steps") &&
                                  exp["validation_epoch_every_n_steps"].is_number()
                              ? exp["validation_epoch_every_n_steps"].get<int64_t>()
                              : vloader.batches_per_epoch();
        std::map<std::string, double> vs;
        for (int64_t s = 0; s < n; ++s)
          for (const auto& [k, v] : pol->validate_on_batch(vloader.next())) vs[k] += v / double(n);
        nlohmann::json valid_log(vs);
        out.epoch("Validation", epoch, valid_log);
        for (const auto& [k, v] : vs) tb.add_scalar("Valid/" + k, v, epoch);
        if (best["valid_loss"].is_null() || vs["Loss"] < best["valid_loss"].get<double>()) {
          best["valid_loss"] = vs["Loss"];
          best_valid = exp.at("save").value("on_best_validation", false);
          valid_suffix = "_best_validation_" + fixed(vs["Loss"], 4);
        }
      }

      // --- rollouts ---------------------------------------------------------------------------
      const auto& ro = exp.at("rollout");
      bool best_return = false, best_success = false;
      std::string rollout_suffix;
      if (ro.value("enabled", true) &&
          epoch % std::max<int64_t>(1, ro.value("rate", int64_t(50))) == 0 &&
          epoch > ro.value("warmstart", int64_t(0))) {
        const std::string env_name = env_args.value("env_name", std::string("env"));
        const std::string video =
            exp.value("render_video", true)
                ? (run.videos / (env_name + "_epoch_" + std::to_string(epoch) + ".mp4")).string()
                : "";
        const nlohmann::json stats =
            rollout(*pol, env_args, ro, exp.value("video_skip", 5), video, seed);
        summary.last_rollout = stats;
        if (!video.empty()) summary.video_path = video;
        out.epoch("Rollout", epoch, stats);
        for (const char* k : {"Return", "Horizon", "Success_Rate"})
          tb.add_scalar(std::string("Rollout/") + k + "/" + env_name, stats.at(k).get<double>(),
                        epoch);
        const double ret = stats.at("Return").get<double>(),
                     sr = stats.at("Success_Rate").get<double>();
        const auto& save = exp.at("save");
        if (best["return"].is_null() || ret > best["return"].get<double>()) {
          best["return"] = ret;
          if (save.value("on_best_rollout_return", false)) {
            best_return = true;
            rollout_suffix += "_" + env_name + "_return_" + fixed(ret, 3);
          }
        }
        if (best["success_rate"].is_null() || sr > best["success_rate"].get<double>()) {
          best["success_rate"] = sr;
          if (save.value("on_best_rollout_success_rate", true)) {
            best_success = true;
            rollout_suffix += "_" + env_name + "_success_" + fixed(sr, 2);
          }
        }
      }

      // --- checkpoints ------------------------------------------------------------------------
      const nlohmann::json trainer_state = {{"epoch", epoch},
                                            {"best", best},
                                            {"batches_drawn", loader.batches_drawn()},
                                            {"env_args", env_args}};
      const auto& save = exp.at("save");
      bool periodic = false;
      const int64_t every = save.value("every_n_epochs", int64_t(50));
      if (every > 0 && epoch % every == 0) periodic = true;
      if (save.contains("epochs") && save["epochs"].is_array())
        for (const auto& e : save["epochs"])
          if (e.get<int64_t>() == epoch) periodic = true;
      if (save.value("enabled", true) && (periodic || best_valid || best_return || best_success)) {
        const fs::path path =
            run.models / ("model_epoch_" + std::to_string(epoch) +
                          (best_valid ? valid_suffix : "") + rollout_suffix + ".safetensors");
        policy::save_checkpoint(path.string(), *pol, config_, schedule_units,
                                {{"trainer", trainer_state}});
        if (best_valid || best_success || best_return) summary.best_checkpoint = path.string();
        out.line("saved " + path.string());
      }
      // last / last_bak: the previous `last` survives a crash while the new one is written.
      std::error_code ec;
      if (fs::exists(run.last_checkpoint()))
        fs::rename(run.last_checkpoint(), run.last_backup(), ec);
      policy::save_checkpoint(run.last_checkpoint().string(), *pol, config_, schedule_units,
                              {{"trainer", trainer_state}});
      tb.flush();
      summary.epochs = epoch;
      if (o_.stop_after_epoch > 0 && epoch >= o_.stop_after_epoch) break;
    }
    summary.train_seconds = seconds_since(t_start);
    summary.last_checkpoint = run.last_checkpoint().string();
    out.line("finished " + std::to_string(summary.epochs) + " epochs in " +
             fixed(summary.train_seconds, 1) + " s; last checkpoint " + summary.last_checkpoint);
    return summary;
  }

 private:
  static std::string string_or_empty(const nlohmann::json& j, const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  }
  static double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }
  static std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
  }
  // The sampled window must cover what the algorithm slices from it.
  void check_window(const std::string& algorithm, const nlohmann::json& train) const {
    const int64_t window =
        train.value("frame_stack", int64_t(1)) - 1 + train.value("seq_length", int64_t(1));
    const auto& algo = config_.at("algo");
    if (algorithm == "diffusion_policy" || algorithm == "ibc") {
      const auto& h = algo.at("horizon");
      const int64_t need = algorithm == "diffusion_policy"
                               ? h.value("prediction_horizon", int64_t(16))
                               : h.value("observation_horizon", int64_t(2)) - 1 +
                                     h.value("action_horizon", int64_t(1));
      if (window < need || window < h.value("observation_horizon", int64_t(2)))
        throw ValueError("train.seq_length / train.frame_stack: the sampled window of " +
                         std::to_string(window) + " steps is shorter than the " +
                         std::to_string(need) + " steps " + algorithm + " needs");
    }
  }

  nlohmann::json rollout(policy::Policy<float>& pol, const nlohmann::json& env_args,
                         const nlohmann::json& ro, int64_t video_skip, const std::string& video,
                         uint64_t seed) {
    env::RunnerOptions opt;
    const int64_t n = ro.value("n", int64_t(50));
    opt.horizon = int(ro.value("horizon", int64_t(400)));
    opt.terminate_on_success = ro.value("terminate_on_success", true);
    for (int64_t i = 0; i < n; ++i) opt.seeds.push_back(100000 + seed * 1000 + uint64_t(i));
    opt.n_envs = int(std::min<int64_t>(n, 8));
    opt.video_path = video;
    opt.video_skip = int(video_skip);
    policy::PolicyRollout<float> adapter(pol);
    const int images = policy::needs_images(pol.shape_meta()) ? 1 : 0;
    opt.parallel = images == 0;  // off-screen rendering stays on one thread
    const env::RunnerResult r =
        env::run_episodes([&] { return env::make_env(env_args, images); }, adapter, opt);
    return r.to_json();
  }

  nlohmann::json config_;
  TrainOverrides o_;
};

}  // namespace mimic::train
