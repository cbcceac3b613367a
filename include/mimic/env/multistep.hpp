#pragma once
// Diffusion Policy's MultiStep wrapper: executes a chunk of actions one control step at a time,
// stops early when the episode ends (done, success when asked, or the step limit), keeps the
// last n_obs_steps observations (padded with the oldest at reset) and reports the maximum
// reward seen so far in the episode, as well as robomimic's return and success.
#include <functional>
#include <vector>

#include "mimic/env/frame_stack.hpp"

namespace mimic::env {

class MultiStep {
 public:
  // Called after every control step with the action, its result and whether the episode ended.
  using StepHook = std::function<void(const std::vector<float>&, const StepResult&, bool)>;

  MultiStep(Env& env, int n_obs_steps, int max_steps, bool terminate_on_success = true)
      : env_(env),
        history_(n_obs_steps),
        max_steps_(max_steps),
        terminate_on_success_(terminate_on_success) {
    if (max_steps < 1) throw ValueError("MultiStep: max_steps must be >= 1");
  }

  void reset(uint64_t seed) {
    env_.reset(seed);
    history_.reset(env_.observe());
    steps_ = 0;
    ret_ = 0;
    max_reward_ = 0;
    success_ = done_ = false;
  }
  // Executes actions in order until they run out or the episode ends; returns the number run.
  int step(const std::vector<std::vector<float>>& actions, const StepHook& hook = {}) {
    int n = 0;
    for (const auto& a : actions) {
      if (done_) break;
      const StepResult r = env_.step(a);
      ++n;
      ++steps_;
      ret_ += r.reward;
      max_reward_ = std::max(max_reward_, r.reward);
      success_ = success_ || r.success || env_.is_success();
      history_.push(env_.observe());
      done_ = r.done || steps_ >= max_steps_ || (terminate_on_success_ && success_);
      if (hook) hook(a, r, done_);
    }
    return n;
  }

  std::vector<Observation> observations() const { return history_.frames(); }
  const Observation& latest() const { return history_.latest(); }
  Env& env() { return env_; }
  int steps() const { return steps_; }
  double episode_return() const { return ret_; }
  double max_reward() const { return max_reward_; }
  bool success() const { return success_; }
  bool done() const { return done_; }

 private:
  Env& env_;
  FrameStack history_;
  int max_steps_;
  bool terminate_on_success_;
  int steps_ = 0;
  double ret_ = 0, max_reward_ = 0;
  bool success_ = false, done_ = false;
};

}  // namespace mimic::env
