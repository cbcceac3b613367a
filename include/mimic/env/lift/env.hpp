#pragma once
// Lift (robosuite-like): a Panda arm with a parallel gripper must pick up a 4 cm cube from a
// table. 20 Hz OSC_POSE control over 500 Hz MuJoCo physics; sparse reward 1 on success (cube
// centre more than 4 cm above the table top); horizon 400.
#include <mujoco/mujoco.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

// Not sorted, on purpose: the order of inline definitions steers GCC's inlining, which can move
// multiply-add contractions and so change trajectories in the last bit.
// clang-format off
#include "mimic/core/error.hpp"
#include "mimic/core/philox.hpp"
#include "mimic/env/env.hpp"
#include "mimic/env/mujoco/mjcf.hpp"
#include "mimic/env/lift/osc.hpp"
#include "mimic/env/lift/panda_model.hpp"
#include "mimic/env/render/offscreen.hpp"
// clang-format on

namespace mimic::env {

struct LiftConfig {
  bool use_camera_obs = false;  // add agentview_image and robot0_eye_in_hand_image
  int camera_size = 84;         // camera_heights = camera_widths
  int horizon = 400;
  double joint_noise = 0.02;  // robosuite's initialization_noise: gaussian, rad
  double cube_range = 0.03;   // cube centre uniform in [-r, r]^2 around the table centre
  OscConfig osc{};
};

namespace lift_detail {

inline int require_id(const mjModel* m, mjtObj type, const char* name) {
  const int id = mj_name2id(m, type, name);
  if (id < 0) throw Error(std::string("Lift: model has no object named ") + name);
  return id;
}

// Quaternion (MuJoCo w, x, y, z) to robosuite's x, y, z, w, in the hemisphere where
// component `pos` (0 = w, 1 = x, ...) is non-negative.
inline std::array<float, 4> quat_xyzw(const double* wxyz, int pos) {
  const double s = wxyz[pos] < 0 ? -1.0 : 1.0;
  return {static_cast<float>(s * wxyz[1]), static_cast<float>(s * wxyz[2]),
          static_cast<float>(s * wxyz[3]), static_cast<float>(s * wxyz[0])};
}

}  // namespace lift_detail

class LiftEnv final : public Env {
 public:
  static constexpr int kActionDim = 7;
  static constexpr int kSubsteps = 25;  // 0.05 s control step / 0.002 s physics step
  static constexpr double kControlDt = 0.05;
  static constexpr double kSuccessHeight = 0.04;  // above the table top

  explicit LiftEnv(LiftConfig cfg = {})
      : cfg_(cfg),
        m_(load_mjcf_string(panda::lift_mjcf(), "lift")),
        d_(mj_makeData(m_.get())),
        osc_(m_.get(), lift_detail::require_id(m_.get(), mjOBJ_SITE, "grip_site"),
             arm_joints(m_.get()), panda::kTorqueLimit, panda::kHomeQpos, cfg.osc) {
    if (cfg_.camera_size < 1 || cfg_.horizon < 1)
      throw ValueError("Lift: camera_size " + std::to_string(cfg_.camera_size) + " and horizon " +
                       std::to_string(cfg_.horizon) + " must be positive");
    const mjModel* m = m_.get();
    arm_joint_ = arm_joints(m);
    for (int i = 0; i < 7; ++i) {
      arm_qpos_[i] = m->jnt_qposadr[arm_joint_[i]];
      arm_dof_[i] = m->jnt_dofadr[arm_joint_[i]];
      arm_act_[i] =
          lift_detail::require_id(m, mjOBJ_ACTUATOR, ("torque" + std::to_string(i + 1)).c_str());
    }
    const char* fingers[2] = {"finger_left", "finger_right"};
    for (int i = 0; i < 2; ++i) {
      const int j = lift_detail::require_id(m, mjOBJ_JOINT, fingers[i]);
      finger_qpos_[i] = m->jnt_qposadr[j];
      finger_dof_[i] = m->jnt_dofadr[j];
      finger_act_[i] = lift_detail::require_id(m, mjOBJ_ACTUATOR, fingers[i]);
    }
    const int cube_joint = lift_detail::require_id(m, mjOBJ_JOINT, "cube_joint");
    cube_qpos_ = m->jnt_qposadr[cube_joint];
    cube_body_ = lift_detail::require_id(m, mjOBJ_BODY, "cube");
    grip_site_ = lift_detail::require_id(m, mjOBJ_SITE, "grip_site");
    flange_site_ = lift_detail::require_id(m, mjOBJ_SITE, "flange");
    reset(0);
  }
  LiftEnv(const LiftEnv&) = delete;
  LiftEnv& operator=(const LiftEnv&) = delete;

