// Lift: Panda kinematics against an independent DH implementation, the OSC_POSE controller's
// response, the gripper, determinism and exact state replay, invalid input, the scripted expert,
// and camera images.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <set>
#include <vector>

#include "mimic/core/philox.hpp"
#include "mimic/env/lift/env.hpp"
#include "mimic/env/lift/expert.hpp"

namespace mimic::env {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Franka's published modified-DH table, written out here rather than taken from panda_model.hpp
// so that the model's body frames are checked against an independent statement of it.
Eigen::Matrix4d dh(double a, double d, double alpha, double theta) {
  const double ca = std::cos(alpha), sa = std::sin(alpha), ct = std::cos(theta),
               st = std::sin(theta);
  Eigen::Matrix4d t;
  t << ct, -st, 0, a,                  //
      st * ca, ct * ca, -sa, -d * sa,  //
      st * sa, ct * sa, ca, d * ca,    //
      0, 0, 0, 1;
  return t;
}
Eigen::Matrix4d panda_flange(const std::array<double, 7>& q) {
  const double table[7][3] = {{0, 0.333, 0},        {0, 0, -kPi / 2},           {0, 0.316, kPi / 2},
                              {0.0825, 0, kPi / 2}, {-0.0825, 0.384, -kPi / 2}, {0, 0, kPi / 2},
                              {0.088, 0, kPi / 2}};
  Eigen::Matrix4d t = Eigen::Matrix4d::Identity();
  t.block<3, 1>(0, 3) = Eigen::Vector3d(-0.56, 0, 0.912);  // robosuite's base on the Lift table
  for (int i = 0; i < 7; ++i) t = t * dh(table[i][0], table[i][1], table[i][2], q[i]);
  return t * dh(0, 0.107, 0, 0);
}

std::vector<double> with_arm(std::vector<double> state, const std::array<double, 7>& q) {
  for (int i = 0; i < 7; ++i) state[1 + i] = q[i];          // [time, arm qpos (7), ...]
  for (size_t i = 17; i < state.size(); ++i) state[i] = 0;  // qvel: at rest
  return state;
}

Eigen::Matrix3d rot(const double* row_major) {
  return Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(row_major);
}
double angle_between(const Eigen::Matrix3d& a, const Eigen::Matrix3d& b) {
  return Eigen::AngleAxisd(a.transpose() * b).angle();
}
Eigen::Vector3d vec(const double* p) { return Eigen::Vector3d(p[0], p[1], p[2]); }

std::vector<float> action(float dx, float dy, float dz, float rx, float ry, float rz, float g) {
  return {dx, dy, dz, rx, ry, rz, g};
}

TEST(Lift, FlangeMatchesDhForwardKinematics) {
  LiftEnv env;
  std::vector<std::array<double, 7>> configs = {
      {0, kPi / 16, 0, -kPi / 2 - kPi / 3, 0, kPi - 0.2, kPi / 4},  // home
      {0, 0, 0, -0.0698, 0, 0, 0},                                  // stretched up
      {0.3, -0.5, 1.2, -1.0, -2.0, 1.5, 2.5},
      {-2.8973, 1.7628, -2.8973, -3.0718, 2.8973, 3.7525, -2.8973}};  // limits
  for (int k = 0; k < 4; ++k) {  // plus random poses inside the published limits
    std::array<double, 7> q;
    for (int i = 0; i < 7; ++i)
      q[i] = panda::kJointLower[i] + (panda::kJointUpper[i] - panda::kJointLower[i]) *
                                         philox_uniform<double>(77, 7 * k + i);
    configs.push_back(q);
  }
  for (const auto& q : configs) {
    env.reset_to(with_arm(env.get_state(), q));
    const Eigen::Matrix4d want = panda_flange(q);
    const Eigen::Vector3d p = vec(env.flange_pos());
    const Eigen::Matrix3d r = rot(env.flange_rot());
    for (int i = 0; i < 3; ++i) {
      EXPECT_NEAR(p[i], want(i, 3), 1e-6) << "q1 " << q[0] << " axis " << i;
      for (int j = 0; j < 3; ++j) EXPECT_NEAR(r(i, j), want(i, j), 1e-6) << i << "," << j;
    }
    // robosuite's grip site: its hand sits 0.1065 m down link 7 (0.5 mm short of the DH flange)
    // and the grip site 0.097 m beyond the hand.
    const Eigen::Vector3d tcp =
        want.block<3, 1>(0, 3) + (0.1065 - 0.107 + 0.097) * want.block<3, 1>(0, 2);
    EXPECT_LT((vec(env.eef_pos()) - tcp).norm(), 1e-6);
  }
  // The home pose puts the grip site 21 cm above the table, pointing down, as in robosuite.
  env.reset_to(with_arm(env.get_state(), panda::kHomeQpos));
  EXPECT_NEAR(env.eef_pos()[0], -0.1028, 0.0005);
  EXPECT_NEAR(env.eef_pos()[2], 1.0110, 0.0005);
  EXPECT_LT(rot(env.eef_rot())(2, 2), -0.99);
}

TEST(Lift, ModelHasPandaLimitsAndRobosuiteStateLayout) {
  LiftEnv env;
  const mjModel* m = env.model();
  EXPECT_EQ(env.get_state().size(), 32u);  // time 1 + qpos 16 + qvel 15, as robosuite's Lift
  for (int i = 0; i < 7; ++i) {
    const int j = mj_name2id(m, mjOBJ_JOINT, ("robot0_joint" + std::to_string(i + 1)).c_str());
    ASSERT_GE(j, 0);
    EXPECT_EQ(m->jnt_limited[j], 1);
    EXPECT_DOUBLE_EQ(m->jnt_range[2 * j], panda::kJointLower[i]);
    EXPECT_DOUBLE_EQ(m->jnt_range[2 * j + 1], panda::kJointUpper[i]);
    EXPECT_GT(m->dof_damping[m->jnt_dofadr[j]], 0);
    EXPECT_GT(m->dof_armature[m->jnt_dofadr[j]], 0);
  }
  for (int i = 0; i < 2; ++i) {  // finger_joint1 opens toward +, finger_joint2 toward -
    const int j =
        mj_name2id(m, mjOBJ_JOINT, ("gripper0_finger_joint" + std::to_string(i + 1)).c_str());
    ASSERT_GE(j, 0);
    EXPECT_EQ(m->jnt_type[j], mjJNT_SLIDE);
    EXPECT_DOUBLE_EQ(m->jnt_range[2 * j], i == 0 ? 0.0 : -0.04);
    EXPECT_DOUBLE_EQ(m->jnt_range[2 * j + 1], i == 0 ? 0.04 : 0.0);
  }
  // The cube's size is drawn per reset; mass and inertia follow at density 1000.
  const int cube = mj_name2id(m, mjOBJ_GEOM, "cube_g0");
  const int cube_body = mj_name2id(m, mjOBJ_BODY, "cube_main");
  ASSERT_GE(cube, 0);
  std::set<double> sizes;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    env.reset(seed);
    const double* h = m->geom_size + 3 * cube;
    for (int i = 0; i < 3; ++i) {
      EXPECT_GE(h[i], 0.020);
      EXPECT_LE(h[i], 0.022);
      sizes.insert(h[i]);
    }
    EXPECT_NEAR(m->body_mass[cube_body], 8000 * h[0] * h[1] * h[2], 1e-12);
    EXPECT_NEAR(m->body_inertia[3 * cube_body],
                m->body_mass[cube_body] / 3 * (h[1] * h[1] + h[2] * h[2]), 1e-15);
    EXPECT_NEAR(env.get_state()[1 + 9 + 2], 0.8 + 0.01 + h[2], 1e-12);  // dropped from 1 cm
  }
  EXPECT_EQ(sizes.size(), 15u);
  // robosuite's Panda inertials: link0..link7 weigh 4 + 3 + 3 + 2 + 2 + 2 + 1.5 + 0.5 kg.
  double arm_mass = 0;
  for (int b = 0; b < m->nbody; ++b)
    if (std::string(mj_id2name(m, mjOBJ_BODY, b)).rfind("robot0_link", 0) == 0)
      arm_mass += m->body_mass[b];
  EXPECT_NEAR(arm_mass, 18.0, 1e-9);
  EXPECT_EQ(m->opt.integrator, mjINT_EULER);
  EXPECT_DOUBLE_EQ(m->opt.timestep, 0.002);
}

