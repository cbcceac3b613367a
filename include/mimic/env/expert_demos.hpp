#pragma once
// Demonstrations from the scripted experts: episodes from seeds seed, seed + 1, ... on `threads`
// threads, keeping the first n successful ones in seed order (so the result does not depend on
// the thread count), as robomimic demos named demo_0, demo_1, ...
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

// Not sorted, on purpose: the order of inline definitions steers GCC's inlining, which can move
// multiply-add contractions and so change trajectories in the last bit.
// clang-format off
#include "mimic/env/episode.hpp"
#include "mimic/env/lift/expert.hpp"
#include "mimic/env/builtin.hpp"
#include "mimic/env/pusht/expert.hpp"
// clang-format on

namespace mimic::env {

struct ExpertEpisode {
  bool success = false;
  data::Demo demo;
};

inline ExpertEpisode run_expert(Env& e, const std::string& task, uint64_t seed) {
  e.reset(seed);
  std::vector<std::vector<double>> states;
  std::vector<Observation> obs{e.observe()};
  std::vector<std::vector<float>> actions;
  std::vector<double> rewards;
  std::vector<int> dones;
  std::unique_ptr<PushTExpert> pusht;
  std::unique_ptr<LiftExpert> lift;
  if (task == "pusht")
    pusht = std::make_unique<PushTExpert>(static_cast<PushT&>(e), seed);
  else
    lift = std::make_unique<LiftExpert>(seed);
  ExpertEpisode ep;
  for (int t = 0; t < e.horizon(); ++t) {
    states.push_back(e.get_state());
    std::vector<float> a = pusht ? pusht->act(static_cast<PushT&>(e)) : lift->act(obs.back());
    const StepResult r = e.step(a);
    actions.push_back(std::move(a));
    rewards.push_back(r.reward);
    obs.push_back(e.observe());
    const bool end = r.done || r.success || t + 1 == e.horizon();
    dones.push_back(end ? 1 : 0);
    if (r.success) ep.success = true;
    if (end) break;
  }
  if (ep.success) {
    ep.demo = make_demo("", states, obs, actions, rewards, dones);
    ep.demo.model_file = e.model_file();
  }
  return ep;
}

struct ExpertDemos {
  std::vector<data::Demo> demos;
  int64_t attempts = 0, failures = 0;
  std::string env_args;  // JSON of the environment the demos came from
};

// task: "pusht" or "lift". progress(done_episodes, kept) is called from worker threads.
inline ExpertDemos generate_expert_demos(
    const std::string& task, int64_t n, uint64_t seed, bool images, int threads,
    const std::function<void(int64_t, int64_t)>& progress = {}) {
  if (task != "pusht" && task != "lift")
    throw ValueError("expert demos: unknown task '" + task + "' (expected pusht or lift)");
  if (n < 1) throw ValueError("expert demos: n must be >= 1");
  if (images) threads = 1;  // off-screen rendering contexts stay on one thread
  threads = std::max(1, threads);
  const nlohmann::json env_args = {{"env_name", task == "pusht" ? "PushT" : "Lift"}};
  ExpertDemos out;
  out.env_args = make_env(env_args, images ? 1 : 0)->env_args().dump();
  std::atomic<int64_t> finished{0};
  uint64_t next_seed = seed;
  while (int64_t(out.demos.size()) < n) {
    if (out.attempts > 3 * n + 20)
      throw ValueError("expert demos: the " + task + " expert failed too often (" +
                       std::to_string(out.failures) + " of " + std::to_string(out.attempts) +
                       " episodes)");
    const int64_t want = n - int64_t(out.demos.size());
    const int64_t round = want + want / 10 + 1;  // a margin for failures
    std::vector<ExpertEpisode> eps(static_cast<size_t>(round));
    std::atomic<int64_t> next{0};
    std::vector<std::thread> pool;
    std::exception_ptr error;
    std::mutex error_m;
    const int64_t kept = int64_t(out.demos.size());
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        try {
          auto e = make_env(env_args, images ? 1 : 0);
          for (int64_t i; (i = next++) < round;) {
            eps[size_t(i)] = run_expert(*e, task, next_seed + uint64_t(i));
            const int64_t done = ++finished;
            if (progress) progress(done, kept);
          }
        } catch (...) {
          std::lock_guard<std::mutex> lock(error_m);
          error = std::current_exception();
        }
      });
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
    for (auto& ep : eps) {
      ++out.attempts;
      if (!ep.success) {
        ++out.failures;
        continue;
      }
      if (int64_t(out.demos.size()) < n) {
        ep.demo.name = "demo_" + std::to_string(out.demos.size());
        out.demos.push_back(std::move(ep.demo));
      }
    }
    next_seed += uint64_t(round);
  }
  return out;
}

}  // namespace mimic::env
