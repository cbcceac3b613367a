#pragma once
// A trained policy in a fixed-rate control loop: observations in, actions out, one per tick.
// Chunk policies (Diffusion Policy) are called when their queued actions run out; step policies
// (BC, BC-RNN) every tick. Before the loop starts, warm_start() calls the policy a few times so
// that every buffer has its size (and CUDA chunks are recorded as graphs); after that a tick of a
// policy that implements act_rollout_into (Diffusion Policy) makes no heap allocation
// (tests/alloc). Each call picks its thread count from the cores other tasks leave free
// (core_share.hpp), so a busy machine costs the loop its share of a core, not a scheduler slice
// per parallel region; a loop whose priority was raised (priority.hpp) keeps all its threads.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"
#include "mimic/core/tensor.hpp"
#include "mimic/deploy/action_queue.hpp"
#include "mimic/deploy/core_share.hpp"
#include "mimic/deploy/latency_recorder.hpp"
#include "mimic/policy/core/any_policy.hpp"
#include "mimic/policy/core/features.hpp"

namespace mimic::deploy {

struct ControlLoopOptions {
  double rate_hz = 10.0;         // control ticks per second (Diffusion Policy's Push-T: 10)
  int max_threads = 0;           // threads per policy call; 0: OpenMP's default
  bool share_cores = true;       // fewer threads while other tasks hold the cores
  int warmup_calls = 3;          // policy calls before the loop starts
  int64_t actions_per_call = 0;  // actions executed from each chunk; 0: the whole chunk
  int64_t latency_samples = 1 << 16;
};

// What run() saw: ticks that started after their deadline had passed are misses.
struct RunReport {
  int64_t ticks = 0, deadline_misses = 0;
  double worst_lateness_s = 0;
};

class ControlLoop {
 public:
  explicit ControlLoop(policy::AnyPolicy& policy, ControlLoopOptions options = {})
      : policy_(policy),
        options_(options),
        obs_dim_(policy.shape_meta().obs_dim()),
        low_dim_(policy.shape_meta().low_dim_dim()),
        steps_(policy.n_obs_steps()),
        action_dim_(policy.shape_meta().action_dim),
        cores_(usable_cores()),
        max_threads_(options.max_threads > 0 ? options.max_threads : cpu::max_threads()),
        env_ids_{0},
        features_(Tensor<float>::empty({1, policy.n_obs_steps(), policy.shape_meta().obs_dim()})),
        inference_(options.latency_samples),
        ticks_(options.latency_samples) {
    if (!(options.rate_hz > 0 && options.rate_hz <= 1e5))
      throw ValueError("ControlLoop: rate_hz " + std::to_string(options.rate_hz) +
                       " must be in (0, 100000]");
    if (options.warmup_calls < 1)
      throw ValueError("ControlLoop: warmup_calls " + std::to_string(options.warmup_calls) +
                       " must be at least 1 (the first call sizes every buffer)");
    if (options.actions_per_call < 0)
      throw ValueError("ControlLoop: actions_per_call " + std::to_string(options.actions_per_call) +
                       " must be 0 (all) or more");
    if (!policy.normalization().obs.offset.empty() &&
        int64_t(policy.normalization().obs.offset.size()) != low_dim_)
      throw ShapeError("ControlLoop: the policy's observation statistics have " +
                       std::to_string(policy.normalization().obs.offset.size()) +
                       " dims, its low-dim observations " + std::to_string(low_dim_));
  }

  int64_t obs_dim() const { return obs_dim_; }
  int64_t action_dim() const { return action_dim_; }
  // Actions per policy call (known after warm_start).
  int64_t chunk() const { return chunk_; }
  int64_t policy_calls() const { return calls_; }
  // Threads the last policy call used.
  int threads_used() const { return last_threads_; }
  // Durations of the policy calls and of whole ticks since warm_start.
  const LatencyRecorder& call_latency() const { return inference_; }
  const LatencyRecorder& tick_latency() const { return ticks_; }

  // Calls the policy warmup_calls times on `raw_obs` at max_threads, and with core sharing at one
  // thread too, so that its buffers, and the queue's, have their sizes; then starts a new
  // episode. (With more than two cores a call may also pick counts in between; libgomp keeps the
  // team of the last count only, so changing between two such counts allocates a team.)
  void warm_start(const float* raw_obs) {
    const int saved = cpu::max_threads();
    std::vector<int> counts{max_threads_};
    if (options_.share_cores && max_threads_ > 1) counts.push_back(1);
    for (int threads : counts) {
      use_threads(threads);
      for (int i = 0; i < options_.warmup_calls; ++i) {
        start_episode();
        observe(raw_obs);
        policy_.act_rollout_into(features_, env_ids_, actions_);
      }
    }
    use_threads(saved);
    if (actions_.rank() != 3 || actions_.dim(0) != 1 || actions_.dim(2) != action_dim_)
      throw ShapeError("ControlLoop: the policy returned actions of shape " +
                       actions_.shape().str() + ", expected [1, chunk, " +
                       std::to_string(action_dim_) + "]");
    chunk_ = actions_.dim(1);
    per_call_ =
        options_.actions_per_call > 0 ? std::min(options_.actions_per_call, chunk_) : chunk_;
    queue_ = ActionQueue(chunk_, action_dim_);
    ahead_ = runs_ahead_of_normal_tasks();  // priorities are raised before the loop starts
    obs_.assign(size_t(obs_dim_), 0.f);     // run()'s buffers
    action_.assign(size_t(action_dim_), 0.f);
    warm_ = true;
    start_episode();
    inference_.clear();
    ticks_.clear();
    calls_ = 0;
  }

