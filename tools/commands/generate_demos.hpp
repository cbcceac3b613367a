#pragma once
// `mimic generate-demos --env pusht|lift --n N --output FILE [--images] [--seed S]
//   [--valid_ratio 0.1]`: runs the scripted experts from seeds S, S+1, ... and writes the first N
// successful episodes in the robomimic schema with train/valid masks (atomically). Episodes run
// on both cores; which seeds are kept depends only on the seeds, not on the thread count.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "commands/flags.hpp"
#include "mimic/env/episode.hpp"
#include "mimic/env/lift_expert.hpp"
#include "mimic/env/make_env.hpp"
#include "mimic/env/pusht_expert.hpp"
#include "mimic/log/progress.hpp"

namespace mimic::cli {

struct ExpertEpisode {
  bool success = false;
  data::Demo demo;
};

inline ExpertEpisode run_expert(env::Env& e, const std::string& task, uint64_t seed) {
  e.reset(seed);
  std::vector<std::vector<double>> states;
  std::vector<env::Observation> obs{e.observe()};
  std::vector<std::vector<float>> actions;
  std::vector<double> rewards;
  std::vector<int> dones;
  std::unique_ptr<env::PushTExpert> pusht;
  std::unique_ptr<env::LiftExpert> lift;
  if (task == "pusht")
    pusht = std::make_unique<env::PushTExpert>(static_cast<env::PushT&>(e), seed);
  else
    lift = std::make_unique<env::LiftExpert>(seed);
  ExpertEpisode ep;
  for (int t = 0; t < e.horizon(); ++t) {
    states.push_back(e.get_state());
    std::vector<float> a = pusht ? pusht->act(static_cast<env::PushT&>(e)) : lift->act(obs.back());
    const env::StepResult r = e.step(a);
    actions.push_back(std::move(a));
    rewards.push_back(r.reward);
    obs.push_back(e.observe());
    const bool end = r.done || r.success || t + 1 == e.horizon();
    dones.push_back(end ? 1 : 0);
    if (r.success) ep.success = true;
    if (end) break;
  }
  if (ep.success) ep.demo = env::make_demo("", states, obs, actions, rewards, dones);
  return ep;
}

inline int generate_demos(const Flags& flags) {
  flags.check_known({"env", "n", "output", "images", "seed", "valid_ratio", "threads"});
  const std::string task = flags.require("env"), output = flags.require("output");
  if (task != "pusht" && task != "lift")
    throw ValueError("--env: expected pusht or lift, got '" + task + "'");
  const int64_t n = int64_t(flags.number("n", 200));
  const uint64_t seed = uint64_t(flags.number("seed", 0));
  const double ratio = flags.number("valid_ratio", 0.1);
  const bool images = flags.has("images");
  if (n < 1) throw ValueError("--n must be >= 1");
  if (!(ratio >= 0 && ratio < 1)) throw ValueError("--valid_ratio must be in [0, 1)");
  // Off-screen rendering contexts stay on one thread.
  const int threads = images ? 1 : std::max(1, int(flags.number("threads", 2)));
  const nlohmann::json env_args = nlohmann::json{{"env_name", task == "pusht" ? "PushT" : "Lift"}};
  const std::string args_json = env::make_env(env_args, images ? 1 : 0)->env_args().dump();

  std::vector<data::Demo> kept;
  std::atomic<int64_t> finished{0};
  int64_t attempts = 0, failures = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const bool tty = isatty(STDERR_FILENO);
  uint64_t next_seed = seed;
  while (int64_t(kept.size()) < n) {
    if (attempts > 3 * n + 20)
      throw ValueError("generate-demos: the expert failed too often (" + std::to_string(failures) +
                       " of " + std::to_string(attempts) + " episodes)");
    // A round of seeds, enough for the remaining demos plus a margin for failures.
    const int64_t want = n - int64_t(kept.size());
    const int64_t round = want + want / 10 + 1;
    std::vector<ExpertEpisode> eps(static_cast<size_t>(round));
    std::atomic<int64_t> next{0};
    std::vector<std::thread> pool;
    std::exception_ptr error;
    std::mutex error_m;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        try {
          auto e = env::make_env(env_args, images ? 1 : 0);
          for (int64_t i; (i = next++) < round;) {
            eps[size_t(i)] = run_expert(*e, task, next_seed + uint64_t(i));
            const int64_t done = ++finished;
            if (tty && threads > 0)
              std::fprintf(
                  stderr, "\rgenerate-demos %s: %lld episodes, %zu kept (target %lld) %s",
                  task.c_str(), (long long)done, kept.size(), (long long)n,
                  log::format_duration(
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count())
                      .c_str());
          }
        } catch (...) {
          std::lock_guard<std::mutex> lock(error_m);
          error = std::current_exception();
        }
      });
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
    for (auto& ep : eps) {
      ++attempts;
      if (!ep.success) {
        ++failures;
        continue;
      }
      if (int64_t(kept.size()) < n) kept.push_back(std::move(ep.demo));
    }
    next_seed += uint64_t(round);
    if (!tty)
      std::cerr << "generate-demos " << task << ": " << kept.size() << "/" << n << " demos after "
                << attempts << " episodes\n";
  }
  if (tty) std::fprintf(stderr, "\n");
  data::RobomimicWriter w(output, args_json);
  std::vector<std::string> names;
  int64_t steps = 0;
  for (size_t i = 0; i < kept.size(); ++i) {
    kept[i].name = "demo_" + std::to_string(i);
    names.push_back(kept[i].name);
    steps += kept[i].num_samples;
    w.add_demo(kept[i], images ? 4 : 0);
  }
  std::vector<std::string> shuffled = names;
  std::mt19937_64 rng(seed + 12345);
  for (size_t i = shuffled.size(); i > 1; --i)
    std::swap(shuffled[i - 1], shuffled[size_t(rng() % i)]);
  const size_t n_valid =
      names.size() > 1 ? std::max<size_t>(1, size_t(ratio * double(names.size()))) : 0;
  std::vector<std::string> valid(shuffled.begin(), shuffled.begin() + long(n_valid)),
      train(shuffled.begin() + long(n_valid), shuffled.end());
  data::sort_demos(valid);
  data::sort_demos(train);
  w.set_mask("train", train);
  if (!valid.empty()) w.set_mask("valid", valid);
  w.finish();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "wrote " << output << ": " << kept.size() << " demos, " << steps << " steps ("
            << failures << " of " << attempts << " expert episodes failed and were dropped; "
            << train.size() << " train / " << valid.size() << " valid) in "
            << log::format_duration(secs) << "\n";
  return 0;
}

}  // namespace mimic::cli