TEST(Lift, ResetIsDeterministicPerSeedAndVariesAcrossSeeds) {
  LiftEnv a, b;
  a.reset(5);
  b.reset(5);
  EXPECT_EQ(a.get_state(), b.get_state());
  std::set<std::pair<double, double>> cube_xy;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    a.reset(seed);
    const double* c = a.cube_pos();
    EXPECT_LE(std::abs(c[0]), 0.03);
    EXPECT_LE(std::abs(c[1]), 0.03);
    EXPECT_NEAR(c[2], 0.81 + a.cube_half_size()[2], 1e-9);
    EXPECT_FALSE(a.is_success());
    cube_xy.insert({c[0], c[1]});
  }
  EXPECT_EQ(cube_xy.size(), 10u);
  // Same seed and actions: identical trajectories, bit for bit.
  a.reset(9);
  b.reset(9);
  for (int t = 0; t < 30; ++t) {
    const float s = std::sin(0.3f * t);
    const auto act = action(s, -s, 0.5f * s, 0.2f * s, 0, -0.3f * s, t < 15 ? -1.f : 1.f);
    a.step(act);
    b.step(act);
  }
  EXPECT_EQ(a.get_state(), b.get_state());
  EXPECT_EQ(a.steps(), 30);
}

TEST(Lift, ResetToReplaysTrajectoryExactly) {
  LiftEnv env, other;
  env.reset(3);
  LiftExpert expert(3);
  std::vector<std::vector<double>> states;
  std::vector<std::vector<float>> actions;
  std::vector<Observation> observations;
  std::vector<LiftControllerState> controllers;
  for (int t = 0; t < 60; ++t) {
    states.push_back(env.get_state());
    controllers.push_back(env.controller_state());
    observations.push_back(env.observe());
    actions.push_back(expert.act(observations.back()));
    env.step(actions.back());
  }
  states.push_back(env.get_state());
  // Replay from every cut point in a fresh env: several of these states are ones where MuJoCo's
  // quaternion normalization is not idempotent in the last bit, which a restored state must not
  // feel. Then from a few cuts (before contact, while grasping, while lifting) in this env after
  // unrelated steps.
  // From the first state, reset_to alone restarts the controller as the episode began; later
  // cuts also restore the controller (robosuite's hidden nullspace target and gripper command).
  other.set_cube_half_size(
      env.cube_half_size());  // the cube's size is the model's, not the state's
  for (int k = 0; k < 60; ++k) {
    other.reset_to(states[size_t(k)]);
    if (k == 0) EXPECT_EQ(other.controller_state(), controllers[0]);
    other.set_controller_state(controllers[size_t(k)]);
    EXPECT_EQ(other.steps(), k);
    ASSERT_EQ(other.get_state(), states[size_t(k)]) << "cut " << k;
    ASSERT_EQ(other.observe().low_dim, observations[size_t(k)].low_dim) << "cut " << k;
    for (int t = k; t < 60; ++t) {
      other.step(actions[size_t(t)]);
      ASSERT_EQ(other.get_state(), states[size_t(t) + 1]) << "cut " << k << " step " << t;
    }
  }
  for (int k : {0, 17, 25, 40}) {
    env.reset(99);
    env.step(action(1, 1, 1, 1, 1, 1, 1));
    env.set_cube_half_size(other.cube_half_size());
    env.reset_to(states[size_t(k)]);
    env.set_controller_state(controllers[size_t(k)]);
    for (int t = k; t < 60; ++t) {
      env.step(actions[size_t(t)]);
      ASSERT_EQ(env.get_state(), states[size_t(t) + 1]) << "reused env, cut " << k << " step " << t;
    }
  }
}

