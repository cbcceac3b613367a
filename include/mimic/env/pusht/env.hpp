#pragma once
// Push-T (Diffusion Policy's planar pushing task) on MuJoCo: a disc agent pushes a T-shaped block
// onto a fixed goal pose inside a 512 x 512 walled workspace.
//
// Frame: x right, y down (image rows), z into the screen, all lengths in workspace pixels. The
// published task runs on pymunk; the rules reproduced here:
// - agent: kinematic disc of radius 15; every 0.01 s its velocity follows the PD rule
//   v += (k_p (target - p) - k_v v) dt with k_p 100, k_v 20, then p += v dt (10 substeps per 0.1 s
//   control step). The agent is a very heavy body whose position and velocity are overwritten with
//   that rule after every substep, so contacts never deflect it; it passes through the walls.
// - block: mass 1, centre of mass at local (0, 45) (the mean of the two part centroids, as
//   published) and rotational inertia 3000 about it; no gravity, no floor, frictionless contacts
//   (condim 1). The published space has damping 0, which in pymunk removes all velocity every step:
//   the block keeps no momentum and only moves while pushed. Its velocity is zeroed before every
//   substep to match.
// - reward = clip(coverage / 0.95, 0, 1); success and done when coverage > 0.95.
#include <mujoco/mujoco.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <span>
#include <string>
#include <vector>

// Not sorted, on purpose: the order of inline definitions steers GCC's inlining, which can move
// multiply-add contractions and so change trajectories in the last bit.
// clang-format off
#include "mimic/core/error.hpp"
#include "mimic/core/numpy_random_state.hpp"
#include "mimic/env/env.hpp"
#include "mimic/env/pusht/geometry.hpp"
#include "mimic/env/mujoco/mjcf.hpp"
#include "mimic/env/render/offscreen.hpp"
// clang-format on

