// After warm_start, control ticks of a Diffusion Policy (queued actions and whole chunks: the
// condition, 10 DDIM steps of the UNet, the host copy, unnormalization) make no heap allocation,
// on either thread count the loop may pick.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "counting_allocator.hpp"
#include "mimic/deploy/control_loop.hpp"
#include "mimic/policy/diffusion/diffusion_policy.hpp"

namespace mimic {
namespace {

using json = nlohmann::json;

// Diffusion Policy's Push-T low-dim policy at its published size (UNet 256-512-1024, 65.8M
// parameters), so that the large GEMMs' paths are the ones checked.
policy::DiffusionPolicy<float> pusht_policy() {
  policy::ShapeMeta meta;
  meta.obs_shapes["obs"] = {20};
  meta.action_dim = 2;
  policy::Normalization norm;
  norm.obs = {std::vector<double>(20, 256.0), std::vector<double>(20, 256.0)};
  norm.action = {std::vector<double>(2, 256.0), std::vector<double>(2, 256.0)};
  const json algo = {{"ddpm", {{"enabled", false}}},
                     {"ddim", {{"enabled", true}, {"num_inference_timesteps", 10}}}};
  return policy::DiffusionPolicy<float>(
      meta, norm,
      policy::DiffusionPolicySettings::from_config({{"algo", algo}, {"train", json::object()}}), 7,
      1);
}

void sense(int64_t t, float* obs) {
  for (int i = 0; i < 20; ++i) obs[i] = float(256.0 + 200.0 * std::sin(0.1 * double(t) + i));
}

TEST(ZeroAllocation, ControlLoopTicksAllocateNothingAfterWarmStart) {
  for (bool share_cores : {false, true}) {
    auto dp = pusht_policy();
    deploy::ControlLoopOptions o;
    o.share_cores = share_cores;
    deploy::ControlLoop loop(dp, o);
    std::vector<float> obs(20), action(2);
    sense(0, obs.data());
    loop.warm_start(obs.data());
    ASSERT_EQ(loop.chunk(), 8);

    alloc_count::start();
    for (int64_t t = 1; t <= 3 * 8; ++t) {  // three chunks, every tick of them
      sense(t, obs.data());
      loop.tick(obs.data(), action.data());
    }
    const long during_ticks = alloc_count::stop();
    EXPECT_EQ(during_ticks, 0) << "heap allocations in 24 ticks (share_cores " << share_cores
                               << ")";
    EXPECT_EQ(loop.policy_calls(), 3);
    EXPECT_TRUE(std::isfinite(action[0]) && std::isfinite(action[1]));

    // run() on its deadlines: its clock and sleep calls allocate nothing either.
    int64_t t = 100;
    alloc_count::start();
    const deploy::RunReport r = loop.run(
        16, [&](float* out) { sense(t++, out); }, [&](const float*) {});
    EXPECT_EQ(alloc_count::stop(), 0) << "heap allocations in run()";
    EXPECT_EQ(r.ticks, 16);
    EXPECT_EQ(loop.policy_calls(), 5);
  }
}

}  // namespace
}  // namespace mimic