// Ideal closed loop of one task-space axis under the same gains and goal rule: unit mass,
// x'' = kp (g - x) - kd x', the goal re-set to x + scale a at each 0.05 s control step.
double ideal_osc_travel(double a, int steps, double scale = 0.05) {
  const double kp = 150, kd = 2 * std::sqrt(kp), dt = 0.002;
  double x = 0, v = 0;
  for (int s = 0; s < steps; ++s) {
    const double goal = x + scale * a;
    for (int k = 0; k < 25; ++k) {
      v += dt * (kp * (goal - x) - kd * v);
      x += dt * v;
    }
  }
  return x;
}

TEST(Lift, OscTracksTranslationCommandsAndHoldsOrientation) {
  LiftEnv env;
  for (int axis = 0; axis < 3; ++axis) {
    for (float sign : {1.f, -1.f}) {
      env.reset(1);
      const Eigen::Vector3d p0 = vec(env.eef_pos());
      const Eigen::Matrix3d r0 = rot(env.eef_rot());
      std::vector<float> a(7, 0.f);
      a[axis] = 0.6f * sign;
      a[6] = -1;
      for (int t = 0; t < 20; ++t) env.step(a);
      const Eigen::Vector3d d = vec(env.eef_pos()) - p0;
      const double want = ideal_osc_travel(0.6, 20);  // about 0.15 m
      EXPECT_NEAR(sign * d[axis], want, 0.15 * want) << "axis " << axis;
      for (int o = 0; o < 3; ++o) {
        if (o != axis) {
          // 1.5 cm: robosuite's uncoupled task inertias drop the position-rotation coupling.
          EXPECT_LT(std::abs(d[o]), 0.015) << "axis " << axis << " drift " << o;
        }
      }
      EXPECT_LT(angle_between(r0, rot(env.eef_rot())), 3 * kPi / 180) << "axis " << axis;
    }
  }
  // Zero action holds the pose (gravity compensation through qfrc_bias).
  env.reset(2);
  const Eigen::Vector3d p0 = vec(env.eef_pos());
  for (int t = 0; t < 40; ++t) env.step(action(0, 0, 0, 0, 0, 0, -1));
  EXPECT_LT((vec(env.eef_pos()) - p0).norm(), 2e-3);
}