namespace mimic::env {

// Geometry and constants of the published task.
namespace pusht {
inline constexpr double kWorkspace = 512.0;
inline constexpr double kAgentRadius = 15.0;
inline constexpr double kKp = 100.0, kKv = 20.0;
inline constexpr double kPhysicsDt = 0.01;  // 100 Hz
inline constexpr int kSubsteps = 10;        // 10 Hz control
inline constexpr double kSuccessCoverage = 0.95;
inline constexpr int kHorizon = 300;
inline constexpr geom::Pose2 kGoal{256.0, 256.0, M_PI / 4};
// The T in its body frame: bar (-60, 0)..(60, 30) and stem (-15, 30)..(15, 120).
inline constexpr std::array<std::array<double, 4>, 2> kTeeRects{
    {{-60, 0, 60, 30}, {-15, 30, 15, 120}}};
inline constexpr double kTeeArea = 120.0 * 30.0 + 30.0 * 90.0;  // 6300
inline constexpr geom::Vec2 kCenterOfMass{0.0, 45.0};
// The eight corners of the T's outline in its body frame (planning and tests).
inline constexpr std::array<geom::Vec2, 8> kOutlineCorners{
    {{-60, 0}, {60, 0}, {60, 30}, {15, 30}, {15, 120}, {-15, 120}, {-15, 30}, {-60, 30}}};
// The 9 block keypoints of the published low-dimensional observation, in the body frame. They are
// part of the task's definition, derived once from it (tests/reference/make_pusht_fixtures.py,
// pinned by tests/data/pusht/dp_definition.json): the T as the published renderer draws it at
// rest, its coloured pixels, 9 of them by farthest-point sampling from a seeded start, plus a
// seeded uniform(0, 1) shift. Several lie inside the T, some just outside its outline.
inline constexpr std::array<geom::Vec2, 9> kKeypoints{{
    {9.269786713763871, 90.040973523936188},
    {-60.983472364471474, -1.1867297607997276},
    {60.912755577277721, -1.3933642242328201},
    {-0.2705034390160016, 25.543624991465421},
    {-14.064927576212233, 122.81585355412153},
    {39.002738500170146, 32.857404276587566},
    {-39.966414424694534, 32.729655446429945},
    {-16.824344379397441, 62.863178922349888},
    {23.54146122024909, -1.7002881094626152},
}};

// gym-pusht's keypoint observation (obs_type environment_state_agent_pos, which LeRobot's Push-T
// keypoint policies observe as observation.environment_state): the vertices of the T's two
// boxes, bar then stem, in the order pymunk keeps a polygon's vertices (its convex hull's), in the
// body frame. tests/data/pusht/gym_pusht_environment_state.json pins them.
inline constexpr std::array<geom::Vec2, 8> kPolygonVertices{
    {{-60, 0}, {60, 0}, {60, 30}, {-60, 30}, {-15, 30}, {15, 30}, {15, 120}, {-15, 120}}};

inline std::array<geom::Polygon, 2> tee_polygons(const geom::Pose2& pose) {
  return {geom::rect(pose, kTeeRects[0][0], kTeeRects[0][1], kTeeRects[0][2], kTeeRects[0][3]),
          geom::rect(pose, kTeeRects[1][0], kTeeRects[1][1], kTeeRects[1][2], kTeeRects[1][3])};
}

// Distance from a point to the T at `pose` (0 inside).
inline double distance_to_tee(const geom::Pose2& pose, geom::Vec2 p) {
  const double c = std::cos(pose.theta), s = std::sin(pose.theta);
  const geom::Vec2 d = p - geom::Vec2{pose.x, pose.y};
  const geom::Vec2 q{c * d.x + s * d.y, -s * d.x + c * d.y};  // block frame
  double best = std::numeric_limits<double>::infinity();
  for (const auto& r : kTeeRects) {
    const double dx = std::max({r[0] - q.x, 0.0, q.x - r[2]});
    const double dy = std::max({r[1] - q.y, 0.0, q.y - r[3]});
    best = std::min(best, std::hypot(dx, dy));
  }
  return best;
}

// area(T(block) ∩ T(goal)) / area(T). Each T is two rectangles with disjoint interiors, so the
// intersection area is the sum over the four rectangle pairs, each an exact convex clip.
inline double coverage(const geom::Pose2& block, const geom::Pose2& goal = kGoal) {
  const auto a = tee_polygons(block), b = tee_polygons(goal);
  double inter = 0;
  for (const auto& p : a)
    for (const auto& q : b) inter += geom::intersection_area(p, q);
  return inter / kTeeArea;
}
inline double reward_from_coverage(double cov) {
  return std::clamp(cov / kSuccessCoverage, 0.0, 1.0);
}
inline bool success_from_coverage(double cov) { return cov > kSuccessCoverage; }

// The published "legacy" placement of a block drawn at (x, y, theta): the origin goes to (x, y)
// at angle 0, then the body turns by theta about its centre of mass, which stays at
// (x, y) + kCenterOfMass. Rounded as the published physics rounds it (products never fused).
inline geom::Pose2 legacy_placement(double x, double y, double theta) {
  static_assert(kCenterOfMass.x == 0.0,
                "the formula below assumes the centre of mass on the y axis");
  volatile double along_x = kCenterOfMass.y * std::sin(theta);
  volatile double along_y = kCenterOfMass.y * std::cos(theta);
  return {x + along_x, (y + kCenterOfMass.y) - along_y, theta};
}

// Dataset actions live in [-1, 1]; the environment's targets in workspace pixels [0, 512].
inline double action_to_target(double a) { return (a + 1.0) * 0.5 * kWorkspace; }
inline double target_to_action(double t) { return t / kWorkspace * 2.0 - 1.0; }
inline std::array<double, 2> action_to_target(std::span<const float> a) {
  return {action_to_target(a[0]), action_to_target(a[1])};
}
inline std::vector<float> target_to_action(double tx, double ty) {
  return {static_cast<float>(target_to_action(tx)), static_cast<float>(target_to_action(ty))};
}

// qpos / qvel layout of the model below (checked when the model loads).
inline constexpr int kBlockX = 0, kBlockY = 1, kBlockTheta = 2, kAgentX = 3, kAgentY = 4;
inline constexpr int kNq = 5;
// Flattened state: time, qpos (5), qvel (5), act (0), qacc_warmstart (5). The solver warm start is
// part of it so that reset_to(get_state()) replays a trajectory bit for bit.
inline constexpr int kStateSize = 1 + 3 * kNq;

// MJCF of the scene. The camera sits far away on -z looking along +z with image "up" = -y, so the
// picture has x to the right and y downwards like the published renderer; the narrow field of view
// keeps the perspective error below 0.1 px at 96 x 96. Flat colours: ambient headlight only.
// What is drawn (group 0) and what collides (group 3, hidden by default) are separate geoms:
// - the T's collision boxes reach 40 px along z, beyond the agent's and the walls' reach in the
//   plane, so that the shallowest way out of any overlap is in the plane (with the drawn 10 px,
//   an agent more than 10 px inside the T got a z normal and passed through);
// - each wall collides as a solid slab filling everything beyond its inner face (x < 7, x > 504,
//   y < 7, y > 504), so that a T that starts across a wall is pushed back in, never out.
inline std::string model_xml() {
  std::string xml = R"(<mujoco model="pusht">
  <compiler angle="radian"/>
  <option timestep="0.01" gravity="0 0 0" integrator="Euler"/>
  <size njmax="200" nconmax="50"/>
  <statistic extent="1000" center="256 256 0"/>
  <visual>
    <global offwidth="512" offheight="512" fovy="2.93290332"/>
    <headlight ambient="1 1 1" diffuse="0 0 0" specular="0 0 0"/>
    <map znear="0.1" zfar="20"/>
    <quality offsamples="4"/>
  </visual>
  <default>
    <geom condim="1" contype="0" conaffinity="0"/>
  </default>
  <worldbody>
    <camera name="top" pos="256 256 -10000" xyaxes="1 0 0 0 -1 0" fovy="2.93290332"/>
    <geom name="floor" type="box" pos="256 256 3" size="300 300 1" rgba="1 1 1 1"/>
GOAL_GEOMS
    <geom name="wall_left" type="box" pos="5 255.5 -10" size="2 253.5 10" rgba="0.827 0.827 0.827 1"/>
    <geom name="wall_right" type="box" pos="506 255.5 -10" size="2 253.5 10" rgba="0.827 0.827 0.827 1"/>
    <geom name="wall_top" type="box" pos="255.5 5 -10" size="253.5 2 10" rgba="0.827 0.827 0.827 1"/>
    <geom name="wall_bottom" type="box" pos="255.5 506 -10" size="253.5 2 10" rgba="0.827 0.827 0.827 1"/>
    <geom name="wall_left_solid" type="box" pos="-496.5 256 -10" size="503.5 1256 40" group="3"
          rgba="0.827 0.827 0.827 1" contype="2" conaffinity="2"/>
    <geom name="wall_right_solid" type="box" pos="1008 256 -10" size="504 1256 40" group="3"
          rgba="0.827 0.827 0.827 1" contype="2" conaffinity="2"/>
    <geom name="wall_top_solid" type="box" pos="256 -496.5 -10" size="1256 503.5 40" group="3"
          rgba="0.827 0.827 0.827 1" contype="2" conaffinity="2"/>
    <geom name="wall_bottom_solid" type="box" pos="256 1008 -10" size="1256 504 40" group="3"
          rgba="0.827 0.827 0.827 1" contype="2" conaffinity="2"/>
    <body name="block" pos="0 0 -10">
      <joint name="block_x" type="slide" axis="1 0 0"/>
      <joint name="block_y" type="slide" axis="0 1 0"/>
      <joint name="block_theta" type="hinge" axis="0 0 1"/>
      <inertial pos="0 45 0" mass="1" diaginertia="2000 2000 3000"/>
      <geom name="bar" type="box" pos="0 15 0" size="60 15 10" rgba="0.467 0.533 0.6 1"/>
      <geom name="stem" type="box" pos="0 75 0" size="15 45 10" rgba="0.467 0.533 0.6 1"/>
      <geom name="bar_solid" type="box" pos="0 15 0" size="60 15 40" group="3"
            rgba="0.467 0.533 0.6 1" contype="1" conaffinity="6"/>
      <geom name="stem_solid" type="box" pos="0 75 0" size="15 45 40" group="3"
            rgba="0.467 0.533 0.6 1" contype="1" conaffinity="6"/>
    </body>
    <body name="agent" pos="0 0 -10">
      <joint name="agent_x" type="slide" axis="1 0 0"/>
      <joint name="agent_y" type="slide" axis="0 1 0"/>
      <inertial pos="0 0 0" mass="100000" diaginertia="1e6 1e6 1e6"/>
      <geom name="agent" type="sphere" size="15" rgba="0.255 0.412 0.882 1" contype="4" conaffinity="4"/>
    </body>
  </worldbody>
</mujoco>
)";
  // The goal T: two visual-only boxes at the goal pose, just in front of the floor.
  std::string goal;
  const char* names[] = {"goal_bar", "goal_stem"};
  for (int i = 0; i < 2; ++i) {
    const auto& r = kTeeRects[i];
    const geom::Vec2 c = kGoal.apply({(r[0] + r[2]) / 2, (r[1] + r[3]) / 2});
    char buf[300];
    std::snprintf(buf, sizeof(buf),
                  "    <geom name=\"%s\" type=\"box\" pos=\"%.12g %.12g 1\" euler=\"0 0 %.17g\" "
                  "size=\"%g %g 0.5\" rgba=\"0.565 0.933 0.565 1\"/>\n",
                  names[i], c.x, c.y, kGoal.theta, (r[2] - r[0]) / 2, (r[3] - r[1]) / 2);
    goal += buf;
  }
  xml.replace(xml.find("GOAL_GEOMS\n"), 11, goal);
  return xml;
}

inline geom::Pose2 block_pose(const mjData* d) {
  return {d->qpos[kBlockX], d->qpos[kBlockY], d->qpos[kBlockTheta]};
}
inline geom::Vec2 agent_pos(const mjData* d) { return {d->qpos[kAgentX], d->qpos[kAgentY]}; }

// One 0.1 s control step towards target (tx, ty) in workspace pixels, on any mjData of the model.
// Shared by the environment and by planners that simulate on scratch copies.
inline void control_step(const mjModel* m, mjData* d, double tx, double ty) {
  for (int s = 0; s < kSubsteps; ++s) {
    const double px = d->qpos[kAgentX], py = d->qpos[kAgentY];
    const double vx = d->qvel[kAgentX] + (kKp * (tx - px) - kKv * d->qvel[kAgentX]) * kPhysicsDt;
    const double vy = d->qvel[kAgentY] + (kKp * (ty - py) - kKv * d->qvel[kAgentY]) * kPhysicsDt;
    d->qvel[kAgentX] = vx;
    d->qvel[kAgentY] = vy;
    d->qvel[kBlockX] = d->qvel[kBlockY] = d->qvel[kBlockTheta] = 0;
    mj_step(m, d);
    // Kinematic agent: exactly the published integration, whatever the contacts did.
    d->qpos[kAgentX] = px + vx * kPhysicsDt;
    d->qpos[kAgentY] = py + vy * kPhysicsDt;
    d->qvel[kAgentX] = vx;
    d->qvel[kAgentY] = vy;
  }
}
}  // namespace pusht

