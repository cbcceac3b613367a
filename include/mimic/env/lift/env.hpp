#pragma once
// Lift as robosuite 1.4.1 defines it: a Panda arm with the panda gripper must pick up a cube
// (half sizes 2.0 to 2.2 cm, drawn per reset) from a table. 20 Hz OSC_POSE control over 500 Hz
// MuJoCo physics in robosuite's scene (panda_model.hpp); robosuite's observations for the same
// simulator state; sparse reward 1 on success (cube centre more than 4 cm above the table top);
// horizon 400.
#include <mujoco/mujoco.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
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
  double joint_noise = 0.02;     // robosuite's initialization_noise: gaussian, rad
  double cube_range = 0.03;      // cube centre uniform in [-r, r]^2 around the table centre
  bool random_cube_size = true;  // half sizes from [0.020, 0.022] per reset, as robosuite
  // A scene to run instead of the built-in one: robosuite's own model XML (a dataset's
  // model_file, its mesh files where it names them). Empty: panda_model.hpp's scene.
  std::string model_xml;
  OscConfig osc{};
};

namespace lift_detail {

inline int require_id(const mjModel* m, mjtObj type, const char* name) {
  const int id = mj_name2id(m, type, name);
  if (id < 0) throw Error(std::string("Lift: model has no object named ") + name);
  return id;
}

// Quaternion (MuJoCo w, x, y, z) to robosuite's x, y, z, w, with MuJoCo's sign, as robosuite.
inline std::array<float, 4> quat_xyzw(const double* wxyz) {
  return {static_cast<float>(wxyz[1]), static_cast<float>(wxyz[2]), static_cast<float>(wxyz[3]),
          static_cast<float>(wxyz[0])};
}

// The cube's half sizes in a robosuite model file (geom cube_g0), or none when absent.
inline std::optional<std::array<double, 3>> cube_half_size_in_model(const std::string& xml) {
  const size_t geom = xml.find("name=\"cube_g0\"");
  if (geom == std::string::npos) return std::nullopt;
  const size_t open = xml.rfind('<', geom), close = xml.find('>', geom);
  const std::string tag = xml.substr(open, close - open);
  const size_t at = tag.find(" size=\"");
  if (at == std::string::npos) return std::nullopt;
  std::array<double, 3> h{};
  if (std::sscanf(tag.c_str() + at + 7, "%lf %lf %lf", &h[0], &h[1], &h[2]) != 3)
    return std::nullopt;
  for (double v : h)
    if (!(v > 0 && v < 1)) return std::nullopt;
  return h;
}

}  // namespace lift_detail

// What robosuite's controller and gripper carry besides the simulator state.
struct LiftControllerState {
  std::array<double, 7> posture{};  // the OSC's nullspace target (joint positions at reset)
  std::array<double, 2> gripper{};  // the panda gripper's command, -1 open .. 1 closed per finger
  bool operator==(const LiftControllerState& o) const {
    return posture == o.posture && gripper == o.gripper;
  }
};

class LiftEnv final : public Env {
 public:
  static constexpr int kActionDim = 7;
  static constexpr int kSubsteps = 25;  // 0.05 s control step / 0.002 s physics step
  static constexpr double kControlDt = 0.05;
  static constexpr double kSuccessHeight = 0.04;  // above the table top

  explicit LiftEnv(LiftConfig cfg = {})
      : cfg_(cfg),
        m_(load_mjcf_string(scene_to_compile(cfg),
                            cfg.model_xml.empty() ? "lift" : "Lift model_file")),
        d_(mj_makeData(m_.get())),
        osc_(m_.get(), lift_detail::require_id(m_.get(), mjOBJ_SITE, "gripper0_grip_site"),
             arm_joints(m_.get()), panda::kTorqueLimit, panda::kHomeQpos, cfg.osc) {
    if (cfg_.camera_size < 1 || cfg_.horizon < 1)
      throw ValueError("Lift: camera_size " + std::to_string(cfg_.camera_size) + " and horizon " +
                       std::to_string(cfg_.horizon) + " must be positive");
    const mjModel* m = m_.get();
    arm_joint_ = arm_joints(m);
    for (int i = 0; i < 7; ++i) {
      arm_qpos_[i] = m->jnt_qposadr[arm_joint_[i]];
      arm_dof_[i] = m->jnt_dofadr[arm_joint_[i]];
      arm_act_[i] = lift_detail::require_id(m, mjOBJ_ACTUATOR,
                                            ("robot0_torq_j" + std::to_string(i + 1)).c_str());
    }
    for (int i = 0; i < 2; ++i) {
      const std::string n = std::to_string(i + 1);
      const int j = lift_detail::require_id(m, mjOBJ_JOINT, ("gripper0_finger_joint" + n).c_str());
      finger_qpos_[i] = m->jnt_qposadr[j];
      finger_dof_[i] = m->jnt_dofadr[j];
      finger_act_[i] =
          lift_detail::require_id(m, mjOBJ_ACTUATOR, ("gripper0_gripper_finger_joint" + n).c_str());
    }
    const int cube_joint = lift_detail::require_id(m, mjOBJ_JOINT, "cube_joint0");
    cube_qpos_ = m->jnt_qposadr[cube_joint];
    cube_body_ = lift_detail::require_id(m, mjOBJ_BODY, "cube_main");
    cube_geom_ = lift_detail::require_id(m, mjOBJ_GEOM, "cube_g0");
    cube_visual_ = mj_name2id(m, mjOBJ_GEOM, "cube_g0_vis");
    hand_body_ = lift_detail::require_id(m, mjOBJ_BODY, "robot0_right_hand");
    grip_site_ = lift_detail::require_id(m, mjOBJ_SITE, "gripper0_grip_site");
    flange_site_ = mj_name2id(m, mjOBJ_SITE, "robot0_flange");  // mimic's scene only
    if (!cfg_.model_xml.empty())
      if (const auto half = lift_detail::cube_half_size_in_model(cfg_.model_xml)) {
        cfg_.random_cube_size = false;
        cube_fixed_ = *half;
      }
    reset(0);
  }
  LiftEnv(const LiftEnv&) = delete;
  LiftEnv& operator=(const LiftEnv&) = delete;