TEST(Lift, OscTurnsAboutCommandedAxis) {
  LiftEnv env;
  env.reset(4);
  const Eigen::Matrix3d r0 = rot(env.eef_rot());
  const Eigen::Vector3d p0 = vec(env.eef_pos());
  for (int t = 0; t < 10; ++t) env.step(action(0, 0, 0, 0, 0, 0.5f, -1));
  const Eigen::AngleAxisd turn(rot(env.eef_rot()) * r0.transpose());  // world-frame rotation
  const double yaw = turn.angle() * turn.axis().z();
  const double want = ideal_osc_travel(0.5, 10, 0.5);  // about 0.6 rad
  // robosuite's wrist (armature 0.71 kg m^2 on joint 7, 12 N m limit) saturates and lags the ideal
  // axis: measured 0.45 rad.
  EXPECT_GT(yaw, 0.6 * want);
  EXPECT_LT(yaw, 1.15 * want);
  EXPECT_GT(std::abs(turn.axis().z()), 0.95);         // about world z, as commanded
  EXPECT_LT((vec(env.eef_pos()) - p0).norm(), 0.02);  // uncoupled, as robosuite's default
}

TEST(Lift, GripperOpensAndCloses) {
  LiftEnv env;
  env.reset(0);
  // Finger openings (finger_joint1, -finger_joint2): robosuite's init_qpos is half open.
  auto opening = [&] {
    const auto q = env.observe().low_dim.at("robot0_gripper_qpos");
    return std::array<float, 2>{q[0], -q[1]};
  };
  for (float f : opening()) EXPECT_NEAR(f, 0.020833, 1e-6);
  // The command moves 0.25 per control step, so closing from half open takes a few steps.
  for (int t = 0; t < 10; ++t) env.step(action(0, 0, 0, 0, 0, 0, 1));
  for (float f : opening()) EXPECT_LT(f, 0.002);
  for (int t = 0; t < 12; ++t) env.step(action(0, 0, 0, 0, 0, 0, -1));
  for (float f : opening()) EXPECT_GT(f, 0.038);
  const auto open = opening();
  for (int t = 0; t < 6; ++t) env.step(action(0, 0, 0, 0, 0, 0, 0));  // 0 holds the command
  for (int i = 0; i < 2; ++i) EXPECT_NEAR(opening()[i], open[i], 0.001);
}

