#pragma once
// A policy's optimizer as robomimic configures it (algo.optim_params.policy): Adam or AdamW,
// robomimic's L2 regularization (Adam's coupled weight decay; AdamW's decoupled one), and a
// learning-rate schedule stepped per epoch (multistep over epoch_schedule) or per batch (cosine
// with warmup, linear), plus optional clipping by global gradient norm.
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "mimic/config/schema.hpp"
#include "mimic/optim/adam.hpp"
#include "mimic/optim/clip.hpp"
#include "mimic/optim/lr_schedule.hpp"

namespace mimic::policy {

struct OptimizerSettings {
  std::string type = "adam";  // "adam" | "adamw"
  double lr = 1e-4;
  double beta1 = 0.9, beta2 = 0.999;
  double l2 = 0.0;  // robomimic regularization.L2
  std::string scheduler = "multistep";
  std::vector<int64_t> epoch_schedule;
  double decay_factor = 0.1;
  bool step_every_batch = false;
  int64_t warmup_steps = 0;
  double num_cycles = 0.5;
  double max_grad_norm = 0.0;  // 0: no clipping

  // From robomimic's `optim_params.policy`. robomimic's bc section has no betas, warmup or
  // per-batch stepping (Diffusion Policy's recipe adds them), so those keys are optional here.
  static OptimizerSettings from_json(const nlohmann::json& p,
                                     const std::string& at = "algo.optim_params.policy") {
    using config::typed;
    OptimizerSettings s;
    if (p.contains("optimizer_type")) s.type = typed<std::string>(p, "optimizer_type", at);
    if (p.contains("betas") && !p["betas"].is_null()) {
      const std::vector<double> betas = typed<std::vector<double>>(p, "betas", at);
      if (betas.size() != 2)
        throw ValueError("config: '" + at + ".betas' must be [beta1, beta2], got " +
                         p["betas"].dump());
      s.beta1 = betas[0];
      s.beta2 = betas[1];
    }
    if (p.contains("learning_rate")) {
      const auto& lr = p["learning_rate"];
      const std::string l = at + ".learning_rate";
      // Optional keys: absent (robomimic's bc section lacks some) keeps the value above.
      auto read = [&](const char* key, auto& out) {
        if (lr.contains(key)) out = typed<std::decay_t<decltype(out)>>(lr, key, l);
      };
      read("initial", s.lr);
      read("decay_factor", s.decay_factor);
      if (lr.contains("epoch_schedule") && !lr["epoch_schedule"].is_null())
        read("epoch_schedule", s.epoch_schedule);
      read("scheduler_type", s.scheduler);
      config::naming_path(l + ".scheduler_type",
                          [&] { return optim::LrSchedule::kind_from_name(s.scheduler); });
      read("step_every_batch", s.step_every_batch);
      read("warmup_steps", s.warmup_steps);
      read("num_cycles", s.num_cycles);
      if (!(s.lr > 0))
        throw ValueError("config: '" + l + ".initial' must be > 0, got " + lr["initial"].dump());
      if (s.warmup_steps < 0)
        throw ValueError("config: '" + l + ".warmup_steps' must be >= 0, got " +
                         lr["warmup_steps"].dump());
      if (s.scheduler == "linear" && !s.step_every_batch && s.epoch_schedule.size() > 1)
        throw ValueError("config: '" + l +
                         ".epoch_schedule' of the linear schedule holds its one end epoch, got " +
                         lr["epoch_schedule"].dump());
    }
    if (p.contains("regularization") && p["regularization"].contains("L2")) {
      s.l2 = typed<double>(p["regularization"], "L2", at + ".regularization");
      if (!(s.l2 >= 0))
        throw ValueError("config: '" + at + ".regularization.L2' must be >= 0, got " +
                         p["regularization"]["L2"].dump());
    }
    if (s.type != "adam" && s.type != "adamw")
      throw ValueError("config: '" + at + ".optimizer_type' is '" + s.type +
                       "', expected adam or adamw");
    return s;
  }
  // From a merged config: algo.optim_params.policy plus clipping by train.max_grad_norm.
  static OptimizerSettings from_config(const nlohmann::json& config) {
    OptimizerSettings s = from_json(config.at("algo").at("optim_params").at("policy"));
    const auto& clip = config.at("train").at("max_grad_norm");
    if (clip.is_number()) s.max_grad_norm = clip.get<double>();
    return s;
  }
};

// The config an algorithm's settings are parsed from: a partial config (tests, benchmarks, a
// program building a policy by hand) takes the algorithm's defaults for the sections it leaves
// out, except an optimizer block it gives, which is taken as given (its optional keys keep the
// OptimizerSettings values above). A merged config comes back unchanged.
inline nlohmann::json with_defaults(nlohmann::json defaults, const nlohmann::json& given) {
  const bool has_optim = given.contains("algo") && given["algo"].contains("optim_params");
  nlohmann::json c = config::merged_over(std::move(defaults), given);
  if (has_optim) c["algo"]["optim_params"] = given["algo"]["optim_params"];
  return c;
}

template <class T, class D = Cpu>
class PolicyOptimizer {
 public:
  // total_units: length of the schedule in its own units (batches when stepped per batch,
  // epochs otherwise), for the cosine and linear schedules.
  PolicyOptimizer(const nn::ParamStore<T, D>& store, const OptimizerSettings& s,
                  int64_t total_units)
      : store_(store),
        settings_(s),
        adam_(store, optim::AdamOptions{s.lr, s.beta1, s.beta2, 1e-8, s.l2, s.type == "adamw"}) {
    schedule_.base_lr = s.lr;
    schedule_.decay_factor = s.decay_factor;
    schedule_.warmup_steps = s.warmup_steps;
    schedule_.num_cycles = s.num_cycles;
    schedule_.total_steps = std::max<int64_t>(1, total_units);
    if (s.scheduler == "multistep") {
      // robomimic: an empty epoch_schedule means a constant rate.
      schedule_.kind =
          s.epoch_schedule.empty() ? optim::LrSchedule::kConstant : optim::LrSchedule::kMultiStep;
      schedule_.milestones = s.epoch_schedule;
    } else {
      schedule_.kind = optim::LrSchedule::kind_from_name(s.scheduler);
    }
    if (schedule_.kind == optim::LrSchedule::kLinear && !s.step_every_batch) {
      // robomimic's LinearLR: from 1 to decay_factor over epoch_schedule[0] epochs, then held;
      // no epoch_schedule means a constant rate.
      if (s.epoch_schedule.empty()) {
        schedule_.kind = optim::LrSchedule::kConstant;
      } else {
        schedule_.total_steps = std::max<int64_t>(1, s.epoch_schedule[0]);
        schedule_.end_factor = s.decay_factor;
      }
    }
  }

