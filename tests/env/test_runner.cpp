// MultiStep and FrameStack semantics on a small fake environment, and the rollout runner:
// deterministic episodes per seed, the same results for any number of parallel environments,
// early stops, aggregation and recording.
#include <gtest/gtest.h>

#include "mimic/env/multistep.hpp"
#include "mimic/env/runner.hpp"

namespace mimic::env {
namespace {

// Position x starts at the seed; an action adds a[0]. Reward follows a fixed per-step table
// (rising then falling) so max and sum differ; success when x >= 10; done after `limit` steps.
class CountingEnv : public Env {
 public:
  explicit CountingEnv(int limit = 1000) : limit_(limit) {}
  std::string name() const override { return "Counting"; }
  nlohmann::json env_args() const override { return {{"env_name", "Counting"}}; }
  int action_dim() const override { return 1; }
  std::vector<ObsSpec> observation_specs() const override { return {{"x", {1}}}; }
  void reset(uint64_t seed) override { x_ = double(seed), t_ = 0; }
  void reset_to(const std::vector<double>& s) override { x_ = s.at(0), t_ = int(s.at(1)); }
  std::vector<double> get_state() const override { return {x_, double(t_)}; }
  StepResult step(const std::vector<float>& a) override {
    if (a.size() != 1) throw ValueError("CountingEnv: one action value expected");
    x_ += a[0];
    ++t_;
    const double table[] = {0.1, 0.5, 0.9, 0.3, 0.2};
    return {table[std::min(t_ - 1, 4)], t_ >= limit_, x_ >= 10};
  }
  Observation observe() const override { return {{{"x", {float(x_)}}}, {}}; }
  bool is_success() const override { return x_ >= 10; }
  std::vector<std::string> cameras() const override { return {}; }
  std::vector<uint8_t> render(const std::string&, int, int) override { return {}; }
  int horizon() const override { return 50; }

 private:
  double x_ = 0;
  int t_ = 0, limit_;
};

TEST(FrameStack, PadsWithTheFirstObservationAndStacksKeys) {
  FrameStack f(3);
  f.reset({{{"x", {1}}}, {}});
  f.push({{{"x", {2}}}, {}});
  const auto frames = f.frames();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].low_dim.at("x")[0], 1);
  EXPECT_EQ(frames[1].low_dim.at("x")[0], 1);
  EXPECT_EQ(frames[2].low_dim.at("x")[0], 2);
  EXPECT_EQ(f.stacked().low_dim.at("x"), (std::vector<float>{1, 1, 2}));
  EXPECT_THROW(FrameStack(0), ValueError);
}

TEST(MultiStep, ExecutesChunksStopsEarlyAndKeepsTheMaxReward) {
  CountingEnv e(4);  // done after 4 steps
  MultiStep ms(e, 2, 100, false);
  ms.reset(0);
  EXPECT_EQ(ms.observations()[0].low_dim.at("x")[0], 0);  // padded history
  EXPECT_EQ(ms.observations()[1].low_dim.at("x")[0], 0);
  EXPECT_EQ(ms.step({{1}, {1}, {1}}), 3);
  EXPECT_DOUBLE_EQ(ms.max_reward(), 0.9);
  EXPECT_DOUBLE_EQ(ms.episode_return(), 0.1 + 0.5 + 0.9);
  EXPECT_EQ(ms.observations()[0].low_dim.at("x")[0], 2);
  EXPECT_EQ(ms.observations()[1].low_dim.at("x")[0], 3);
  EXPECT_EQ(ms.step({{1}, {1}, {1}}), 1);  // done after the 4th step: the rest is dropped
  EXPECT_TRUE(ms.done());
  EXPECT_DOUBLE_EQ(ms.max_reward(), 0.9);  // 0.3 does not lower it
  EXPECT_EQ(ms.steps(), 4);
  // The step limit and success end episodes too.
  MultiStep limited(e, 1, 2, true);
  limited.reset(9);
  EXPECT_EQ(limited.step({{2}, {2}, {2}}), 1);  // success at x = 11
  EXPECT_TRUE(limited.success());
  limited.reset(0);
  EXPECT_EQ(limited.step({{0}, {0}, {0}}), 2);
  EXPECT_FALSE(limited.success());
  EXPECT_THROW(e.step({1, 2}), ValueError);
}

// Moves toward 10 by a seed-dependent chunk; counts its calls and batch sizes.
class ScriptedPolicy : public RolloutPolicy {
 public:
  int n_obs_steps() const override { return 2; }
  void reset(int) override {}
  std::vector<std::vector<std::vector<float>>> act(
      const std::vector<int>& ids, const std::vector<std::vector<Observation>>& history) override {
    ++calls;
    max_batch = std::max(max_batch, int(ids.size()));
    std::vector<std::vector<std::vector<float>>> out;
    for (const auto& h : history) {
      EXPECT_EQ(h.size(), 2u);
      const float x = h.back().low_dim.at("x")[0];
      out.push_back({{x < 20 ? 1.f : 0.f}, {0.5f}});
    }
    return out;
  }
  int calls = 0, max_batch = 0;
};

TEST(Runner, SameEpisodesForAnyNumberOfParallelEnvironments) {
  RunnerOptions opt;
  opt.horizon = 12;
  opt.record = true;
  for (uint64_t s = 0; s < 7; ++s) opt.seeds.push_back(s);
  auto run = [&](int n_envs) {
    opt.n_envs = n_envs;
    ScriptedPolicy p;
    RunnerResult r = run_episodes([] { return std::make_unique<CountingEnv>(); }, p, opt);
    if (n_envs > 1) EXPECT_GT(p.max_batch, 1);
    return r;
  };
  const RunnerResult one = run(1), three = run(3);
  ASSERT_EQ(one.episodes.size(), 7u);
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(one.episodes[i].seed, i);
    EXPECT_EQ(one.episodes[i].horizon, three.episodes[i].horizon);
    EXPECT_EQ(one.episodes[i].ret, three.episodes[i].ret);
    EXPECT_EQ(one.episodes[i].success, three.episodes[i].success);
    EXPECT_EQ(one.episodes[i].record.actions, three.episodes[i].record.actions);
    // Recorded: N actions and states, N + 1 observations.
    const auto& rec = one.episodes[i].record;
    EXPECT_EQ(rec.states.size(), rec.actions.size());
    EXPECT_EQ(rec.obs.size(), rec.actions.size() + 1);
    EXPECT_EQ(rec.dones.back(), 1);
  }
  // Each chunk moves +1.5 in 2 steps: from seed 0, x is 9 after the 12-step horizon (a failure);
  // from seed 6, x reaches 10 at step 5.
  EXPECT_FALSE(one.episodes[0].success);
  EXPECT_EQ(one.episodes[0].horizon, 12);
  EXPECT_TRUE(one.episodes[6].success);
  EXPECT_EQ(one.episodes[6].horizon, 5);
  const auto j = one.to_json();
  double successes = 0, score = 0;
  for (const auto& e : one.episodes) successes += e.success, score += e.max_reward;
  EXPECT_DOUBLE_EQ(j["Success_Rate"].get<double>(), successes / 7);
  EXPECT_DOUBLE_EQ(j["Mean_Score"].get<double>(), score / 7);
  EXPECT_EQ(j["Num_Episodes"].get<int>(), 7);
}

}  // namespace
}  // namespace mimic::env