TEST(Lift, InvalidInputThrowsValueError) {
  LiftEnv env;
  const float nan = std::nanf("");
  EXPECT_THROW(env.step(std::vector<float>(6, 0.f)), ValueError);
  EXPECT_THROW(env.step(std::vector<float>(8, 0.f)), ValueError);
  EXPECT_THROW(env.step({}), ValueError);
  EXPECT_THROW(env.step(action(0, 0, nan, 0, 0, 0, 0)), ValueError);
  EXPECT_THROW(env.step(action(0, 0, 0, 0, 0, 0, INFINITY)), ValueError);
  try {
    env.step(std::vector<float>(6, 0.f));
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("expected 7"), std::string::npos) << e.what();
  }
  EXPECT_THROW(env.reset_to(std::vector<double>(31, 0.0)), ValueError);
  auto s = env.get_state();
  s[3] = NAN;
  EXPECT_THROW(env.reset_to(s), ValueError);
  EXPECT_THROW(env.render("no_such_camera", 84, 84), ValueError);
  EXPECT_EQ(env.steps(), 0);  // nothing above advanced the simulation
  // Out-of-range actions are clipped, not rejected: +5 acts like +1.
  LiftEnv clipped;
  env.reset(1);
  clipped.reset(1);
  env.step(action(5, 0, 0, 0, 0, 0, -3));
  clipped.step(action(1, 0, 0, 0, 0, 0, -1));
  EXPECT_EQ(env.get_state(), clipped.get_state());
}

TEST(Lift, ObservationsFollowRobosuiteKeys) {
  LiftEnv env;
  env.reset(6);
  for (int t = 0; t < 5; ++t) env.step(action(0.3f, 0, -0.3f, 0, 0, 0, -1));
  const Observation o = env.observe();
  for (const auto& spec : env.observation_specs()) {
    ASSERT_FALSE(spec.is_image);
    ASSERT_TRUE(o.low_dim.count(spec.key)) << spec.key;
    EXPECT_EQ(static_cast<int64_t>(o.low_dim.at(spec.key).size()), spec.shape[0]) << spec.key;
  }
  EXPECT_TRUE(o.images.empty());
  const auto& eef = o.low_dim.at("robot0_eef_pos");
  const auto& obj = o.low_dim.at("object");
  for (int i = 0; i < 3; ++i) {
    EXPECT_FLOAT_EQ(eef[i], static_cast<float>(env.eef_pos()[i]));
    EXPECT_FLOAT_EQ(obj[i], static_cast<float>(env.cube_pos()[i]));
    EXPECT_NEAR(obj[7 + i], eef[i] - obj[i], 1e-6);  // end effector minus cube, as robosuite
  }
  // Quaternions are unit, xyzw; robot0_eef_quat is the hand body's (robosuite's right_hand),
  // which the grip site's frame turns by -90 degrees about z.
  const auto& q = o.low_dim.at("robot0_eef_quat");
  const Eigen::Quaterniond eq(q[3], q[0], q[1], q[2]);
  EXPECT_NEAR(eq.norm(), 1.0, 1e-6);
  const Eigen::Matrix3d site_in_hand =
      Eigen::AngleAxisd(-kPi / 2, Eigen::Vector3d::UnitZ()).toRotationMatrix();
  EXPECT_LT(angle_between(eq.toRotationMatrix() * site_in_hand, rot(env.eef_rot())), 1e-5);
  EXPECT_NEAR(Eigen::Vector4d(obj[3], obj[4], obj[5], obj[6]).norm(), 1.0, 1e-6);
  const auto& jp = o.low_dim.at("robot0_joint_pos");
  const auto& jc = o.low_dim.at("robot0_joint_pos_cos");
  for (int i = 0; i < 7; ++i) EXPECT_NEAR(jc[i], std::cos(jp[i]), 1e-6);
}