struct PushTConfig {
  bool images = false;  // add the `image` observation (rendered each observe())
  int image_size = 96;  // square image side for `image`
  int horizon = pusht::kHorizon;

  nlohmann::json to_json() const {
    return {{"images", images}, {"image_size", image_size}, {"horizon", horizon}};
  }
  static PushTConfig from_json(const nlohmann::json& j) {
    PushTConfig c;
    c.images = j.value("images", c.images);
    c.image_size = j.value("image_size", c.image_size);
    c.horizon = j.value("horizon", c.horizon);
    if (c.image_size <= 0 || c.image_size > 512)
      throw ValueError("PushTConfig: image_size " + std::to_string(c.image_size) +
                       " outside [1, 512]");
    return c;
  }
};

class PushT : public Env {
 public:
  explicit PushT(PushTConfig cfg = {}) : cfg_(cfg) {
    if (cfg_.image_size <= 0 || cfg_.image_size > 512)
      throw ValueError("PushT: image_size " + std::to_string(cfg_.image_size) +
                       " outside [1, 512]");
    m_ = load_mjcf_string(pusht::model_xml(), "pusht");
    d_ = mj_makeData(m_);
    const char* joints[] = {"block_x", "block_y", "block_theta", "agent_x", "agent_y"};
    if (m_->nq != pusht::kNq || m_->nv != pusht::kNq)
      throw ValueError("PushT: model has nq " + std::to_string(m_->nq) + ", expected 5");
    for (int i = 0; i < pusht::kNq; ++i) {
      const int j = mj_name2id(m_, mjOBJ_JOINT, joints[i]);
      if (j < 0 || m_->jnt_qposadr[j] != i || m_->jnt_dofadr[j] != i)
        throw ValueError(std::string("PushT: joint ") + joints[i] + " not at address " +
                         std::to_string(i));
    }
    reset(0);
  }
  PushT(const PushT&) = delete;
  PushT& operator=(const PushT&) = delete;
  ~PushT() override {
    renderer_.reset();
    mj_deleteData(d_);
    mj_deleteModel(m_);
  }

