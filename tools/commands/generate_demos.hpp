#pragma once
// `mimic generate-demos --env pusht|lift --n N --output FILE [--images] [--seed S]
//   [--valid_ratio 0.1] [--threads 2] [--quality expert|mixed]`: the first N successful expert
// episodes from seeds S, S+1, ... in the robomimic schema with seeded train/valid masks, written
// atomically. `--quality mixed` is robomimic's mixed-quality idea instead: a third each of
// expert demonstrations ("better"), noisy but successful ones ("okay", action noise std 0.3) and
// very noisy ones kept whether or not they succeed ("worse", std 0.6), with their rewards and
// robomimic's quality filter keys (better, okay, worse, okay_better, worse_better, worse_okay).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <random>

#include "commands/flags.hpp"
#include "mimic/env/expert_demos.hpp"
#include "mimic/log/progress.hpp"

namespace mimic::cli {

inline int generate_demos(const Flags& flags) {
  flags.check_known({"env", "n", "output", "images", "seed", "valid_ratio", "threads", "quality"});
  const std::string task = flags.require("env"), output = flags.require("output");
  if (task != "pusht" && task != "lift")
    throw ValueError("--env: expected pusht or lift, got '" + task + "'");
  const int64_t n = int64_t(flags.number("n", 200));
  const uint64_t seed = uint64_t(flags.number("seed", 0));
  const double ratio = flags.number("valid_ratio", 0.1);
  if (n < 1) throw ValueError("--n must be >= 1");
  if (!(ratio >= 0 && ratio < 1)) throw ValueError("--valid_ratio must be in [0, 1)");
  const auto t0 = std::chrono::steady_clock::now();
  const bool tty = isatty(STDERR_FILENO);
  std::mutex print_m;
  int64_t last_line = 0;
  auto progress = [&](int64_t done, int64_t) {
    std::lock_guard<std::mutex> lock(print_m);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const int width = 20, filled = int(std::min<int64_t>(width, width * done / n));
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "generate-demos %s [%s%s] %lld expert episodes for %lld demos %s", task.c_str(),
                  std::string(size_t(filled), '#').c_str(),
                  std::string(size_t(width - filled), '.').c_str(), (long long)done, (long long)n,
                  log::format_duration(secs).c_str());
    if (tty) {
      std::fprintf(stderr, "\r%s", buf);
    } else if (done - last_line >= std::max<int64_t>(1, n / 10)) {
      std::fprintf(stderr, "%s\n", buf);
      last_line = done;
    }
  };
  const std::string quality = flags.has("quality") ? flags.require("quality") : "expert";
  if (quality != "expert" && quality != "mixed")
    throw ValueError("--quality: expected expert or mixed, got '" + quality + "'");
  // Tiers of demonstrators: the expert alone, or three of rising noise (each a third of n from
  // its own range of seeds).
  struct Tier {
    std::string name;
    env::DemoQuality q;
    int64_t n;
  };
  std::vector<Tier> tiers;
  if (quality == "expert") {
    tiers.push_back({"", {}, n});
  } else {
    if (n < 3) throw ValueError("--n must be >= 3 for --quality mixed (a third per tier)");
    tiers = {{"better", {0.0, false}, n / 3},
             {"okay", {0.3, false}, n / 3},
             {"worse", {0.6, true}, n - 2 * (n / 3)}};
  }
  env::ExpertDemos gen;
  std::map<std::string, std::vector<std::string>> tier_names;
  int64_t kept_before = 0;
  for (size_t i = 0; i < tiers.size(); ++i) {
    const uint64_t tier_seed = seed + uint64_t(i) * 1000000;
    env::ExpertDemos part = env::generate_expert_demos(
        task, tiers[i].n, tier_seed, flags.has("images"), int(flags.number("threads", 2)),
        [&](int64_t done, int64_t kept) { progress(done, kept_before + kept); }, tiers[i].q);
    gen.env_args = part.env_args;
    gen.attempts += part.attempts;
    gen.failures += part.failures;
    for (data::Demo& d : part.demos) {
      d.name = "demo_" + std::to_string(gen.demos.size());
      if (!tiers[i].name.empty()) tier_names[tiers[i].name].push_back(d.name);
      gen.demos.push_back(std::move(d));
    }
    kept_before = int64_t(gen.demos.size());
  }
  if (tty) std::fprintf(stderr, "\n");
  data::RobomimicWriter w(output, gen.env_args);
  std::vector<std::string> names;
  int64_t steps = 0;
  for (const data::Demo& d : gen.demos) {
    names.push_back(d.name);
    steps += d.num_samples;
    w.add_demo(d, flags.has("images") ? 4 : 0);
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
  int64_t successes = 0;
  if (!tier_names.empty()) {
    auto joined = [&](const char* a, const char* b) {
      std::vector<std::string> v = tier_names[a];
      v.insert(v.end(), tier_names[b].begin(), tier_names[b].end());
      data::sort_demos(v);
      return v;
    };
    for (const char* t : {"better", "okay", "worse"}) w.set_mask(t, tier_names[t]);
    w.set_mask("okay_better", joined("okay", "better"));
    w.set_mask("worse_better", joined("worse", "better"));
    w.set_mask("worse_okay", joined("worse", "okay"));
    auto positive = [](const auto& v) {
      return std::any_of(v.begin(), v.end(), [](auto r) { return r > 0; });
    };
    for (const data::Demo& d : gen.demos)
      successes += positive(d.rewards.f64) || positive(d.rewards.f32);
  }
  w.finish();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "wrote " << output << ": " << gen.demos.size() << " demos, " << steps << " steps ("
            << gen.failures << " of " << gen.attempts << " episodes failed and "
            << (tier_names.empty() ? "were dropped" : "only the worse tier's were kept") << "; "
            << train.size() << " train / " << valid.size() << " valid";
  if (!tier_names.empty())
    std::cout << "; better " << tier_names["better"].size() << ", okay "
              << tier_names["okay"].size() << ", worse " << tier_names["worse"].size() << " ("
              << successes << " of " << gen.demos.size() << " demos succeed)";
  std::cout << ") in " << log::format_duration(secs) << "\n";
  return 0;
}

}  // namespace mimic::cli