TEST(Lift, RewardIsSparseSuccessAboveFourCentimetres) {
  LiftEnv env;
  env.reset(0);
  auto s = env.get_state();
  const int cube_z = 1 + 9 + 2;  // qpos: arm 7, fingers 2, cube x y z
  EXPECT_NEAR(s[cube_z], 0.8 + 0.01 + env.cube_half_size()[2], 1e-12);
  s[cube_z] = 0.8 + 0.0395;
  env.reset_to(s);
  EXPECT_FALSE(env.is_success());
  s[cube_z] = 0.8 + 0.0405;
  env.reset_to(s);
  EXPECT_TRUE(env.is_success());
  // Stepping reports the reward: the lifted cube falls back, so 1 first and then 0.
  const StepResult r = env.step(action(0, 0, 0, 0, 0, 0, -1));
  EXPECT_EQ(r.reward, r.success ? 1.0 : 0.0);
  env.reset(0);
  const StepResult r0 = env.step(action(0, 0, 0, 0, 0, 0, -1));
  EXPECT_FALSE(r0.success);
  EXPECT_EQ(r0.reward, 0.0);
  EXPECT_FALSE(r0.done);

  LiftConfig short_cfg;
  short_cfg.horizon = 3;
  LiftEnv short_env(short_cfg);
  EXPECT_FALSE(short_env.step(action(0, 0, 0, 0, 0, 0, -1)).done);
  EXPECT_FALSE(short_env.step(action(0, 0, 0, 0, 0, 0, -1)).done);
  EXPECT_TRUE(short_env.step(action(0, 0, 0, 0, 0, 0, -1)).done);
  EXPECT_EQ(env.horizon(), 400);
}

TEST(Lift, EnvArgsDescribeRobosuiteLift) {
  LiftEnv env;
  const auto args = env.env_args();
  EXPECT_EQ(args.at("env_name"), "Lift");
  EXPECT_EQ(args.at("type"), 1);
  const auto& kw = args.at("env_kwargs");
  EXPECT_EQ(kw.at("robots"), nlohmann::json::array({"Panda"}));
  EXPECT_EQ(kw.at("control_freq"), 20);
  EXPECT_EQ(kw.at("reward_shaping"), false);
  const auto& c = kw.at("controller_configs");
  EXPECT_EQ(c.at("type"), "OSC_POSE");
  EXPECT_EQ(c.at("kp"), 150);
  EXPECT_EQ(c.at("output_max"), nlohmann::json::array({0.05, 0.05, 0.05, 0.5, 0.5, 0.5}));
  EXPECT_EQ(kw.at("camera_names"), nlohmann::json::array({"agentview", "robot0_eye_in_hand"}));
  EXPECT_EQ(env.name(), "Lift");
  EXPECT_EQ(env.action_dim(), 7);
}