  // --- Env ---
  std::string name() const override { return "PushT"; }
  nlohmann::json env_args() const override {
    // type 2: a gym-style environment in robomimic's EnvType numbering.
    return {{"env_name", "PushT"},
            {"env_version", "mimic-pusht-2"},
            {"type", 2},
            {"env_kwargs", cfg_.to_json()}};
  }
  int action_dim() const override { return 2; }
  std::vector<ObsSpec> observation_specs() const override {
    std::vector<ObsSpec> s{
        {"obs", {20}, false}, {"agent_pos", {2}, false}, {"environment_state", {16}, false}};
    if (cfg_.images) s.push_back({"image", {cfg_.image_size, cfg_.image_size, 3}, true});
    return s;
  }

  // The published reset, draw for draw: numpy's RandomState(seed) gives the agent position
  // (randint over [50, 450) twice), the block position (randint over [100, 400) twice) and angle
  // randn * 2 pi - pi, placed the published legacy way (pusht::legacy_placement). The evaluation
  // protocol's test episodes are seeds 100000 + i.
  void reset(uint64_t seed) override {
    if (seed > 0xFFFFFFFFull)
      throw ValueError("PushT::reset: seed " + std::to_string(seed) +
                       " above 2^32 - 1 (Push-T's starts are numpy RandomState seeds)");
    NumpyRandomState rs(static_cast<int64_t>(seed));
    const double ax = double(rs.randint(50, 450)), ay = double(rs.randint(50, 450));
    const double bx = double(rs.randint(100, 400)), by = double(rs.randint(100, 400));
    volatile double turned = rs.randn() * 2.0 * M_PI;  // rounded as numpy does, never fused
    set_pose(ax, ay, pusht::legacy_placement(bx, by, turned - M_PI));
  }

