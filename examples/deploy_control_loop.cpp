// A Diffusion Policy in a fixed-rate control loop (observations in, action chunks through a queue,
// one action per tick), with its latency measured on an idle machine and while busy processes
// hold every core, as on a robot's computer.
//   deploy_control_loop [--checkpoint F] [--rate 10] [--calls 60] [--load N]
//                       [--priority normal|nice|realtime] [--threads N] [--fixed] [--debug]
// Without --checkpoint it builds Diffusion Policy's Push-T low-dim policy (the published UNet,
// 65.8M parameters, 10 DDIM steps, chunks of 8 actions) with fresh weights: the latency does not
// depend on the weights. The observations come from a synthetic sensor (a smooth trajectory); in
// a robot they come from its state estimate. Phases:
//   idle      the loop alone
//   loaded    --load busy processes (default: one per core), the loop sharing cores (its default)
//   fixed     the same load with every call on all threads (what a plain OpenMP program does;
//             --fixed makes every phase do so)
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "mimic/deploy/control_loop.hpp"
#include "mimic/deploy/priority.hpp"
#include "mimic/policy/builtin.hpp"
#include "mimic/policy/core/checkpoint.hpp"
#include "mimic/policy/diffusion/diffusion_policy.hpp"

namespace {

using json = nlohmann::json;
namespace deploy = mimic::deploy;
namespace policy = mimic::policy;

struct Args {
  std::string checkpoint;
  double rate = 10;
  int64_t calls = 60, load = -1;
  int threads = 0;
  deploy::Priority priority = deploy::Priority::kNormal;
  bool debug = false, fixed = false;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw mimic::ValueError(s + " needs a value");
      return argv[++i];
    };
    if (s == "--checkpoint") {
      a.checkpoint = value();
    } else if (s == "--rate") {
      a.rate = std::stod(value());
    } else if (s == "--calls") {
      a.calls = std::stoll(value());
    } else if (s == "--load") {
      a.load = std::stoll(value());
    } else if (s == "--threads") {
      a.threads = std::stoi(value());
    } else if (s == "--priority") {
      const std::string p = value();
      if (p == "normal")
        a.priority = deploy::Priority::kNormal;
      else if (p == "nice")
        a.priority = deploy::Priority::kNice;
      else if (p == "realtime")
        a.priority = deploy::Priority::kRealtime;
      else
        throw mimic::ValueError("--priority " + p + ": expected normal, nice or realtime");
    } else if (s == "--debug") {
      a.debug = true;
    } else if (s == "--fixed") {
      a.fixed = true;
    } else {
      throw mimic::ValueError("unknown flag " + s +
                              " (use --checkpoint, --rate, --calls, --load, --threads, "
                              "--priority, --fixed, --debug)");
    }
  }
  if (a.calls < 1) throw mimic::ValueError("--calls must be at least 1");
  return a;
}

// Diffusion Policy's Push-T low-dim policy: 9 keypoints and the agent position in, 2-D actions
// out, with pixel-range statistics as a trained policy carries them.
std::unique_ptr<policy::AnyPolicy> pusht_diffusion_policy(bool small) {
  policy::ShapeMeta meta;
  meta.obs_shapes["obs"] = {20};
  meta.action_dim = 2;
  policy::Normalization norm;
  norm.obs = {std::vector<double>(20, 256.0), std::vector<double>(20, 256.0)};
  norm.action = {std::vector<double>(2, 256.0), std::vector<double>(2, 256.0)};
  json algo = {{"ddpm", {{"enabled", false}}},
               {"ddim", {{"enabled", true}, {"num_inference_timesteps", 10}}}};
  if (small) algo["unet"] = {{"down_dims", {32, 64}}, {"diffusion_step_embed_dim", 32}};
  return std::make_unique<policy::DiffusionPolicy<float>>(
      meta, norm,
      policy::DiffusionPolicySettings::from_config({{"algo", algo}, {"train", json::object()}}), 1,
      1);
}

// Busy processes, one spinning loop each, until destroyed.
class CpuLoad {
 public:
  explicit CpuLoad(int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      const pid_t pid = fork();
      if (pid < 0) throw mimic::Error("fork failed: cannot start the load processes");
      if (pid == 0) {  // the load runs at normal priority, whatever the loop raised itself to
        sched_param normal{};
        sched_setscheduler(0, SCHED_OTHER, &normal);
        setpriority(PRIO_PROCESS, 0, 0);
        volatile uint64_t x = 0;
        for (;;) x = x + 1;
      }
      pids_.push_back(pid);
    }
  }
  ~CpuLoad() {
    for (pid_t p : pids_) kill(p, SIGKILL);
    for (pid_t p : pids_) waitpid(p, nullptr, 0);
  }
  CpuLoad(const CpuLoad&) = delete;
  CpuLoad& operator=(const CpuLoad&) = delete;

 private:
  std::vector<pid_t> pids_;
};