  // A new episode: empty history and queue, the policy's recurrent state cleared.
  void start_episode() {
    policy_.reset_rollout(0);
    queue_.clear();
    history_ = 0;
    busy_ = -1;
  }

  // One control tick: `raw_obs` (obs_dim values: the policy's low-dim keys in name order, then
  // each image as CHW floats in [0, 1], before normalization) joins the history; the policy runs
  // when no queued action is left; the next action (action_dim values) is written to `action`.
  void tick(const float* raw_obs, float* action) {
    if (!warm_) throw ValueError("ControlLoop: call warm_start before the first tick");
    const auto t0 = std::chrono::steady_clock::now();
    observe(raw_obs);
    if (options_.share_cores) {
      // The least busy moment since the last call: right after a call this process's own OpenMP
      // workers may still be spinning (libgomp spins before it sleeps) and count as runnable.
      const int runnable = runnable_tasks();
      if (runnable >= 0) busy_ = busy_ < 0 ? runnable : std::min(busy_, runnable);
    }
    if (queue_.empty()) call_policy();
    queue_.pop(action);
    ticks_.add(seconds_since(t0));
  }

  // `ticks` ticks at rate_hz on absolute deadlines (CLOCK_MONOTONIC): sense(float* raw_obs) fills
  // the observation, act(const float* action) takes the action. A tick that starts after its
  // deadline is a miss; the schedule then skips to the next deadline still ahead.
  template <class Sense, class Act>
  RunReport run(int64_t ticks, Sense&& sense, Act&& act) {
    if (!warm_) throw ValueError("ControlLoop: call warm_start before run");
    RunReport report;
    const int64_t period_ns = int64_t(1e9 / options_.rate_hz);
    timespec next{};
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (int64_t i = 0; i < ticks; ++i) {
      timespec now{};
      clock_gettime(CLOCK_MONOTONIC, &now);
      const int64_t late_ns = to_ns(now) - to_ns(next);
      if (late_ns > period_ns / 10) {  // started later than a tenth of a period: a miss
        ++report.deadline_misses;
        report.worst_lateness_s = std::max(report.worst_lateness_s, double(late_ns) * 1e-9);
      }
      sense(obs_.data());
      tick(obs_.data(), action_.data());
      act(static_cast<const float*>(action_.data()));
      ++report.ticks;
      int64_t deadline = to_ns(next) + period_ns;
      clock_gettime(CLOCK_MONOTONIC, &now);
      while (deadline <= to_ns(now)) deadline += period_ns;
      next = from_ns(deadline);
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
    }
    return report;
  }

 private:
  static double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  static int64_t to_ns(const timespec& t) { return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec; }
  static timespec from_ns(int64_t ns) {
    timespec t{};
    t.tv_sec = time_t(ns / 1000000000);
    t.tv_nsec = long(ns % 1000000000);
    return t;
  }

  // Appends one normalized observation row to the history window [1, To, obs_dim]; at the start
  // of an episode the first observation fills every step (as rollouts repeat the oldest).
  void observe(const float* raw_obs) {
    float* rows = features_.data();
    float* newest = rows + (steps_ - 1) * obs_dim_;
    if (history_ > 0) std::copy(rows + obs_dim_, rows + steps_ * obs_dim_, rows);
    std::copy_n(raw_obs, obs_dim_, newest);
    policy::normalize_rows(policy_.normalization().obs, newest, 1, low_dim_);
    for (int64_t i = 0; i < obs_dim_; ++i)
      if (!std::isfinite(newest[i]))
        throw ValueError("ControlLoop: observation value " + std::to_string(i) + " is " +
                         std::to_string(newest[i]) + " (expected a finite number)");
    if (history_ == 0)
      for (int64_t s = 0; s + 1 < steps_; ++s) std::copy_n(newest, obs_dim_, rows + s * obs_dim_);
    ++history_;
  }

  void call_policy() {
    const int saved = cpu::max_threads();
    last_threads_ = options_.share_cores && !ahead_
                        ? threads_for_free_cores(max_threads_, cores_, busy_)
                        : max_threads_;
    use_threads(last_threads_);
    const auto t0 = std::chrono::steady_clock::now();
    policy_.act_rollout_into(features_, env_ids_, actions_);
    inference_.add(seconds_since(t0));
    use_threads(saved);
    if (actions_.numel() != chunk_ * action_dim_)
      throw ShapeError("ControlLoop: the policy returned " + actions_.shape().str() +
                       " after warm start gave chunks of " + std::to_string(chunk_));
    queue_.push(actions_.data(), per_call_);
    ++calls_;
    busy_ = -1;
  }

  policy::AnyPolicy& policy_;
  ControlLoopOptions options_;
  int64_t obs_dim_, low_dim_, steps_, action_dim_;
  int cores_, max_threads_, last_threads_ = 0;
  std::vector<int> env_ids_;
  Tensor<float> features_, actions_;
  ActionQueue queue_;
  LatencyRecorder inference_, ticks_;
  std::vector<float> obs_, action_;
  int64_t chunk_ = 0, per_call_ = 0, calls_ = 0, history_ = 0;
  int busy_ = -1;  // fewest runnable tasks seen since the last policy call (-1: none seen)
  bool warm_ = false, ahead_ = false;
};

}  // namespace mimic::deploy