  // Places the agent (at rest) and the block (origin pose). Overlaps are left for the next control
  // step to resolve, as in the published environment, whose settling step after placement moves
  // nothing (its contact impulses act from the following step on).
  void set_pose(double agent_x, double agent_y, const geom::Pose2& block) {
    mj_resetData(m_, d_);
    d_->qpos[pusht::kAgentX] = agent_x;
    d_->qpos[pusht::kAgentY] = agent_y;
    d_->qpos[pusht::kBlockX] = block.x;
    d_->qpos[pusht::kBlockY] = block.y;
    d_->qpos[pusht::kBlockTheta] = block.theta;
    mj_forward(m_, d_);
    steps_ = 0;
  }

  void reset_to(const std::vector<double>& state) override {
    if (static_cast<int>(state.size()) != pusht::kStateSize)
      throw ValueError("PushT::reset_to: state has " + std::to_string(state.size()) +
                       " values, expected " + std::to_string(pusht::kStateSize) +
                       " (time, qpos 5, qvel 5, qacc_warmstart 5)");
    for (double v : state)
      if (!std::isfinite(v)) throw ValueError("PushT::reset_to: state has a non-finite value");
    d_->time = state[0];
    std::copy_n(state.begin() + 1, pusht::kNq, d_->qpos);
    std::copy_n(state.begin() + 1 + pusht::kNq, pusht::kNq, d_->qvel);
    mj_forward(m_, d_);
    // Set after mj_forward, which may use but must not change the warm start.
    std::copy_n(state.begin() + 1 + 2 * pusht::kNq, pusht::kNq, d_->qacc_warmstart);
    steps_ = 0;
  }
  std::vector<double> get_state() const override {
    std::vector<double> s(pusht::kStateSize);
    s[0] = d_->time;
    std::copy_n(d_->qpos, pusht::kNq, s.begin() + 1);
    std::copy_n(d_->qvel, pusht::kNq, s.begin() + 1 + pusht::kNq);
    std::copy_n(d_->qacc_warmstart, pusht::kNq, s.begin() + 1 + 2 * pusht::kNq);
    return s;
  }