  std::string name() const override { return "Lift"; }
  int action_dim() const override { return kActionDim; }
  int horizon() const override { return cfg_.horizon; }
  const LiftConfig& config() const { return cfg_; }
  const mjModel* model() const { return m_.get(); }
  const mjData* data() const { return d_.get(); }
  int steps() const { return steps_; }

  nlohmann::json env_args() const override {
    using nlohmann::json;
    const double pm = cfg_.osc.pos_scale, rm = cfg_.osc.rot_scale;
    json controller = {{"type", "OSC_POSE"},
                       {"input_max", 1},
                       {"input_min", -1},
                       {"output_max", {pm, pm, pm, rm, rm, rm}},
                       {"output_min", {-pm, -pm, -pm, -rm, -rm, -rm}},
                       {"kp", cfg_.osc.kp},
                       {"damping_ratio", cfg_.osc.damping_ratio},
                       {"impedance_mode", "fixed"},
                       {"kp_limits", {0, 300}},
                       {"damping_ratio_limits", {0, 10}},
                       {"position_limits", nullptr},
                       {"orientation_limits", nullptr},
                       {"uncouple_pos_ori", false},
                       {"control_delta", true},
                       {"interpolation", nullptr},
                       {"ramp_ratio", 0.2}};
    json kwargs = {{"has_renderer", false},
                   {"has_offscreen_renderer", cfg_.use_camera_obs},
                   {"ignore_done", true},
                   {"use_object_obs", true},
                   {"use_camera_obs", cfg_.use_camera_obs},
                   {"control_freq", 20},
                   {"controller_configs", controller},
                   {"robots", {"Panda"}},
                   {"camera_depths", false},
                   {"camera_heights", cfg_.camera_size},
                   {"camera_widths", cfg_.camera_size},
                   {"camera_names", cameras()},
                   {"reward_shaping", false},
                   {"horizon", cfg_.horizon}};
    return {
        {"env_name", "Lift"}, {"env_version", "mimic-lift-1"}, {"type", 1}, {"env_kwargs", kwargs}};
  }

  std::vector<ObsSpec> observation_specs() const override {
    std::vector<ObsSpec> s = {{"object", {10}},
                              {"robot0_eef_pos", {3}},
                              {"robot0_eef_quat", {4}},
                              {"robot0_gripper_qpos", {2}},
                              {"robot0_gripper_qvel", {2}},
                              {"robot0_joint_pos", {7}},
                              {"robot0_joint_pos_cos", {7}},
                              {"robot0_joint_pos_sin", {7}},
                              {"robot0_joint_vel", {7}}};
    if (cfg_.use_camera_obs)
      for (const auto& c : cameras())
        s.push_back({c + "_image", {cfg_.camera_size, cfg_.camera_size, 3}, true});
    return s;
  }

  std::vector<std::string> cameras() const override { return {"agentview", "robot0_eye_in_hand"}; }

  // Rest pose plus gaussian joint noise, fingers open, the cube at a random spot near the table
  // centre with a random yaw. Every draw comes from a Philox stream keyed by the seed.
  void reset(uint64_t seed) override {
    mjModel* m = m_.get();
    mjData* d = d_.get();
    mj_resetData(m, d);
    for (int i = 0; i < 7; ++i) {
      const double q = panda::kHomeQpos[i] + cfg_.joint_noise * philox_normal<double>(seed, i);
      d->qpos[arm_qpos_[i]] = std::clamp(q, panda::kJointLower[i], panda::kJointUpper[i]);
    }
    for (int i = 0; i < 2; ++i) d->qpos[finger_qpos_[i]] = panda::kFingerRange;
    const double x = cfg_.cube_range * (2 * philox_uniform<double>(seed, 16) - 1);
    const double y = cfg_.cube_range * (2 * philox_uniform<double>(seed, 17) - 1);
    const double yaw = 2 * panda::kPi * philox_uniform<double>(seed, 18);
    double* c = d->qpos + cube_qpos_;
    c[0] = x;
    c[1] = y;
    c[2] = panda::kTableTop + panda::kCubeHalf;
    c[3] = std::cos(yaw / 2);
    c[4] = 0;
    c[5] = 0;
    c[6] = std::sin(yaw / 2);
    forward_keeping_qpos(m, d);
    steps_ = 0;
  }

