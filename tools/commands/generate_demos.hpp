#pragma once
// `mimic generate-demos --env pusht|lift --n N --output FILE [--images] [--seed S]
//   [--valid_ratio 0.1] [--threads 2]`: the first N successful expert episodes from seeds S, S+1,
// ... in the robomimic schema with seeded train/valid masks, written atomically.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <random>

#include "commands/flags.hpp"
#include "mimic/env/expert_demos.hpp"
#include "mimic/log/progress.hpp"

namespace mimic::cli {

inline int generate_demos(const Flags& flags) {
  flags.check_known({"env", "n", "output", "images", "seed", "valid_ratio", "threads"});
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
  env::ExpertDemos gen = env::generate_expert_demos(task, n, seed, flags.has("images"),
                                                    int(flags.number("threads", 2)), progress);
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
  w.finish();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "wrote " << output << ": " << gen.demos.size() << " demos, " << steps << " steps ("
            << gen.failures << " of " << gen.attempts
            << " expert episodes failed and were dropped; " << train.size() << " train / "
            << valid.size() << " valid) in " << log::format_duration(secs) << "\n";
  return 0;
}

}  // namespace mimic::cli
