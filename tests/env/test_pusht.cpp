// Push-T: coverage geometry, reward rules, determinism, state round trips, rendering, expert.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "mimic/env/pusht/env.hpp"
#include "mimic/env/pusht/expert.hpp"

namespace mimic::env {
namespace {

using geom::Pose2;
using geom::Vec2;

// --- geometry ---

TEST(Geometry, ConvexIntersectionOfSquares) {
  const Pose2 id{};
  const auto a = geom::rect(id, 0, 0, 2, 2);
  const auto b = geom::rect(id, 1, 1, 3, 3);
  EXPECT_NEAR(geom::intersection_area(a, b), 1.0, 1e-12);
  // A square rotated by 45 degrees about the centre of the unit square: an octagon of area
  // 1 - 4 * (corner triangle) with legs (1 - 1/sqrt2); each triangle has area (legs^2)/2.
  const Pose2 rot{0.5, 0.5, M_PI / 4};
  const auto c = geom::rect(rot, -0.5, -0.5, 0.5, 0.5);
  const auto unit = geom::rect(id, 0, 0, 1, 1);
  const double leg = 1.0 - 1.0 / std::sqrt(2.0);
  EXPECT_NEAR(geom::intersection_area(unit, c), 1.0 - 2.0 * leg * leg, 1e-12);
  // Opposite orientation of the clip polygon gives the same answer.
  geom::Polygon rev;
  for (int i = c.n - 1; i >= 0; --i) rev.push(c.v[i]);
  EXPECT_NEAR(geom::intersection_area(unit, rev), 1.0 - 2.0 * leg * leg, 1e-12);
  EXPECT_NEAR(geom::intersection_area(a, geom::rect(id, 5, 5, 6, 6)), 0.0, 1e-12);
}

TEST(PushTCoverage, IdenticalPoseIsOne) {
  EXPECT_NEAR(pusht::coverage(pusht::kGoal), 1.0, 1e-12);
  EXPECT_NEAR(pusht::coverage({100, 50, 2.0}, {100, 50, 2.0}), 1.0, 1e-12);
}

TEST(PushTCoverage, DisjointIsZero) {
  EXPECT_EQ(pusht::coverage({100, 100, 0.3}), 0.0);
  EXPECT_EQ(pusht::coverage({450, 450, -1.0}), 0.0);
}

TEST(PushTCoverage, ShiftAlongBodyAxes) {
  // Shifting the T by d (<= 30) along its own x axis loses d x 30 of the bar and d x 90 of the
  // stem; along its y axis it loses d x 120 of the bar and d x 30 of the stem but the shifted bar
  // covers d x 30 of the old stem: 6300 - 120 d either way.
  const Pose2 g = pusht::kGoal;
  for (double d : {1.0, 10.0, 25.0}) {
    const Vec2 ex = g.apply_dir({d, 0}), ey = g.apply_dir({0, d});
    const double expect = (6300.0 - 120.0 * d) / 6300.0;
    EXPECT_NEAR(pusht::coverage({g.x + ex.x, g.y + ex.y, g.theta}), expect, 1e-9) << d;
    EXPECT_NEAR(pusht::coverage({g.x + ey.x, g.y + ey.y, g.theta}), expect, 1e-9) << d;
    // Unrotated too, where the shared edges are exactly collinear.
    EXPECT_NEAR(pusht::coverage({50 + d, 60, 0}, {50, 60, 0}), expect, 1e-12) << d;
    EXPECT_NEAR(pusht::coverage({50, 60 + d, 0}, {50, 60, 0}), expect, 1e-12) << d;
  }
}

TEST(PushTCoverage, HalfTurnAboutBarCentre) {
  // Rotating by pi about the bar's centre (local (0, 15)) maps the bar onto itself and the stem
  // to the other side of it: coverage = 3600 / 6300. The new origin is local (0, 30).
  const Pose2 g = pusht::kGoal;
  const Vec2 o = g.apply({0, 30});
  EXPECT_NEAR(pusht::coverage({o.x, o.y, g.theta + M_PI}), 3600.0 / 6300.0, 1e-9);
  // A half turn about the origin only touches along the bar's top edge.
  EXPECT_NEAR(pusht::coverage({g.x, g.y, g.theta + M_PI}), 0.0, 1e-9);
}

TEST(PushTReward, Rules) {
  EXPECT_NEAR(pusht::reward_from_coverage(0.5), 0.5 / 0.95, 1e-15);
  EXPECT_EQ(pusht::reward_from_coverage(0.0), 0.0);
  EXPECT_EQ(pusht::reward_from_coverage(0.97), 1.0);
  EXPECT_EQ(pusht::reward_from_coverage(-0.1), 0.0);
  EXPECT_FALSE(pusht::success_from_coverage(0.95));
  EXPECT_TRUE(pusht::success_from_coverage(0.9501));
}

TEST(PushTActions, ConversionHelpers) {
  EXPECT_EQ(pusht::action_to_target(-1.0), 0.0);
  EXPECT_EQ(pusht::action_to_target(1.0), 512.0);
  EXPECT_EQ(pusht::action_to_target(0.0), 256.0);
  const auto a = pusht::target_to_action(128.0, 384.0);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_FLOAT_EQ(a[0], -0.5f);
  EXPECT_FLOAT_EQ(a[1], 0.5f);
  const auto t = pusht::action_to_target(std::span<const float>(a));
  EXPECT_NEAR(t[0], 128.0, 1e-4);
  EXPECT_NEAR(t[1], 384.0, 1e-4);
}

// --- environment ---

TEST(PushTEnv, InterfaceAndObservations) {
  PushT env;
  EXPECT_EQ(env.name(), "PushT");
  EXPECT_EQ(env.action_dim(), 2);
  EXPECT_EQ(env.horizon(), 300);
  const auto args = env.env_args();
  EXPECT_EQ(args["env_name"], "PushT");
  EXPECT_EQ(args["type"], 2);
  EXPECT_EQ(args["env_kwargs"]["images"], false);
  const auto specs = env.observation_specs();
  ASSERT_EQ(specs.size(), 3u);
  EXPECT_EQ(specs[0].key, "obs");
  EXPECT_EQ(specs[0].shape, std::vector<int64_t>{20});
  EXPECT_EQ(specs[1].key, "agent_pos");
  EXPECT_EQ(specs[2].key, "environment_state");  // gym-pusht's 8 vertices (LeRobot's policies)
  EXPECT_EQ(specs[2].shape, std::vector<int64_t>{16});

  env.set_pose(400, 60, {200, 300, 0.7});
  const Observation o = env.observe();
  ASSERT_EQ(o.low_dim.at("obs").size(), 20u);
  const auto& obs = o.low_dim.at("obs");
  const auto& agent = o.low_dim.at("agent_pos");
  EXPECT_FLOAT_EQ(obs[18], agent[0]);
  EXPECT_FLOAT_EQ(obs[19], agent[1]);
  EXPECT_NEAR(agent[0], 400, 1e-3);
  EXPECT_NEAR(agent[1], 60, 1e-3);
  // Keypoints follow the block (their values: test_pusht_definition.cpp).
  const Pose2 b = env.block_pose();
  const Vec2 k0 = b.apply(pusht::kKeypoints[0]), k8 = b.apply(pusht::kKeypoints[8]);
  EXPECT_NEAR(obs[0], k0.x, 1e-3);
  EXPECT_NEAR(obs[1], k0.y, 1e-3);
  EXPECT_NEAR(obs[16], k8.x, 1e-3);
  EXPECT_NEAR(obs[17], k8.y, 1e-3);
  EXPECT_TRUE(o.images.empty());

  PushT with_images(PushTConfig{.images = true, .image_size = 96});
  const auto s2 = with_images.observation_specs();
  ASSERT_EQ(s2.size(), 4u);
  EXPECT_EQ(s2[3].key, "image");
  EXPECT_TRUE(s2[3].is_image);
  EXPECT_EQ(s2[3].shape, (std::vector<int64_t>{96, 96, 3}));
}

TEST(PushTEnv, ResetIsDeterministicPerSeed) {
  PushT a, b;
  a.reset(7);
  b.reset(7);
  EXPECT_EQ(a.get_state(), b.get_state());
  b.reset(8);
  EXPECT_NE(a.get_state(), b.get_state());
  // The published ranges: agent on the integer grid [50, 450)^2; the block's centre of mass,
  // which the legacy placement turns the block about, at (x, y + 45) with (x, y) in [100, 400)^2.
  for (uint64_t seed = 0; seed < 50; ++seed) {
    a.reset(seed);
    const Vec2 p = a.agent_pos();
    const Vec2 com = a.block_pose().apply(pusht::kCenterOfMass);
    EXPECT_GE(p.x, 50);
    EXPECT_LT(p.x, 450);
    EXPECT_EQ(p.y, std::floor(p.y));
    EXPECT_NEAR(com.x, std::round(com.x), 1e-9);
    EXPECT_NEAR(com.y - 45, std::round(com.y - 45), 1e-9);
    EXPECT_GE(com.x, 100 - 1e-9);
    EXPECT_LT(com.x, 400);
  }
  // Same seed, same actions: same trajectory.
  a.reset(11);
  b.reset(11);
  for (int k = 0; k < 30; ++k) {
    const std::vector<float> act{std::sin(0.3f * k), std::cos(0.2f * k)};
    const auto ra = a.step(act), rb = b.step(act);
    EXPECT_EQ(ra.reward, rb.reward);
  }
  EXPECT_EQ(a.get_state(), b.get_state());
}

TEST(PushTEnv, AgentFollowsPublishedPdRule) {
  PushT env;
  env.set_pose(100, 100, {350, 300, 0});  // block far away from agent and walls: no contact
  double px = 100, py = 100, vx = 0, vy = 0;
  const double tx = 180, ty = 70;
  for (int k = 0; k < 3; ++k) {
    env.step_target(tx, ty);
    for (int s = 0; s < 10; ++s) {
      vx += (100 * (tx - px) - 20 * vx) * 0.01;
      vy += (100 * (ty - py) - 20 * vy) * 0.01;
      px += vx * 0.01;
      py += vy * 0.01;
    }
    EXPECT_DOUBLE_EQ(env.agent_pos().x, px);
    EXPECT_DOUBLE_EQ(env.agent_pos().y, py);
    EXPECT_DOUBLE_EQ(env.agent_vel().x, vx);
  }
  const Pose2 b = env.block_pose();
  EXPECT_EQ(b.x, 350);
  EXPECT_EQ(b.y, 300);
  EXPECT_EQ(b.theta, 0);
}

TEST(PushTEnv, PushMovesBlockWhichStopsWhenReleased) {
  PushT env;
  // Bar spans x 196..316 and y 250..280; push its left end at the bar's mid-height.
  env.set_pose(100, 265, {256, 250, 0});
  for (int k = 0; k < 15; ++k) env.step_target(100 + 12 * (k + 1), 265);
  const Pose2 pushed = env.block_pose();
  EXPECT_GT(pushed.x, 280);  // moved right by tens of pixels
  // Pull the agent away: no momentum is kept, the block stays where it is.
  for (int k = 0; k < 10; ++k) env.step_target(60, 60);
  const Pose2 after = env.block_pose();
  EXPECT_NEAR(after.x, pushed.x, 1e-6);
  EXPECT_NEAR(after.y, pushed.y, 1e-6);
  EXPECT_NEAR(after.theta, pushed.theta, 1e-8);
}

TEST(PushTEnv, WallsStopTheBlock) {
  PushT env;
  env.set_pose(250, 15, {150, 150, 0});  // bar's left end at x 90; stem below
  // Sweep the agent leftwards through the block's middle, far past the wall.
  for (int k = 0; k < 40; ++k) env.step_target(0, 60);
  const Pose2 b = env.block_pose();
  for (const Vec2 kp : pusht::kOutlineCorners) {
    const Vec2 p = b.apply(kp);
    EXPECT_GT(p.x, 7.0 - 1.0) << "block went through the left wall";
  }
}

TEST(PushTEnv, RewardAndSuccess) {
  PushT env;
  env.set_pose(20, 20, pusht::kGoal);
  auto r = env.step_target(20, 20);
  EXPECT_TRUE(r.success);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.reward, 1.0);
  EXPECT_TRUE(env.is_success());