TEST(LiftExpert, LiftsTheCubeForNineteenOfTwentySeeds) {
  LiftEnv env;
  int successes = 0, total_steps = 0;
  std::set<int> lengths;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    env.reset(1000 + seed);
    LiftExpert expert(1000 + seed);
    bool success = false;
    int t = 0;
    for (; t < env.horizon() && !success; ++t) {
      const auto a = expert.act(env.observe());
      ASSERT_EQ(a.size(), 7u);
      for (float v : a) ASSERT_TRUE(v >= -1 && v <= 1);
      success = env.step(a).success;
    }
    successes += success;
    total_steps += t;
    lengths.insert(t);
  }
  EXPECT_GE(successes, 19);
  EXPECT_LT(total_steps / 20, 120);  // fast: well inside the 400-step horizon
  EXPECT_GE(lengths.size(), 5u);     // varied demonstrations, not one replayed path
}

TEST(LiftExpert, HoldsTheCubeAfterLifting) {
  LiftEnv env;
  env.reset(42);
  LiftExpert expert(42);
  for (int t = 0; t < 100; ++t) env.step(expert.act(env.observe()));
  EXPECT_EQ(expert.phase(), LiftExpert::kLift);
  EXPECT_GT(env.cube_pos()[2], 0.8 + 0.15);  // carried to the lift height, not dropped
  EXPECT_LT((vec(env.cube_pos()) - vec(env.eef_pos())).norm(), 0.02);
}

TEST(LiftExpert, PathsDifferAcrossSeedsAndRepeatPerSeed) {
  LiftEnv env;
  auto first_actions = [&](uint64_t seed) {
    env.reset(7);
    LiftExpert expert(seed);
    std::vector<float> all;
    for (int t = 0; t < 10; ++t) {
      auto a = expert.act(env.observe());
      env.step(a);
      all.insert(all.end(), a.begin(), a.end());
    }
    return all;
  };
  EXPECT_EQ(first_actions(1), first_actions(1));
  EXPECT_NE(first_actions(1), first_actions(2));
  Observation missing;
  LiftExpert expert(0);
  EXPECT_THROW(expert.act(missing), ValueError);
}

// Renders, or skips the test where this build or machine has no off-screen GL.
bool try_render(LiftEnv& env) {
#ifndef MIMIC_HAVE_OSMESA
  return false;
#else
  try {
    env.render("agentview", 8, 8);
    return true;
  } catch (const UnsupportedError&) {
    return false;
  }
#endif
}

double pixel_stddev(const std::vector<uint8_t>& img) {
  double sum = 0, sq = 0;
  for (uint8_t v : img) sum += v, sq += double(v) * v;
  const double n = double(img.size());
  return std::sqrt(std::max(0.0, sq / n - (sum / n) * (sum / n)));
}

TEST(Lift, CamerasRenderNonConstantImages) {
  LiftConfig cfg;
  cfg.use_camera_obs = true;
  LiftEnv env(cfg);
  if (!try_render(env)) GTEST_SKIP() << "no OSMesa off-screen rendering here";
  env.reset(2);
  const Observation o = env.observe();
  ASSERT_EQ(o.images.size(), 2u);
  for (const char* key : {"agentview_image", "robot0_eye_in_hand_image"}) {
    const auto& img = o.images.at(key);
    ASSERT_EQ(img.size(), 84u * 84 * 3) << key;
    EXPECT_GT(pixel_stddev(img), 10.0) << key;
  }
  EXPECT_NE(o.images.at("agentview_image"), o.images.at("robot0_eye_in_hand_image"));
  // The specs list the images, and the picture follows the simulation: the wrist camera sees
  // something else once the arm has moved.
  int images = 0;
  for (const auto& s : env.observation_specs())
    if (s.is_image) {
      ++images;
      EXPECT_EQ(s.shape, (std::vector<int64_t>{84, 84, 3}));
    }
  EXPECT_EQ(images, 2);
  for (int t = 0; t < 10; ++t) env.step(action(0.8f, 0.5f, -0.5f, 0, 0, 0, 1));
  EXPECT_NE(env.render("robot0_eye_in_hand", 84, 84), o.images.at("robot0_eye_in_hand_image"));
  // Rendering does not disturb the simulation.
  const auto before = env.get_state();
  env.render("agentview", 84, 84);
  EXPECT_EQ(env.get_state(), before);
}

}  // namespace
}  // namespace mimic::env