  // [time, qpos (16), qvel (15), act (0)]: robosuite's flattened MuJoCo state.
  std::vector<double> get_state() const override {
    const mjModel* m = m_.get();
    const mjData* d = d_.get();
    std::vector<double> s;
    s.reserve(state_size());
    s.push_back(d->time);
    s.insert(s.end(), d->qpos, d->qpos + m->nq);
    s.insert(s.end(), d->qvel, d->qvel + m->nv);
    s.insert(s.end(), d->act, d->act + m->na);
    return s;
  }
  int state_size() const { return 1 + m_->nq + m_->nv + m_->na; }

  void reset_to(const std::vector<double>& state) override {
    if (static_cast<int>(state.size()) != state_size())
      throw ValueError("Lift.reset_to: state has " + std::to_string(state.size()) +
                       " values, expected " + std::to_string(state_size()) +
                       " (time, qpos, qvel, act)");
    for (size_t i = 0; i < state.size(); ++i)
      if (!std::isfinite(state[i]))
        throw ValueError("Lift.reset_to: state[" + std::to_string(i) + "] is not finite");
    mjModel* m = m_.get();
    mjData* d = d_.get();
    mj_resetData(m, d);
    const double* p = state.data();
    d->time = *p++;
    std::copy(p, p + m->nq, d->qpos);
    p += m->nq;
    std::copy(p, p + m->nv, d->qvel);
    p += m->nv;
    std::copy(p, p + m->na, d->act);
    forward_keeping_qpos(m, d);
    steps_ = static_cast<int>(std::llround(d->time / kControlDt));
  }

  StepResult step(const std::vector<float>& action) override {
    if (static_cast<int>(action.size()) != kActionDim)
      throw ValueError("Lift.step: action has " + std::to_string(action.size()) +
                       " values, expected 7 (dpos 3, drot 3, gripper 1)");
    double a[kActionDim];
    for (int i = 0; i < kActionDim; ++i) {
      if (!std::isfinite(action[i]))
        throw ValueError("Lift.step: action[" + std::to_string(i) + "] is not finite");
      a[i] = std::clamp(static_cast<double>(action[i]), -1.0, 1.0);
    }
    mjModel* m = m_.get();
    mjData* d = d_.get();
    // The solver's warm start is the only state MuJoCo carries between steps besides
    // (time, qpos, qvel, act); clearing it here makes every control step a pure function of the
    // packed state, so reset_to(get_state()) replays a trajectory bit for bit.
    mju_zero(d->qacc_warmstart, m->nv);
    const double finger = panda::kFingerRange * (1 - a[6]) / 2;  // -1 open .. 1 closed
    double torque[7];
    for (int s = 0; s < kSubsteps; ++s) {
      mj_step1(m, d);  // kinematics, inertia, bias forces at the current state
      if (s == 0) osc_.set_goal(d, a);
      osc_.compute(m, d, torque);
      for (int i = 0; i < 7; ++i) d->ctrl[arm_act_[i]] = torque[i];
      for (int i = 0; i < 2; ++i) d->ctrl[finger_act_[i]] = finger;
      mj_step2(m, d);
    }
    forward_keeping_qpos(m, d);  // observations and rendering see the new state
    ++steps_;
    StepResult r;
    r.success = is_success();
    r.reward = r.success ? 1.0 : 0.0;
    r.done = steps_ >= cfg_.horizon;
    return r;
  }

  bool is_success() const override {
    return d_->xpos[3 * cube_body_ + 2] > panda::kTableTop + kSuccessHeight;
  }

  Observation observe() const override {
    const mjData* d = d_.get();
    Observation o;
    auto& ld = o.low_dim;
    const double* eef = d->site_xpos + 3 * grip_site_;
    const double* cube = d->xpos + 3 * cube_body_;
    ld["robot0_eef_pos"] = {float(eef[0]), float(eef[1]), float(eef[2])};
    double q[4];
    mju_mat2Quat(q, d->site_xmat + 9 * grip_site_);
    // The gripper points down, where w ~ 0: fixing the sign of x instead keeps the quaternion
    // continuous over every yaw the task needs (the hand's x axis stays near world +x).
    auto eq = lift_detail::quat_xyzw(q, 1);
    ld["robot0_eef_quat"] = {eq.begin(), eq.end()};
    auto cq = lift_detail::quat_xyzw(d->xquat + 4 * cube_body_, 0);
    ld["object"] = {float(cube[0]),
                    float(cube[1]),
                    float(cube[2]),
                    cq[0],
                    cq[1],
                    cq[2],
                    cq[3],
                    float(cube[0] - eef[0]),
                    float(cube[1] - eef[1]),
                    float(cube[2] - eef[2])};
    auto& gq = ld["robot0_gripper_qpos"];
    auto& gv = ld["robot0_gripper_qvel"];
    for (int i = 0; i < 2; ++i) {
      gq.push_back(float(d->qpos[finger_qpos_[i]]));
      gv.push_back(float(d->qvel[finger_dof_[i]]));
    }
    auto& jp = ld["robot0_joint_pos"];
    auto& jc = ld["robot0_joint_pos_cos"];
    auto& js = ld["robot0_joint_pos_sin"];
    auto& jv = ld["robot0_joint_vel"];
    for (int i = 0; i < 7; ++i) {
      const double qi = d->qpos[arm_qpos_[i]];
      jp.push_back(float(qi));
      jc.push_back(float(std::cos(qi)));
      js.push_back(float(std::sin(qi)));
      jv.push_back(float(d->qvel[arm_dof_[i]]));
    }
    if (cfg_.use_camera_obs)
      for (const auto& c : cameras())
        o.images[c + "_image"] =
            const_cast<LiftEnv*>(this)->render(c, cfg_.camera_size, cfg_.camera_size);
    return o;
  }