  const Vec2 shift = pusht::kGoal.apply_dir({0, 10});
  env.set_pose(20, 20, {pusht::kGoal.x + shift.x, pusht::kGoal.y + shift.y, pusht::kGoal.theta});
  r = env.step_target(20, 20);
  EXPECT_FALSE(r.success);
  EXPECT_FALSE(r.done);
  EXPECT_NEAR(r.reward, (6300.0 - 1200.0) / 6300.0 / 0.95, 1e-9);
  EXPECT_EQ(r.reward, pusht::reward_from_coverage(env.coverage()));
  EXPECT_FALSE(env.is_success());
}

TEST(PushTEnv, InvalidActionsThrow) {
  PushT env;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(env.step({nan, 0.0f}), ValueError);
  EXPECT_THROW(env.step({0.0f, std::numeric_limits<float>::infinity()}), ValueError);
  EXPECT_THROW(env.step({0.0f}), ValueError);
  EXPECT_THROW(env.step({0.0f, 0.0f, 0.0f}), ValueError);
  EXPECT_THROW(env.reset_to(std::vector<double>(5, 0.0)), ValueError);
  try {
    env.step({0.0f});
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("expected 2"), std::string::npos) << e.what();
  }
}

TEST(PushTEnv, ResetToReplaysTrajectoryExactly) {
  PushT env;
  env.reset(3);
  PushTExpert expert(env, 3);
  std::vector<std::vector<double>> states;
  std::vector<std::vector<float>> actions;
  for (int k = 0; k < 60; ++k) {
    states.push_back(env.get_state());
    actions.push_back(expert.act(env));
    env.step(actions.back());
  }
  states.push_back(env.get_state());
  // The block must actually have been pushed for the replay to mean something.
  const auto& s0 = states.front();
  const auto& s1 = states.back();
  EXPECT_GT(std::hypot(s1[1] - s0[1], s1[2] - s0[2]) + std::abs(s1[3] - s0[3]), 5.0);

  PushT other;
  other.reset(99);
  other.reset_to(states[20]);
  EXPECT_EQ(other.get_state(), states[20]);
  for (int k = 20; k < 60; ++k) {
    other.step(actions[k]);
    ASSERT_EQ(other.get_state(), states[k + 1]) << "diverged at step " << k;
  }
}