struct PhaseResult {
  std::string name;
  int64_t calls = 0, misses = 0;
  int threads = 0;
  double p50 = 0, p99 = 0, max = 0, tick_p99 = 0;
};

PhaseResult run_phase(const std::string& name, policy::AnyPolicy& p, const Args& args,
                      bool share_cores, int64_t calls) {
  deploy::ControlLoopOptions o;
  o.rate_hz = args.rate;
  o.max_threads = args.threads;
  o.share_cores = share_cores;
  deploy::ControlLoop loop(p, o);
  const auto& stats = p.normalization().obs;
  const int64_t dim = loop.obs_dim();
  // The sensor: each value moves on its own slow sine inside the training data's range.
  int64_t t = 0;
  auto sense = [&](float* obs) {
    for (int64_t i = 0; i < dim; ++i) {
      const double u = 0.8 * std::sin(0.05 * double(t) + 0.7 * double(i));
      obs[i] = stats.offset.empty() || i >= int64_t(stats.offset.size())
                   ? float(u)
                   : float(stats.offset[size_t(i)] + stats.scale[size_t(i)] * u);
    }
    ++t;
  };
  double checksum = 0;
  auto act = [&](const float* a) { checksum += a[0]; };
  std::vector<float> first(static_cast<size_t>(dim));
  sense(first.data());
  loop.warm_start(first.data());
  const deploy::RunReport r = loop.run(calls * loop.chunk(), sense, act);
  if (!std::isfinite(checksum)) throw mimic::ValueError("the policy produced non-finite actions");
  PhaseResult out{name,
                  loop.policy_calls(),
                  r.deadline_misses,
                  loop.threads_used(),
                  loop.call_latency().quantile(0.5),
                  loop.call_latency().quantile(0.99),
                  loop.call_latency().max(),
                  loop.tick_latency().quantile(0.99)};
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  Args args = parse(argc, argv);
  if (args.debug) args.calls = std::min<int64_t>(args.calls, 4);
  const int cores = deploy::usable_cores();
  const int64_t load = args.load >= 0 ? args.load : cores;
  std::cout << "priority: " << deploy::raise_priority(args.priority) << "\n";

  std::unique_ptr<policy::AnyPolicy> p;
  if (!args.checkpoint.empty()) {
    const policy::Checkpoint c = policy::load_checkpoint(args.checkpoint);
    p = policy::policy_from_checkpoint<float>(c, args.checkpoint);
  } else {
    p = pusht_diffusion_policy(args.debug);
  }
  std::cout << "policy: " << p->algo_name() << ", " << p->parameter_count() << " parameters, "
            << cores << " cores, " << mimic::cpu::max_threads() << " threads, " << args.rate
            << " Hz\n";

  std::vector<PhaseResult> results;
  results.push_back(run_phase("idle", *p, args, !args.fixed, args.calls));
  if (load > 0) {
    CpuLoad busy(load);
    results.push_back(run_phase("loaded", *p, args, !args.fixed, args.calls));
    results.push_back(run_phase("fixed", *p, args, false, std::max<int64_t>(2, args.calls / 4)));
  }

  std::printf("\n%-8s %6s %8s %11s %11s %11s %12s %7s\n", "phase", "calls", "threads",
              "call p50 ms", "call p99 ms", "call max ms", "tick p99 ms", "misses");
  for (const PhaseResult& r : results)
    std::printf("%-8s %6lld %8d %11.2f %11.2f %11.2f %12.2f %7lld\n", r.name.c_str(),
                (long long)r.calls, r.threads, r.p50 * 1e3, r.p99 * 1e3, r.max * 1e3,
                r.tick_p99 * 1e3, (long long)r.misses);
  if (results.size() > 1)
    std::printf("\nloaded p99 / idle p99 = %.2f (with %lld busy processes on %d cores)\n",
                results[1].p99 / results[0].p99, (long long)load, cores);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "deploy_control_loop: " << e.what() << "\n";
  return 1;
}
