#pragma once
// Demonstrations from the scripted experts: episodes from seeds seed, seed + 1, ... on `threads`
// threads, keeping the first n successful ones in seed order (so the result does not depend on
// the thread count), as robomimic demos named demo_0, demo_1, ...
#include <algorithm>
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
#include "mimic/core/philox.hpp"
// clang-format on

namespace mimic::env {

// The noise stream of an episode: its seed xor this constant.
constexpr uint64_t kNoiseStream = 0x6e6f697365000000ull;

struct ExpertEpisode {
  bool success = false;
  data::Demo demo;
};

// The expert's episode from `seed`. With noise_std > 0 each action of the expert gets Gaussian
// noise of that std (Philox stream of the seed), clamped to the action range [-1, 1]: a less
// skilled operator, whom the closed-loop expert keeps correcting.
inline ExpertEpisode run_expert(Env& e, const std::string& task, uint64_t seed,
                                double noise_std = 0.0, bool keep_failure = false) {
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
    if (noise_std > 0)
      for (size_t i = 0; i < a.size(); ++i) {
        const double z =
            philox_normal<double>(seed ^ kNoiseStream, uint64_t(t) * a.size() + uint64_t(i));
        a[i] = float(std::clamp(double(a[i]) + noise_std * z, -1.0, 1.0));
      }
    const StepResult r = e.step(a);
    actions.push_back(std::move(a));
    rewards.push_back(r.reward);
    obs.push_back(e.observe());
    const bool end = r.done || r.success || t + 1 == e.horizon();
    dones.push_back(end ? 1 : 0);
    if (r.success) ep.success = true;
    if (end) break;
  }
  if (ep.success || keep_failure) {
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

// How the demonstrator acts: the expert's actions plus noise of this std; failed episodes are
// kept (as demonstrations that did not succeed) when keep_failures.
struct DemoQuality {
  double noise_std = 0.0;
  bool keep_failures = false;
};

// task: "pusht" or "lift". progress(done_episodes, kept) is called from worker threads.
inline ExpertDemos generate_expert_demos(const std::string& task, int64_t n, uint64_t seed,
                                         bool images, int threads,
                                         const std::function<void(int64_t, int64_t)>& progress = {},
                                         DemoQuality quality = {}) {
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
            eps[size_t(i)] = run_expert(*e, task, next_seed + uint64_t(i), quality.noise_std,
                                        quality.keep_failures);
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
      if (!ep.success) ++out.failures;
      if (!ep.success && !quality.keep_failures) continue;
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