TEST(PushTRender, ImageShowsSceneAndChangesWithBlock) {
  PushT env;
  env.set_pose(100, 400, {256, 120, 0});
  std::vector<uint8_t> img;
  try {
    img = env.render("top", 96, 96);
  } catch (const UnsupportedError& e) {
    GTEST_SKIP() << e.what();
  }
  ASSERT_EQ(img.size(), 96u * 96 * 3);
  uint8_t lo = 255, hi = 0;
  for (uint8_t v : img) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_GT(hi - lo, 100);
  auto px = [&](const std::vector<uint8_t>& im, double x, double y) {
    const int c = static_cast<int>(x / 512 * 96), r = static_cast<int>(y / 512 * 96);
    const uint8_t* p = &im[(r * 96 + c) * 3];
    return std::array<int, 3>{p[0], p[1], p[2]};
  };
  // x right, y down: the agent (royal blue) at (100, 400), the goal (light green) at its centre,
  // the block (slate grey) around (256, 135), white elsewhere.
  const auto agent = px(img, 100, 400);
  EXPECT_GT(agent[2], agent[0] + 80);
  const Vec2 g = pusht::kGoal.apply({0, 60});
  const auto goal = px(img, g.x, g.y);
  EXPECT_GT(goal[1], goal[0] + 50);
  const auto block = px(img, 256, 135);
  EXPECT_LT(block[0], 160);
  EXPECT_NEAR(block[0], block[1], 30);
  const auto blank = px(img, 450, 60);
  EXPECT_GT(blank[0] + blank[1] + blank[2], 3 * 240);

  env.set_pose(100, 400, {256, 180, 0.5});
  const auto moved = env.render("top", 96, 96);
  int differ = 0;
  for (size_t i = 0; i < img.size(); ++i) differ += img[i] != moved[i];
  EXPECT_GT(differ, 100);
  EXPECT_THROW(env.render("side", 96, 96), ValueError);

  PushT with_images(PushTConfig{.images = true, .image_size = 96});
  const Observation o = with_images.observe();
  ASSERT_EQ(o.images.at("image").size(), 96u * 96 * 3);
}

