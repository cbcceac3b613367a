#pragma once
// Operational-space pose controller with robosuite's OSC_POSE semantics: a 6-vector action in
// [-1, 1] becomes a goal pose relative to the current end-effector pose (delta position times
// 0.05 m, delta axis-angle rotation times 0.5 rad); each physics substep then applies
//   tau = J^T Lambda (kp e - kd J qd) + N^T M (kn (q0 - q) - dn qd) + bias
// with e the 6-d pose error, kd = 2 sqrt(kp) zeta, N the dynamically consistent nullspace
// projector of the full task inertia (J M^-1 J^T)^-1 and q0 the joint positions at reset. With
// robosuite's default uncouple_pos_ori (true) Lambda is block-diagonal: the position and rotation
// task inertias (Jp M^-1 Jp^T)^-1 and (Jr M^-1 Jr^T)^-1; otherwise it is the full task inertia.
#include <mujoco/mujoco.h>

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace mimic::env {

struct OscConfig {
  double kp = 150;               // task stiffness (position and orientation)
  double damping_ratio = 1;      // kd = 2 sqrt(kp) damping_ratio
  double kp_null = 10;           // posture stiffness in the nullspace
  double pos_scale = 0.05;       // output_max for the position part (m per unit action)
  double rot_scale = 0.5;        // output_max for the rotation part (rad per unit action)
  bool uncouple_pos_ori = true;  // robosuite's OSC_POSE default
};

// Pseudo-inverse of a symmetric positive semi-definite matrix (a task-space inverse inertia),
// dropping directions whose eigenvalue is negligible so that singular poses stay bounded.
template <int N>
Eigen::Matrix<double, N, N> spd_pinv(const Eigen::Matrix<double, N, N>& a) {
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix<double, N, N>> es(a);
  Eigen::Matrix<double, N, 1> inv = es.eigenvalues();
  const double cut = 1e-10 * std::max(1.0, inv.cwiseAbs().maxCoeff());
  for (int i = 0; i < N; ++i) inv[i] = inv[i] > cut ? 1.0 / inv[i] : 0.0;
  return es.eigenvectors() * inv.asDiagonal() * es.eigenvectors().transpose();
}

// Rotation matrix of an axis-angle vector (Rodrigues).
inline Eigen::Matrix3d axis_angle_matrix(const Eigen::Vector3d& r) {
  const double angle = r.norm();
  if (angle < 1e-12) return Eigen::Matrix3d::Identity();
  return Eigen::AngleAxisd(angle, r / angle).toRotationMatrix();
}

// robosuite's orientation error: half the sum of column cross products, ~ axis * angle for small
// errors, taking current toward desired.
inline Eigen::Vector3d orientation_error(const Eigen::Matrix3d& desired,
                                         const Eigen::Matrix3d& current) {
  return 0.5 * (current.col(0).cross(desired.col(0)) + current.col(1).cross(desired.col(1)) +
                current.col(2).cross(desired.col(2)));
}

// Controls the 7 hinge joints `joints` of a model so that site `site` follows the goal pose.
class OscPose {
 public:
  using Vec7 = Eigen::Matrix<double, 7, 1>;
  using Mat7 = Eigen::Matrix<double, 7, 7>;
  using Mat67 = Eigen::Matrix<double, 6, 7>;

  OscPose(const mjModel* m, int site, const std::array<int, 7>& joints,
          const std::array<double, 7>& torque_limit, const std::array<double, 7>& posture,
          OscConfig cfg = {})
      : cfg_(cfg), site_(site), jacp_(3 * m->nv), jacr_(3 * m->nv), full_m_(m->nv * m->nv) {
    for (int i = 0; i < 7; ++i) {
      dof_[i] = m->jnt_dofadr[joints[i]];
      qpos_[i] = m->jnt_qposadr[joints[i]];
      limit_[i] = torque_limit[i];
      posture_[i] = posture[i];
    }
  }

  const OscConfig& config() const { return cfg_; }
  const Eigen::Vector3d& goal_pos() const { return goal_pos_; }
  const Eigen::Matrix3d& goal_rot() const { return goal_rot_; }
  // The nullspace posture target: robosuite takes the joint positions when its controller is
  // made, at every reset.
  void set_posture(const std::array<double, 7>& q) {
    for (int i = 0; i < 7; ++i) posture_[i] = q[i];
  }
  std::array<double, 7> posture() const {
    std::array<double, 7> q;
    for (int i = 0; i < 7; ++i) q[i] = posture_[i];
    return q;
  }

  // Sets the goal from a 6-vector action (already clipped to [-1, 1]) and the site's current
  // pose in `d` (kinematics must be up to date).
  void set_goal(const mjData* d, const double* action) {
    Eigen::Vector3d dp(action[0], action[1], action[2]), dr(action[3], action[4], action[5]);
    goal_pos_ = site_pos(d) + cfg_.pos_scale * dp;
    goal_rot_ = axis_angle_matrix(cfg_.rot_scale * dr) * site_rot(d);
  }

  // Joint torques for the current state (after mj_step1 or mj_forward), clipped to the limits.
  void compute(const mjModel* m, const mjData* d, double* torque) {
    mj_jacSite(m, d, jacp_.data(), jacr_.data(), site_);
    mj_fullM(m, full_m_.data(), d->qM);
    const int nv = m->nv;
    Mat67 j;
    Mat7 mass;
    Vec7 q, qd, bias;
    for (int c = 0; c < 7; ++c) {
      for (int r = 0; r < 3; ++r) {
        j(r, c) = jacp_[r * nv + dof_[c]];
        j(r + 3, c) = jacr_[r * nv + dof_[c]];
      }
      for (int r = 0; r < 7; ++r) mass(r, c) = full_m_[dof_[r] * nv + dof_[c]];
      q[c] = d->qpos[qpos_[c]];
      qd[c] = d->qvel[dof_[c]];
      bias[c] = d->qfrc_bias[dof_[c]];
    }
    // 7x7 Cholesky + one 6x6 eigen-solve: a few microseconds, well under a physics step.
    const Mat7 m_inv = mass.llt().solve(Mat7::Identity());
    const Eigen::Matrix<double, 6, 6> lambda_full = spd_pinv<6>(j * m_inv * j.transpose());
    Eigen::Matrix<double, 6, 6> lambda = lambda_full;
    if (cfg_.uncouple_pos_ori) {
      const Eigen::Matrix<double, 3, 7> jp = j.topRows<3>(), jr = j.bottomRows<3>();
      lambda.setZero();
      lambda.topLeftCorner<3, 3>() = spd_pinv<3>(jp * m_inv * jp.transpose());
      lambda.bottomRightCorner<3, 3>() = spd_pinv<3>(jr * m_inv * jr.transpose());
    }

    const double kd = 2 * std::sqrt(cfg_.kp) * cfg_.damping_ratio;
    Eigen::Matrix<double, 6, 1> err;
    err << goal_pos_ - site_pos(d), orientation_error(goal_rot_, site_rot(d));
    const Eigen::Matrix<double, 6, 1> wrench = lambda * (cfg_.kp * err - kd * (j * qd));

    // Dynamically consistent nullspace N = I - J_bar J, J_bar = M^-1 J^T Lambda; the posture
    // torque goes through N^T.
    const Eigen::Matrix<double, 7, 6> j_bar = m_inv * j.transpose() * lambda_full;
    const Mat7 null = Mat7::Identity() - j_bar * j;
    const double kd_null = 2 * std::sqrt(cfg_.kp_null);
    const Vec7 posture_torque = mass * (cfg_.kp_null * (posture_ - q) - kd_null * qd);

    const Vec7 tau = j.transpose() * wrench + null.transpose() * posture_torque + bias;
    for (int i = 0; i < 7; ++i) torque[i] = std::clamp(tau[i], -limit_[i], limit_[i]);
  }

  Eigen::Vector3d site_pos(const mjData* d) const {
    return Eigen::Vector3d(d->site_xpos[3 * site_], d->site_xpos[3 * site_ + 1],
                           d->site_xpos[3 * site_ + 2]);
  }
  Eigen::Matrix3d site_rot(const mjData* d) const {
    // MuJoCo stores xmat row-major.
    return Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(d->site_xmat + 9 * site_);
  }

 private:
  OscConfig cfg_;
  int site_;
  std::array<int, 7> dof_{}, qpos_{};
  Vec7 limit_, posture_;
  std::vector<mjtNum> jacp_, jacr_, full_m_;
  Eigen::Vector3d goal_pos_ = Eigen::Vector3d::Zero();
  Eigen::Matrix3d goal_rot_ = Eigen::Matrix3d::Identity();
};

}  // namespace mimic::env
