// The deployment pieces: the action queue, latency quantiles, the core-sharing rule, and the
// control loop against the policy called directly on the same observation history.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "mimic/deploy/control_loop.hpp"
#include "mimic/policy/bc/bc_rnn.hpp"
#include "mimic/policy/diffusion/diffusion_policy.hpp"
#include "support/errors.hpp"

namespace mimic {
namespace {

using json = nlohmann::json;

TEST(ActionQueue, PopsInOrderAcrossTheWrapAndRefusesOverflow) {
  deploy::ActionQueue q(3, 2);
  const float a[] = {1, 2, 3, 4, 5, 6};
  q.push(a, 2);
  float out[2];
  ASSERT_TRUE(q.pop(out));
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[1], 2);
  q.push(a + 4, 1);  // wraps: slots 1, 2, then 0
  q.push(a, 1);
  EXPECT_EQ(q.size(), 3);
  for (float want : {3.f, 5.f, 1.f}) {
    ASSERT_TRUE(q.pop(out));
    EXPECT_EQ(out[0], want);
  }
  EXPECT_FALSE(q.pop(out));
  q.push(a, 3);
  mimic::testing::expect_error<ValueError>([&] { q.push(a, 1); }, {"exceeds the capacity 3"});
  mimic::testing::expect_error<ValueError>([] { (void)deploy::ActionQueue(0, 2); }, {"capacity 0"});
}

TEST(LatencyRecorder, NearestRankQuantilesOverTheLastSamples) {
  deploy::LatencyRecorder r(100);
  EXPECT_TRUE(std::isnan(r.quantile(0.5)));
  for (int i = 100; i >= 1; --i) r.add(double(i));
  EXPECT_EQ(r.quantile(0.5), 50.0);
  EXPECT_EQ(r.quantile(0.99), 99.0);
  EXPECT_EQ(r.quantile(1.0), 100.0);
  EXPECT_EQ(r.quantile(0.0), 1.0);
  EXPECT_EQ(r.max(), 100.0);
  for (int i = 0; i < 50; ++i) r.add(1000.0);  // replaces the 50 oldest (100 down to 51)
  EXPECT_EQ(r.count(), 100);
  EXPECT_EQ(r.quantile(0.5), 50.0);
  EXPECT_EQ(r.quantile(0.51), 1000.0);
  mimic::testing::expect_error<ValueError>([&] { r.quantile(1.5); },
                                           {"quantile", "outside [0, 1]"});
}

TEST(CoreShare, ReadsRunnableTasksAndLeavesOtherTasksTheirCores) {
  EXPECT_EQ(deploy::runnable_tasks_in_loadavg("0.50 0.40 0.14 3/120 4120\n"), 3);
  EXPECT_EQ(deploy::runnable_tasks_in_loadavg("12.00 9.10 7.77 17/2048 99"), 17);
  EXPECT_EQ(deploy::runnable_tasks_in_loadavg("0.50 0.40 0.14"), -1);
  EXPECT_EQ(deploy::runnable_tasks_in_loadavg("0.50 0.40 0.14 x/120 1"), -1);
  EXPECT_EQ(deploy::runnable_tasks_in_loadavg("0.50 0.40 0.14 3 1"), -1);
  // The caller is one of the runnable tasks.
  EXPECT_EQ(deploy::threads_for_free_cores(2, 2, 1), 2);  // alone
  EXPECT_EQ(deploy::threads_for_free_cores(2, 2, 2), 1);  // one other task holds a core
  EXPECT_EQ(deploy::threads_for_free_cores(2, 2, 5), 1);  // never below one
  EXPECT_EQ(deploy::threads_for_free_cores(4, 16, 3), 4);
  EXPECT_EQ(deploy::threads_for_free_cores(8, 16, 11), 6);
  EXPECT_EQ(deploy::threads_for_free_cores(2, 2, -1), 2);  // unknown: all
  EXPECT_GE(deploy::usable_cores(), 1);
#if defined(__linux__)
  EXPECT_GE(deploy::runnable_tasks(), 1);  // this thread is running while it reads
#endif
}

policy::ShapeMeta pusht_meta() {
  policy::ShapeMeta meta;
  meta.obs_shapes["obs"] = {20};
  meta.action_dim = 2;
  return meta;
}
policy::Normalization pixel_stats() {
  policy::Normalization norm;
  norm.obs = {std::vector<double>(20, 256.0), std::vector<double>(20, 128.0)};
  norm.action = {std::vector<double>(2, 256.0), std::vector<double>(2, 128.0)};
  return norm;
}
policy::DiffusionPolicy<float> small_dp() {
  const json algo = {{"ddpm", {{"enabled", false}}},
                     {"ddim", {{"enabled", true}, {"num_inference_timesteps", 4}}},
                     {"unet", {{"down_dims", {16, 32}}, {"diffusion_step_embed_dim", 16}}}};
  return policy::DiffusionPolicy<float>(
      pusht_meta(), pixel_stats(),
      policy::DiffusionPolicySettings::from_config({{"algo", algo}, {"train", json::object()}}), 5,
      1);
}
std::vector<float> observation(int64_t t) {
  std::vector<float> o(20);
  for (int i = 0; i < 20; ++i) o[size_t(i)] = float(256 + 150 * std::sin(0.3 * double(t) + i));
  return o;
}
// Rows [1, To, 20] of normalized observations t - To + 1 .. t (clamped at 0).
Tensor<float> history(int64_t t, int64_t steps) {
  auto f = Tensor<float>::empty({1, steps, 20});
  for (int64_t s = 0; s < steps; ++s) {
    const std::vector<float> o = observation(std::max<int64_t>(0, t - steps + 1 + s));
    for (int i = 0; i < 20; ++i) f[s * 20 + i] = float((double(o[size_t(i)]) - 256.0) / 128.0);
  }
  return f;
}

TEST(ControlLoop, ExecutesTheChunksThePolicyGivesForTheSameHistory) {
  for (int64_t per_call : {0, 3}) {
    auto dp = small_dp(), twin = small_dp();
    deploy::ControlLoopOptions o;
    o.share_cores = false;  // one thread count, so both sides sum in the same order
    o.actions_per_call = per_call;
    deploy::ControlLoop loop(dp, o);
    loop.warm_start(observation(0).data());
    for (int i = 0; i < o.warmup_calls; ++i) twin.predict(history(0, 2));  // same random draws
    const int64_t executed = per_call == 0 ? 8 : per_call;

    Tensor<float> chunk;
    std::vector<float> action(2);
    for (int64_t t = 0; t < 20; ++t) {
      if (t % executed == 0) chunk = twin.predict(history(t, 2));
      loop.tick(observation(t).data(), action.data());
      const int64_t k = t % executed;
      ASSERT_EQ(action[0], chunk[k * 2]) << "tick " << t << ", actions per call " << per_call;
      ASSERT_EQ(action[1], chunk[k * 2 + 1]) << "tick " << t;
    }
    EXPECT_EQ(loop.policy_calls(), (20 + executed - 1) / executed);
    EXPECT_EQ(loop.call_latency().count(), loop.policy_calls());
    EXPECT_EQ(loop.tick_latency().count(), 20);
  }
}

TEST(ControlLoop, StepPoliciesRunEveryTickWithTheirCarriedState) {
  const json algo = {{"actor_layer_dims", json::array()},
                     {"rnn", {{"enabled", true}, {"hidden_dim", 16}, {"num_layers", 2}}}};
  auto settings = policy::BcRnnSettings::from_config({{"algo", algo}, {"train", json::object()}});
  policy::BcRnn<float> rnn(pusht_meta(), pixel_stats(), settings, 3, 1);
  policy::BcRnn<float> twin(pusht_meta(), pixel_stats(), settings, 3, 1);
  deploy::ControlLoopOptions o;
  o.share_cores = false;
  deploy::ControlLoop loop(rnn, o);
  loop.warm_start(observation(0).data());
  EXPECT_EQ(loop.chunk(), 1);
  std::vector<float> action(2);
  for (int64_t t = 0; t < 6; ++t) {
    const Tensor<float> want = twin.act_rollout(history(t, 1), {0});
    loop.tick(observation(t).data(), action.data());
    ASSERT_EQ(action[0], want[0]) << "tick " << t;
    ASSERT_EQ(action[1], want[1]) << "tick " << t;
  }
  EXPECT_EQ(loop.policy_calls(), 6);
}

TEST(ControlLoop, RefusesBadObservationsAndSettings) {
  auto dp = small_dp();
  deploy::ControlLoop loop(dp);
  std::vector<float> obs = observation(0), action(2);
  mimic::testing::expect_error<ValueError>([&] { loop.tick(obs.data(), action.data()); },
                                           {"warm_start before the first tick"});
  loop.warm_start(obs.data());
  obs[7] = std::numeric_limits<float>::quiet_NaN();
  mimic::testing::expect_error<ValueError>([&] { loop.tick(obs.data(), action.data()); },
                                           {"observation value 7", "finite"});
  deploy::ControlLoopOptions bad;
  bad.rate_hz = 0;
  mimic::testing::expect_error<ValueError>([&] { (void)deploy::ControlLoop(dp, bad); },
                                           {"rate_hz"});
  bad = {};
  bad.warmup_calls = 0;
  mimic::testing::expect_error<ValueError>([&] { (void)deploy::ControlLoop(dp, bad); },
                                           {"warmup_calls"});
}

}  // namespace
}  // namespace mimic