  // RGB HWC, rows top-down, up to 640 x 480 (the model's off-screen buffer). The OSMesa context
  // is made on first use, so low-dim rollouts never pay for it.
  std::vector<uint8_t> render(const std::string& camera, int width, int height) override {
    const int cam = mj_name2id(m_.get(), mjOBJ_CAMERA, camera.c_str());
    if (cam < 0)
      throw ValueError("Lift.render: unknown camera '" + camera +
                       "' (have: agentview, robot0_eye_in_hand)");
    if (!renderer_) {
      renderer_ = std::make_unique<OffscreenRenderer>(m_.get());
      renderer_->scene().flags[mjRND_SHADOW] = 0;
      renderer_->scene().flags[mjRND_REFLECTION] = 0;
      renderer_->scene().flags[mjRND_SKYBOX] = 0;
    }
    return renderer_->render(m_.get(), d_.get(), cam, width, height);
  }

  // Arm joint positions in DH order and the flange pose (position, row-major rotation).
  std::array<double, 7> joint_positions() const {
    std::array<double, 7> q;
    for (int i = 0; i < 7; ++i) q[i] = d_->qpos[arm_qpos_[i]];
    return q;
  }
  const double* flange_pos() const { return d_->site_xpos + 3 * flange_site_; }
  const double* flange_rot() const { return d_->site_xmat + 9 * flange_site_; }
  const double* eef_pos() const { return d_->site_xpos + 3 * grip_site_; }
  const double* eef_rot() const { return d_->site_xmat + 9 * grip_site_; }
  const double* cube_pos() const { return d_->xpos + 3 * cube_body_; }

 private:
  // mj_forward writes the cube's normalized quaternion back into qpos, and normalizing again can
  // move its last bit. Keeping qpos as it was makes the derived quantities (and the next step,
  // which normalizes once in mj_step1) a function of the packed state alone, so a state restored
  // by reset_to behaves exactly like the one get_state read.
  static void forward_keeping_qpos(const mjModel* m, mjData* d) {
    mjMARKSTACK;
    mjtNum* qpos = mj_stackAlloc(d, m->nq);
    mju_copy(qpos, d->qpos, m->nq);
    mj_forward(m, d);
    mju_copy(d->qpos, qpos, m->nq);
    mjFREESTACK;
  }
  static std::array<int, 7> arm_joints(const mjModel* m) {
    std::array<int, 7> j;
    for (int i = 0; i < 7; ++i)
      j[i] = lift_detail::require_id(m, mjOBJ_JOINT, ("joint" + std::to_string(i + 1)).c_str());
    return j;
  }
  struct ModelFree {
    void operator()(mjModel* m) const { mj_deleteModel(m); }
  };
  struct DataFree {
    void operator()(mjData* d) const { mj_deleteData(d); }
  };

  LiftConfig cfg_;
  std::unique_ptr<mjModel, ModelFree> m_;
  std::unique_ptr<mjData, DataFree> d_;
  OscPose osc_;
  std::array<int, 7> arm_joint_{}, arm_qpos_{}, arm_dof_{}, arm_act_{};
  std::array<int, 2> finger_qpos_{}, finger_dof_{}, finger_act_{};
  int cube_qpos_ = 0, cube_body_ = 0, grip_site_ = 0, flange_site_ = 0;
  int steps_ = 0;
  std::unique_ptr<OffscreenRenderer> renderer_;  // after m_: released before the model
};

}  // namespace mimic::env