  // The MJCF to compile for `cfg`. A model_file that is mimic's own scene (as generate-demos
  // writes it, with the episode's cube size) is built the way that episode was: the default scene,
  // then the cube resized by set_cube_half_size. Compiling it as written would derive the
  // constraint scalings (body and dof invweight0) from the resized cube instead, and a replay
  // of the recorded actions would drift from the recorded states (by up to 0.06 in some state
  // value on the first demos measured; exactly 0 this way).
  static std::string scene_to_compile(const LiftConfig& cfg) {
    if (cfg.model_xml.empty()) return panda::lift_mjcf();
    const auto half = lift_detail::cube_half_size_in_model(cfg.model_xml);
    if (half && cfg.model_xml == panda::lift_mjcf(*half)) return panda::lift_mjcf();
    return cfg.model_xml;
  }

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
                       {"uncouple_pos_ori", cfg_.osc.uncouple_pos_ori},
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
        {"env_name", "Lift"}, {"env_version", "mimic-lift-2"}, {"type", 1}, {"env_kwargs", kwargs}};
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

  // robosuite's reset distribution: init_qpos plus gaussian joint noise (not clipped, as in
  // robosuite), the gripper half open, a cube of random size dropped from 1 cm above the table at
  // a uniform spot in [-0.03, 0.03]^2 with a uniform yaw in [0, 2 pi). Every draw comes from a
  // Philox stream keyed by the seed (robosuite draws from numpy's global generator).
  void reset(uint64_t seed) override {
    mjModel* m = m_.get();
    mjData* d = d_.get();
    std::array<double, 3> half = cube_fixed_;
    if (cfg_.random_cube_size)
      for (int i = 0; i < 3; ++i)
        half[i] = panda::kCubeHalfMin + (panda::kCubeHalfMax - panda::kCubeHalfMin) *
                                            philox_uniform<double>(seed, 20 + i);
    set_cube_half_size(half);
    mj_resetData(m, d);
    for (int i = 0; i < 7; ++i)
      d->qpos[arm_qpos_[i]] =
          panda::kHomeQpos[i] + cfg_.joint_noise * philox_normal<double>(seed, i);
    for (int i = 0; i < 2; ++i) d->qpos[finger_qpos_[i]] = panda::kGripperInitQpos[i];
    const double x = cfg_.cube_range * (2 * philox_uniform<double>(seed, 16) - 1);
    const double y = cfg_.cube_range * (2 * philox_uniform<double>(seed, 17) - 1);
    const double yaw = 2 * panda::kPi * philox_uniform<double>(seed, 18);
    double* c = d->qpos + cube_qpos_;
    c[0] = x;
    c[1] = y;
    c[2] = panda::kTableTop + 0.01 + half[2];
    c[3] = std::cos(yaw / 2);
    c[4] = 0;
    c[5] = 0;
    c[6] = std::sin(yaw / 2);
    forward_keeping_qpos(m, d);
    restart_controller();
    steps_ = 0;
  }

  // The cube's half sizes; its mass and inertia follow at density 1000, as MuJoCo computes them
  // for robosuite's model.
  void set_cube_half_size(const std::array<double, 3>& half) {
    for (double h : half)
      if (!(h > 0 && h < 1))
        throw ValueError("Lift: cube half size " + std::to_string(h) + " m is not in (0, 1)");
    mjModel* m = m_.get();
    const double mass = panda::kCubeDensity * 8 * half[0] * half[1] * half[2];
    double* inertia = m->body_inertia + 3 * cube_body_;
    for (int i = 0; i < 3; ++i) {
      m->geom_size[3 * cube_geom_ + i] = half[i];
      const double a = half[(i + 1) % 3], b = half[(i + 2) % 3];
      inertia[i] = mass / 3 * (a * a + b * b);
    }
    if (cube_visual_ >= 0)
      for (int i = 0; i < 3; ++i) m->geom_size[3 * cube_visual_ + i] = half[i];
    m->geom_rbound[cube_geom_] =
        std::sqrt(half[0] * half[0] + half[1] * half[1] + half[2] * half[2]);
    m->body_subtreemass[0] += mass - m->body_mass[cube_body_];
    m->body_mass[cube_body_] = mass;
    m->body_subtreemass[cube_body_] = mass;
    cube_half_ = half;
  }
  const std::array<double, 3>& cube_half_size() const { return cube_half_; }

  // reset_to restarts the controller as robosuite's reset does; restoring the state read here as
  // well makes a trajectory resumed mid-episode continue bit for bit.
  LiftControllerState controller_state() const { return {osc_.posture(), gripper_command_}; }
  void set_controller_state(const LiftControllerState& c) {
    osc_.set_posture(c.posture);
    gripper_command_ = c.gripper;
  }

  // The scene as MJCF, for a dataset's `model_file`: robomimic's playback builds it in robosuite.
  std::string model_xml() const {
    return cfg_.model_xml.empty() ? panda::lift_mjcf(cube_half_) : cfg_.model_xml;
  }
  std::string model_file() const override { return model_xml(); }

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
    restart_controller();
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
    // robosuite's panda gripper moves its command 0.01 per physics step toward closed (+1) or
    // open (-1) by the action's sign; the command maps onto each finger's ctrlrange.
    const double grip_sign = a[6] > 0 ? 1.0 : a[6] < 0 ? -1.0 : 0.0;
    double torque[7];
    for (int s = 0; s < kSubsteps; ++s) {
      mj_step1(m, d);  // kinematics, inertia, bias forces at the current state
      if (s == 0) osc_.set_goal(d, a);
      osc_.compute(m, d, torque);
      for (int i = 0; i < 7; ++i) d->ctrl[arm_act_[i]] = torque[i];
      for (int i = 0; i < 2; ++i) {
        const double dir = i == 0 ? -1.0 : 1.0;
        gripper_command_[i] = std::clamp(gripper_command_[i] + dir * 0.01 * grip_sign, -1.0, 1.0);
        const double* range = m->actuator_ctrlrange + 2 * finger_act_[i];
        d->ctrl[finger_act_[i]] =
            0.5 * (range[1] + range[0]) + 0.5 * (range[1] - range[0]) * gripper_command_[i];
      }
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
    // As robosuite: the grip site's position, the hand body's quaternion, the cube's position
    // and quaternion, and end effector minus cube.
    const double* eef = d->site_xpos + 3 * grip_site_;
    const double* cube = d->xpos + 3 * cube_body_;
    ld["robot0_eef_pos"] = {float(eef[0]), float(eef[1]), float(eef[2])};
    auto eq = lift_detail::quat_xyzw(d->xquat + 4 * hand_body_);
    ld["robot0_eef_quat"] = {eq.begin(), eq.end()};
    auto cq = lift_detail::quat_xyzw(d->xquat + 4 * cube_body_);
    ld["object"] = {float(cube[0]),
                    float(cube[1]),
                    float(cube[2]),
                    cq[0],
                    cq[1],
                    cq[2],
                    cq[3],
                    float(eef[0] - cube[0]),
                    float(eef[1] - cube[1]),
                    float(eef[2] - cube[2])};
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
                       "' (have: agentview, robot0_eye_in_hand, frontview, birdview, sideview, "
                       "robot0_robotview)");
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
  const double* flange_pos() const { return d_->site_xpos + 3 * flange_site(); }
  const double* flange_rot() const { return d_->site_xmat + 9 * flange_site(); }
  const double* eef_pos() const { return d_->site_xpos + 3 * grip_site_; }
  const double* eef_rot() const { return d_->site_xmat + 9 * grip_site_; }
  const double* cube_pos() const { return d_->xpos + 3 * cube_body_; }

 private:
  int flange_site() const {
    if (flange_site_ < 0) throw Error("Lift: this model has no site robot0_flange");
    return flange_site_;
  }
  // What robosuite's controller and gripper hold besides the simulator state, set as robosuite
  // sets them on reset: the nullspace posture is the arm's joint positions now (for a demo's first
  // state, exactly what its controller had), the gripper command is zero.
  void restart_controller() {
    osc_.set_posture(joint_positions());
    gripper_command_ = {0, 0};
  }

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
      j[i] =
          lift_detail::require_id(m, mjOBJ_JOINT, ("robot0_joint" + std::to_string(i + 1)).c_str());
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
  int cube_visual_ = -1;
  int cube_qpos_ = 0, cube_body_ = 0, cube_geom_ = 0, hand_body_ = 0, grip_site_ = 0,
      flange_site_ = 0;
  std::array<double, 3> cube_half_{}, cube_fixed_{0.021, 0.021, 0.021};
  std::array<double, 2> gripper_command_{};  // robosuite's PandaGripper.current_action
  int steps_ = 0;
  std::unique_ptr<OffscreenRenderer> renderer_;  // after m_: released before the model
};

}  // namespace mimic::env
