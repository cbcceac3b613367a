#pragma once
// robomimic's checkpoint rules as one unit: after each epoch a model_epoch_<E> checkpoint is
// written when the epoch is periodic (save.every_n_epochs, save.epochs, save.every_n_seconds) or
// sets a best value that save.on_best_* asks to keep, its name carrying the best values
// (_best_validation_<loss>, _<env>_return_<r>, _<env>_success_<rate>); `last` is rewritten every
// epoch for resuming, the previous one kept as `last_bak` (finish_epoch says how it rotates).
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/config/run_config.hpp"
#include "mimic/core/durable_rename.hpp"
#include "mimic/train/run_folder.hpp"

namespace mimic::train {

class CheckpointManager {
 public:
  // Writes a checkpoint of the current state to the given path.
  using Writer = std::function<void(const std::string& path)>;

  // `best` restores the best values of a resumed run ({"valid_loss", "return", "success_rate"},
  // null where none was seen yet).
  CheckpointManager(RunFolder run, config::SaveConfig save,
                    nlohmann::json best = {{"valid_loss", nullptr},
                                           {"return", nullptr},
                                           {"success_rate", nullptr}})
      : run_(std::move(run)), save_(std::move(save)), best_(std::move(best)) {}

  const nlohmann::json& best() const { return best_; }

  // The epoch's mean validation loss.
  void validation(double loss) {
    if (best_["valid_loss"].is_null() || loss < best_["valid_loss"].get<double>()) {
      best_["valid_loss"] = loss;
      best_valid_ = save_.on_best_validation;
      valid_suffix_ = "_best_validation_" + fixed(loss, 4);
    }
  }
  // The epoch's rollout statistics in environment `env_name`.
  void rollout(const std::string& env_name, double ret, double success_rate) {
    if (best_["return"].is_null() || ret > best_["return"].get<double>()) {
      best_["return"] = ret;
      if (save_.on_best_rollout_return) {
        best_return_ = true;
        rollout_suffix_ += "_" + env_name + "_return_" + fixed(ret, 3);
      }
    }
    if (best_["success_rate"].is_null() || success_rate > best_["success_rate"].get<double>()) {
      best_["success_rate"] = success_rate;
      if (save_.on_best_rollout_success_rate) {
        best_success_ = true;
        rollout_suffix_ += "_" + env_name + "_success_" + fixed(success_rate, 2);
      }
    }
  }

  struct Saved {
    std::string epoch_checkpoint;  // the model_epoch_<E> file written, "" if none
    bool best = false;             // whether it was written for a best value
  };
  // Writes this epoch's checkpoints; `seconds` is the time since training started.
  Saved finish_epoch(int64_t epoch, double seconds, const Writer& write) {
    bool periodic = save_.every_n_epochs > 0 && epoch % save_.every_n_epochs == 0;
    for (int64_t e : save_.epochs) periodic = periodic || e == epoch;
    if (save_.every_n_seconds && seconds - last_timed_save_ > *save_.every_n_seconds) {
      periodic = true;
      last_timed_save_ = seconds;
    }
    Saved saved;
    saved.best = best_valid_ || best_return_ || best_success_;
    if (save_.enabled && (periodic || saved.best)) {
      const std::filesystem::path path =
          run_.models / ("model_epoch_" + std::to_string(epoch) +
                         (best_valid_ ? valid_suffix_ : "") + rollout_suffix_ + ".safetensors");
      write(path.string());
      saved.epoch_checkpoint = path.string();
    }
    // last / last_bak: the new checkpoint is first written completely as last_new (itself
    // atomically); then last becomes last_bak and last_new becomes last, one rename each. At
    // every moment a complete `last`, or a complete `last_bak` and `last_new`, is on disk, and a
    // failed write (a full disk) leaves last and last_bak as they were.
    write(run_.next_checkpoint().string());
    std::error_code ec;
    if (std::filesystem::exists(run_.last_checkpoint())) {
      std::filesystem::rename(run_.last_checkpoint(), run_.last_backup(), ec);
      if (ec)
        throw IoError(run_.last_checkpoint().string() + ": cannot rotate to " +
                      run_.last_backup().string() + ": " + ec.message());
    }
    std::filesystem::rename(run_.next_checkpoint(), run_.last_checkpoint(), ec);
    if (ec)
      throw IoError(run_.next_checkpoint().string() + ": cannot rename to " +
                    run_.last_checkpoint().string() + ": " + ec.message());
    sync_folder(run_.models);  // both renames reach the disk
    best_valid_ = best_return_ = best_success_ = false;
    valid_suffix_.clear();
    rollout_suffix_.clear();
    return saved;
  }

  static std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
  }

 private:
  RunFolder run_;
  config::SaveConfig save_;
  nlohmann::json best_;
  bool best_valid_ = false, best_return_ = false, best_success_ = false;
  std::string valid_suffix_, rollout_suffix_;
  double last_timed_save_ = 0;
};

}  // namespace mimic::train