  double learning_rate() const { return schedule_.at(units()); }
  // Clips (when configured) and applies one update; returns the gradient norm before clipping.
  double step() {
    const double norm = settings_.max_grad_norm > 0
                            ? optim::clip_grad_norm(store_, settings_.max_grad_norm)
                            : optim::grad_norm(store_);
    adam_.step(learning_rate());
    ++batches_;
    return norm;
  }
  // What robomimic logs as Policy_Grad_Norms for a step whose norm before clipping was `norm`:
  // TorchUtils.backprop_for_loss sums each parameter's squared gradient norm after clipping,
  // i.e. the squared global norm, not the norm itself.
  double logged_grad_norms(double norm) const {
    const double m = settings_.max_grad_norm;
    const double coef = m > 0 ? m / (norm + 1e-6) : 1.0;
    const double after = coef < 1 ? norm * coef : norm;
    return after * after;
  }
  void end_epoch() { ++epochs_; }

  optim::Adam<T, D>& adam() { return adam_; }
  const optim::Adam<T, D>& adam() const { return adam_; }
  int64_t batches() const { return batches_; }
  int64_t epochs() const { return epochs_; }
  void set_counters(int64_t batches, int64_t epochs) {
    batches_ = batches;
    epochs_ = epochs;
    adam_.set_steps(batches);
  }

 private:
  int64_t units() const { return settings_.step_every_batch ? batches_ : epochs_; }
  const nn::ParamStore<T, D>& store_;
  OptimizerSettings settings_;
  optim::Adam<T, D> adam_;
  optim::LrSchedule schedule_;
  int64_t batches_ = 0, epochs_ = 0;
};

}  // namespace mimic::policy