  StepResult step(const std::vector<float>& action) override {
    if (action.size() != 2)
      throw ValueError("PushT::step: action has " + std::to_string(action.size()) +
                       " values, expected 2");
    if (!std::isfinite(action[0]) || !std::isfinite(action[1]))
      throw ValueError("PushT::step: action [" + std::to_string(action[0]) + ", " +
                       std::to_string(action[1]) + "] is not finite");
    const auto t = pusht::action_to_target(action);
    return step_target(t[0], t[1]);
  }

  // step() with the target already in workspace pixels.
  StepResult step_target(double tx, double ty) {
    if (!std::isfinite(tx) || !std::isfinite(ty))
      throw ValueError("PushT::step_target: target is not finite");
    pusht::control_step(m_, d_, tx, ty);
    mj_kinematics(m_, d_);  // keep body poses current for rendering
    ++steps_;
    const double cov = coverage();
    return {pusht::reward_from_coverage(cov), pusht::success_from_coverage(cov),
            pusht::success_from_coverage(cov)};
  }

  Observation observe() const override {
    Observation o;
    std::vector<float> obs(20);
    const geom::Pose2 pose = block_pose();
    for (size_t k = 0; k < pusht::kKeypoints.size(); ++k) {
      const geom::Vec2 p = pose.apply(pusht::kKeypoints[k]);
      obs[2 * k] = static_cast<float>(p.x);
      obs[2 * k + 1] = static_cast<float>(p.y);
    }
    const geom::Vec2 a = agent_pos();
    obs[18] = static_cast<float>(a.x);
    obs[19] = static_cast<float>(a.y);
    o.low_dim["obs"] = std::move(obs);
    o.low_dim["agent_pos"] = {static_cast<float>(a.x), static_cast<float>(a.y)};
    std::vector<float> vertices(2 * pusht::kPolygonVertices.size());
    for (size_t k = 0; k < pusht::kPolygonVertices.size(); ++k) {
      const geom::Vec2 p = pose.apply(pusht::kPolygonVertices[k]);
      vertices[2 * k] = static_cast<float>(p.x);
      vertices[2 * k + 1] = static_cast<float>(p.y);
    }
    o.low_dim["environment_state"] = std::move(vertices);
    if (cfg_.images)
      o.images["image"] = const_cast<PushT*>(this)->render("top", cfg_.image_size, cfg_.image_size);
    return o;
  }

  bool is_success() const override { return pusht::success_from_coverage(coverage()); }
  std::vector<std::string> cameras() const override { return {"top"}; }

  // Top-down view of the whole workspace (throws UnsupportedError without OSMesa).
  std::vector<uint8_t> render(const std::string& camera, int width, int height) override {
    const int cam = mj_name2id(m_, mjOBJ_CAMERA, camera.c_str());
    if (cam < 0) throw ValueError("PushT::render: unknown camera '" + camera + "' (have: top)");
    if (!renderer_) renderer_ = make_renderer();
    return renderer_->render(m_, d_, cam, width, height);
  }
  int horizon() const override { return cfg_.horizon; }

  // --- Push-T specifics ---
  const PushTConfig& config() const { return cfg_; }
  geom::Pose2 block_pose() const { return pusht::block_pose(d_); }
  geom::Vec2 agent_pos() const { return pusht::agent_pos(d_); }
  geom::Vec2 agent_vel() const { return {d_->qvel[pusht::kAgentX], d_->qvel[pusht::kAgentY]}; }
  double coverage() const { return pusht::coverage(block_pose()); }
  int steps() const { return steps_; }
  const mjModel* model() const { return m_; }
  const mjData* data() const { return d_; }

 private:
  std::unique_ptr<OffscreenRenderer> make_renderer() const {
    auto r = std::make_unique<OffscreenRenderer>(m_);
    r->scene().flags[mjRND_SHADOW] = 0;
    r->scene().flags[mjRND_REFLECTION] = 0;
    r->scene().flags[mjRND_SKYBOX] = 0;
    return r;
  }

  PushTConfig cfg_;
  mjModel* m_ = nullptr;
  mjData* d_ = nullptr;
  std::unique_ptr<OffscreenRenderer> renderer_;
  int steps_ = 0;
};

}  // namespace mimic::env