// --- expert ---

TEST(PushTExpert, SucceedsOnMostSeeds) {
  // ~1 s per episode on one core; measured 47 / 50 on seeds 0..49.
  PushT env;
  int successes = 0;
  const int seeds = 20;
  for (int seed = 0; seed < seeds; ++seed) {
    env.reset(seed);
    PushTExpert expert(env, seed);
    for (int k = 0; k < env.horizon(); ++k) {
      const auto a = expert.act(env);
      for (float v : a) ASSERT_TRUE(v >= -1.0f && v <= 1.0f);
      if (env.step(a).done) {
        ++successes;
        break;
      }
    }
  }
  EXPECT_GE(successes, 16) << successes << " / " << seeds;
}

TEST(PushTExpert, DeterministicPerSeedAndVariesAcrossSeeds) {
  PushT a, b;
  a.reset(5);
  b.reset(5);
  PushTExpert ea(a, 1), eb(b, 1);
  for (int k = 0; k < 40; ++k) {
    const auto x = ea.act(a), y = eb.act(b);
    ASSERT_EQ(x, y) << k;
    a.step(x);
    b.step(y);
  }
  // A different expert seed from the same start gives different actions.
  a.reset(5);
  b.reset(5);
  PushTExpert e1(a, 1), e2(b, 2);
  int differ = 0;
  for (int k = 0; k < 40; ++k) {
    const auto x = e1.act(a), y = e2.act(b);
    differ += x != y;
    a.step(x);
    b.step(y);
  }
  EXPECT_GT(differ, 0);
}

}  // namespace
}  // namespace mimic::env
