#pragma once
// A scripted Lift demonstrator: hover above the cube with the jaws square to its faces, descend,
// close, lift. Each episode draws its own approach waypoint, hover height, grasp depth, gains and
// timing, and every action carries seeded gaussian noise, so demonstrations vary like human ones.
// It reads only the observation (eef pose, cube pose, finger positions), so it can drive any Lift
// implementation with robosuite's observation keys.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"
#include "mimic/core/philox.hpp"
#include "mimic/env/env.hpp"
#include "mimic/env/lift/osc.hpp"
#include "mimic/env/lift/panda_model.hpp"

namespace mimic::env {

struct LiftExpertConfig {
  double noise = 0.1;         // action noise std (units of action) while moving freely
  double grasp_noise = 0.03;  // near the cube, where a nudge costs a grasp
  double pos_scale = 0.05;    // controller output_max for position, m per unit action
  double rot_scale = 0.5;     // rad per unit action
  double lift_height = 0.2;   // target cube-centre height above the table top
};

class LiftExpert {
 public:
  enum Phase { kApproach, kHover, kDescend, kClose, kLift };

  explicit LiftExpert(uint64_t seed = 0, LiftExpertConfig cfg = {}) : cfg_(cfg) { reset(seed); }

  // New episode: draws this episode's path and style.
  void reset(uint64_t seed) {
    seed_ = seed ^ 0x4c69667445787274ull;  // its own stream, apart from the env's for that seed
    draw_ = 0;
    phase_ = kApproach;
    phase_steps_ = 0;
    const double r = 0.12 * std::sqrt(uniform()), t = 2 * panda::kPi * uniform();
    waypoint_offset_ = Eigen::Vector3d(r * std::cos(t), r * std::sin(t), 0.10 + 0.08 * uniform());
    hover_ = 0.05 + 0.05 * uniform();
    grasp_dz_ = -0.006 + 0.008 * uniform();
    gain_ = 1.5 + 1.0 * uniform();
    rot_gain_ = 1.0 + 0.5 * uniform();
    close_steps_ = 4 + static_cast<int>(4 * uniform());
  }

  Phase phase() const { return phase_; }

  // The next action (7: dpos, drot, gripper) for an observation of robosuite's Lift keys.
  std::vector<float> act(const Observation& obs) {
    const auto& eef_v = get(obs, "robot0_eef_pos", 3);
    const auto& quat_v = get(obs, "robot0_eef_quat", 4);
    const auto& obj = get(obs, "object", 10);
    const Eigen::Vector3d eef(eef_v[0], eef_v[1], eef_v[2]);
    const Eigen::Vector3d cube(obj[0], obj[1], obj[2]);
    const Eigen::Matrix3d rot = Eigen::Quaterniond(quat_v[3], quat_v[0], quat_v[1], quat_v[2])
                                    .normalized()
                                    .toRotationMatrix();
    const Eigen::Matrix3d cube_rot =
        Eigen::Quaterniond(obj[6], obj[3], obj[4], obj[5]).normalized().toRotationMatrix();

    // Jaws down, hand x square to the cube face nearest the current hand heading (the cube looks
    // the same every quarter turn, so the hand never turns more than 45 degrees).
    const double hand_yaw = std::atan2(rot(1, 0), rot(0, 0));
    const double cube_yaw = std::atan2(cube_rot(1, 0), cube_rot(0, 0));
    const double quarter = panda::kPi / 2;
    const double yaw = hand_yaw + std::remainder(cube_yaw - hand_yaw, quarter);
    const Eigen::Matrix3d want =
        Eigen::AngleAxisd(yaw, Eigen::Vector3d::UnitZ()).toRotationMatrix() *
        Eigen::Vector3d(1, -1, -1).asDiagonal();
    const Eigen::Vector3d rot_err = orientation_error(want, rot);

    const Eigen::Vector3d above = cube + Eigen::Vector3d(0, 0, hover_);
    const Eigen::Vector3d grasp = cube + Eigen::Vector3d(0, 0, grasp_dz_);
    const double xy_err = (eef - cube).head<2>().norm();
    // Lost the cube (slipped or never caught): open and start over from the hover point.
    if (phase_ >= kClose && phase_steps_ > close_steps_ && (cube - eef).norm() > 0.03)
      set_phase(kHover);

    Eigen::Vector3d target = eef;
    double gripper = -1, noise = cfg_.noise;
    switch (phase_) {
      case kApproach:
        target = cube + waypoint_offset_;
        if ((target - eef).norm() < 0.03) set_phase(kHover);
        break;
      case kHover:
        target = above;
        noise = cfg_.grasp_noise;
        if ((above - eef).norm() < 0.012 && rot_err.norm() < 0.08) set_phase(kDescend);
        break;
      case kDescend:
        target = grasp;
        noise = cfg_.grasp_noise;
        if (xy_err > 0.02)
          set_phase(kHover);
        else if (std::abs(grasp.z() - eef.z()) < 0.006)
          set_phase(kClose);
        break;
      case kClose:
        target = grasp;
        gripper = 1;
        noise = 0;
        if (phase_steps_ >= close_steps_) set_phase(kLift);
        break;
      case kLift:
        target = Eigen::Vector3d(eef.x(), eef.y(), panda::kTableTop + cfg_.lift_height);
        gripper = 1;
        noise = cfg_.grasp_noise;
        break;
    }
    ++phase_steps_;

    // Proportional steps toward the target, scaled as a whole so the path stays straight.
    Eigen::Vector3d dp = gain_ * (target - eef) / cfg_.pos_scale;
    Eigen::Vector3d dr = rot_gain_ * rot_err / cfg_.rot_scale;
    if (dp.cwiseAbs().maxCoeff() > 1) dp /= dp.cwiseAbs().maxCoeff();
    if (dr.cwiseAbs().maxCoeff() > 1) dr /= dr.cwiseAbs().maxCoeff();
    std::vector<float> a(7);
    for (int i = 0; i < 3; ++i) {
      a[i] = clip(dp[i] + noise * normal());
      a[3 + i] = clip(dr[i] + 0.5 * noise * normal());
    }
    a[6] = static_cast<float>(gripper);
    return a;
  }

 private:
  static const std::vector<float>& get(const Observation& obs, const char* key, size_t n) {
    auto it = obs.low_dim.find(key);
    if (it == obs.low_dim.end() || it->second.size() != n)
      throw ValueError(std::string("LiftExpert: observation needs ") + key + " with " +
                       std::to_string(n) + " values");
    return it->second;
  }
  static float clip(double v) { return static_cast<float>(std::clamp(v, -1.0, 1.0)); }
  void set_phase(Phase p) {
    phase_ = p;
    phase_steps_ = 0;
  }
  double uniform() { return philox_uniform<double>(seed_, draw_++); }
  double normal() { return philox_normal<double>(seed_, draw_++); }

  LiftExpertConfig cfg_;
  uint64_t seed_ = 0, draw_ = 0;
  Phase phase_ = kApproach;
  int phase_steps_ = 0, close_steps_ = 4;
  Eigen::Vector3d waypoint_offset_ = Eigen::Vector3d::Zero();
  double hover_ = 0.08, grasp_dz_ = 0, gain_ = 2, rot_gain_ = 1;
};

}  // namespace mimic::env
