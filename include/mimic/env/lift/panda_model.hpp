#pragma once
// The Lift scene as robosuite 1.4.1 builds it (its Panda on a Rethink mount, the panda gripper,
// the 0.8 x 0.8 table with its top at 0.8 m, a box cube), as an MJCF string. Everything that
// moves the simulation is robosuite's: body frames, inertials, joint armature / damping /
// friction loss, actuators, contact parameters, options. Collision geometry is robosuite's hulls
// for the hand and fingers (panda_collision.hpp) and the box MuJoCo bounds each link's hull with;
// only the visual meshes are replaced by capsules. The link boxes are larger than the hulls, so
// they collide with the world (table, floor, cube: contype bit 2 in their conaffinity) and not
// with the arm itself, where neighbouring boxes overlap.
#include <array>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>

#include "mimic/env/lift/panda_collision.hpp"

namespace mimic::env::panda {

// The published modified (Craig) DH table: T_i = RotX(alpha) TransX(a) RotZ(q_i) TransZ(d). The
// scene's link frames are robosuite's; tests check that they follow this table.
struct DhRow {
  double a, d, alpha;
};
inline constexpr double kPi = 3.14159265358979323846;
inline constexpr std::array<DhRow, 7> kDh{{{0.0, 0.333, 0.0},
                                           {0.0, 0.0, -kPi / 2},
                                           {0.0, 0.316, kPi / 2},
                                           {0.0825, 0.0, kPi / 2},
                                           {-0.0825, 0.384, -kPi / 2},
                                           {0.0, 0.0, kPi / 2},
                                           {0.088, 0.0, kPi / 2}}};
inline constexpr double kFlangeD = 0.107;  // flange: a 0, d 0.107, alpha 0

inline constexpr std::array<double, 7> kJointLower{-2.8973, -1.7628, -2.8973, -3.0718,
                                                   -2.8973, -0.0175, -2.8973};
inline constexpr std::array<double, 7> kJointUpper{2.8973, 1.7628, 2.8973, -0.0698,
                                                   2.8973, 3.7525, 2.8973};
// robosuite's actuator ctrlrange for the arm (N m).
inline constexpr std::array<double, 7> kTorqueLimit{80, 80, 80, 80, 80, 12, 12};
// robosuite's Panda init_qpos: gripper pointing down, about 0.18 m above the table.
inline constexpr std::array<double, 7> kHomeQpos{0.0, kPi / 16,  0.0,    -kPi / 2 - kPi / 3,
                                                 0.0, kPi - 0.2, kPi / 4};
// The panda gripper: finger_joint1 slides 0 (closed) .. 0.04, finger_joint2 -0.04 .. 0; its
// init_qpos is half open.
inline constexpr double kFingerRange = 0.04;
inline constexpr std::array<double, 2> kGripperInitQpos{0.020833, -0.020833};

// Table top at robosuite's table_offset z; the cube's half sizes are drawn per reset from
// [0.020, 0.022] (robosuite's size_min / size_max), density 1000.
inline constexpr double kTableTop = 0.8, kTableHalf = 0.4, kTableThick = 0.025;
inline constexpr double kCubeHalfMin = 0.020, kCubeHalfMax = 0.022, kCubeDensity = 1000;

namespace detail {

inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", std::abs(v) < 1e-12 ? 0.0 : v);
  return buf;
}
// 17 significant digits, which read back as the same double: the cube's drawn size, which a
// replay from the model_file must reproduce to the bit.
inline std::string exact_nums(const std::array<double, 3>& v) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "%.17g %.17g %.17g", v[0], v[1], v[2]);
  return buf;
}
template <size_t N>
std::string nums(const double (&v)[N]) {
  std::string s;
  for (size_t i = 0; i < N; ++i) s += (i ? " " : "") + num(v[i]);
  return s;
}
template <size_t N>
std::string nums(const std::array<double, N>& v) {
  std::string s;
  for (size_t i = 0; i < N; ++i) s += (i ? " " : "") + num(v[i]);
  return s;
}
// Replaces each ${key} in `text` by its value.
inline std::string substitute(std::string text,
                              std::initializer_list<std::pair<const char*, std::string>> values) {
  for (const auto& [key, value] : values) {
    const std::string tag = std::string("${") + key + "}";
    for (size_t at = text.find(tag); at != std::string::npos;
         at = text.find(tag, at + value.size()))
      text.replace(at, tag.size(), value);
  }
  return text;
}

// One arm link as robosuite defines it: frame, inertial, joint (armature, damping).
struct Link {
  const char* pos;
  const char* quat;
  const char* inertial;  // pos mass diaginertia
  double armature, damping;
  const char* capsule;  // visual stand-in for the link's mesh: fromto, radius
};
inline constexpr std::array<Link, 7> kLinks{{
    {"0 0 0.333", "1 0 0 0", R"(pos="0 0 -0.07" mass="3" diaginertia="0.3 0.3 0.3")", 5.0, 0.1,
     R"(fromto="0 0 -0.19 0 0 0" size="0.06")"},
    {"0 0 0", "0.707107 -0.707107 0 0", R"(pos="0 -0.1 0" mass="3" diaginertia="0.3 0.3 0.3")", 2.5,
     0.1, R"(fromto="0 0 0 0 -0.2 0" size="0.06")"},
    {"0 -0.316 0", "0.707107 0.707107 0 0",
     R"(pos="0.04 0 -0.05" mass="2" diaginertia="0.2 0.2 0.2")", 1.66667, 0.1,
     R"(fromto="0 0 -0.12 0.0825 0 0" size="0.055")"},
    {"0.0825 0 0", "0.707107 0.707107 0 0",
     R"(pos="-0.04 0.05 0" mass="2" diaginertia="0.2 0.2 0.2")", 1.25, 0.1,
     R"(fromto="0 0 0 -0.0825 0.1 0" size="0.055")"},
    {"-0.0825 0.384 0", "0.707107 -0.707107 0 0",
     R"(pos="0 0 -0.15" mass="2" diaginertia="0.2 0.2 0.2")", 1.0, 0.1,
     R"(fromto="0 0 -0.25 0 0 0" size="0.05")"},
    {"0 0 0", "0.707107 0.707107 0 0", R"(pos="0.06 0 0" mass="1.5" diaginertia="0.1 0.1 0.1")",
     0.833333, 0.01, R"(fromto="0 0 -0.04 0.088 0 0" size="0.045")"},
    {"0.088 0 0", "0.707107 0.707107 0 0",
     R"(pos="0 0 0.08" mass="0.5" diaginertia="0.05 0.05 0.05")", 0.714286, 0.01,
     R"(fromto="0 0 -0.02 0 0 0.09" size="0.04")"},
}};

// robosuite names its visual meshes robot0_g0_vis .. robot0_g49_vis, link by link, and looks each
// one up when it loads a model file: link i's capsule takes the first of its names, the rest mark
// robosuite's further meshes as invisible points.
inline constexpr std::array<int, 9> kFirstVisual{0, 12, 13, 14, 18, 22, 25, 42, 50};
inline std::string visual_names(int link, const std::string& capsule) {
  std::string out = "<geom name=\"robot0_g" + std::to_string(kFirstVisual[link]) +
                    "_vis\" type=\"capsule\" class=\"link\" " + capsule + "/>\n";
  for (int g = kFirstVisual[link] + 1; g < kFirstVisual[link + 1]; ++g)
    out += "<geom name=\"robot0_g" + std::to_string(g) + "_vis\" class=\"marker\"/>\n";
  return out;
}

template <size_t N>
std::string hull_vertices(const std::array<double, N>& v) {
  return nums(v);
}

inline std::string collision_box(int link) {
  const CollisionBox& b = kLinkBoxes[link];
  return "<geom name=\"robot0_link" + std::to_string(link) +
         "_collision\" type=\"box\" class=\"collision\" pos=\"" + nums(b.pos) + "\" quat=\"" +
         nums(b.quat) + "\" size=\"" + nums(b.half) + "\"/>\n";
}

}  // namespace detail

// The whole Lift scene with the cube's half sizes `cube_half`. Names are robosuite's:
// robot0_joint1..7, gripper0_finger_joint1/2, cube_joint0; bodies robot0_right_hand, cube_main;
// sites gripper0_grip_site (the end effector); actuators robot0_torq_j1..7,
// gripper0_gripper_finger_joint1/2; cameras agentview, robot0_eye_in_hand and robosuite's others.
// mimic adds a site `robot0_flange` at the DH flange, which changes no dynamics. The force-torque
// sensors and sites robosuite looks up are there too, so robosuite can load this scene from a
// dataset's model_file.
inline std::string lift_mjcf(const std::array<double, 3>& cube_half = {0.021, 0.021, 0.021}) {
  using detail::num;
  std::string arm, actuators;
  for (int i = 0; i < 7; ++i) {
    const auto& l = detail::kLinks[i];
    const std::string n = std::to_string(i + 1);
    arm += "<body name=\"robot0_link" + n + "\" pos=\"" + l.pos + "\" quat=\"" + l.quat +
           "\">\n<inertial " + l.inertial + "/>\n<joint name=\"robot0_joint" + n +
           "\" axis=\"0 0 1\" range=\"" + num(kJointLower[i]) + " " + num(kJointUpper[i]) +
           "\" armature=\"" + num(l.armature) + "\" damping=\"" + num(l.damping) +
           "\" frictionloss=\"0.1\"/>\n" + detail::visual_names(i + 1, l.capsule) +
           detail::collision_box(i + 1);
    actuators += "<general name=\"robot0_torq_j" + n + "\" joint=\"robot0_joint" + n +
                 "\" ctrlrange=\"" + num(-kTorqueLimit[i]) + " " + num(kTorqueLimit[i]) + "\"/>\n";
  }
  arm += detail::substitute(
      R"(<site name="robot0_flange" pos="0 0 ${flange}" size="0.005" rgba="0 0 1 0"/>
<body name="robot0_right_hand" pos="0 0 0.1065" quat="0.923785 0 0 -0.382911">
  <inertial pos="0 0 0" mass="0.5" diaginertia="0.05 0.05 0.05"/>
  <camera name="robot0_eye_in_hand" pos="0.05 0 0" quat="0 0.707107 0.707107 0" fovy="75"/>
  <body name="gripper0_right_gripper" quat="0.707107 0 0 -0.707107">
    <inertial pos="0 0 0.17" quat="0.707107 0.707107 0 0" mass="0.3" diaginertia="0.09 0.07 0.05"/>
    <geom name="gripper0_hand_collision" type="mesh" mesh="gripper0_hand" rgba="0.9 0.9 0.9 1"/>
    <geom name="gripper0_hand_visual" class="marker"/>
    <site name="gripper0_ft_frame" pos="0 0 0" size="0.01" rgba="1 0 0 0"/>
    <body name="gripper0_eef" pos="0 0 0.097">
      <site name="gripper0_grip_site" pos="0 0 0" size="0.01" rgba="1 0 0 0"/>
      <site name="gripper0_grip_site_cylinder" type="cylinder" pos="0 0 0" size="0.005 10"
            rgba="0 1 0 0"/>
      <site name="gripper0_ee_x" pos="0.1 0 0" quat="0.707105 0 0.707108 0" size="0.005 0.1"
            type="cylinder" rgba="1 0 0 0"/>
      <site name="gripper0_ee_y" pos="0 0.1 0" quat="0.707105 0.707108 0 0" size="0.005 0.1"
            type="cylinder" rgba="0 1 0 0"/>
      <site name="gripper0_ee_z" pos="0 0 0.1" size="0.005 0.1" type="cylinder" rgba="0 0 1 0"/>
    </body>
    <body name="gripper0_leftfinger" pos="0 0 0.0524" quat="0.707107 0 0 0.707107">
      <inertial pos="0 0 0.05" mass="0.1" diaginertia="0.01 0.01 0.005"/>
      <joint name="gripper0_finger_joint1" axis="0 1 0" type="slide" range="0 0.04" armature="1"
             damping="100" frictionloss="1"/>
      <geom name="gripper0_finger1_collision" type="mesh" mesh="gripper0_finger1" contype="0"
            condim="4" rgba="0.5 0.5 0.5 1"/>
      <geom name="gripper0_finger1_visual" class="marker"/>
      <body name="gripper0_finger_joint1_tip" pos="0 0.0085 0.056">
        <inertial pos="0 0 0" quat="0 0 0 1" mass="0.01" diaginertia="0.01 0.01 0.01"/>
        <geom name="gripper0_finger1_pad_collision" class="pad" pos="0 -0.005 -0.015"/>
      </body>
    </body>
    <body name="gripper0_rightfinger" pos="0 0 0.0524" quat="0.707107 0 0 0.707107">
      <inertial pos="0 0 0.05" mass="0.1" diaginertia="0.01 0.01 0.005"/>
      <joint name="gripper0_finger_joint2" axis="0 1 0" type="slide" range="-0.04 0" armature="1"
             damping="100" frictionloss="1"/>
      <geom name="gripper0_finger2_collision" type="mesh" mesh="gripper0_finger2" contype="0"
            condim="4" rgba="0.5 0.5 0.5 1"/>
      <geom name="gripper0_finger2_visual" class="marker"/>
      <body name="gripper0_finger_joint2_tip" pos="0 -0.0085 0.056">
        <inertial pos="0 0 0" quat="0 0 0 1" mass="0.01" diaginertia="0.01 0.01 0.01"/>
        <geom name="gripper0_finger2_pad_collision" class="pad" pos="0 0.005 -0.015"/>
      </body>
    </body>
  </body>
</body>
)",
      {{"flange", num(kFlangeD)}});
  for (int i = 0; i < 7; ++i) arm += "</body>\n";  // link7 .. link1

  // The cube's mass and inertia follow from its geom (density 1000), as in robosuite.
  return detail::substitute(
      R"(<mujoco model="lift">
<compiler angle="radian" autolimits="true"/>
<option timestep="0.002" impratio="20" density="1.2" viscosity="2e-05" cone="elliptic"/>
<size njmax="5000" nconmax="5000"/>
<visual><global offwidth="640" offheight="480"/><map znear="0.001"/><quality shadowsize="2048"/></visual>
<asset>
  <texture name="floor" type="2d" builtin="checker" rgb1="0.25 0.27 0.3" rgb2="0.3 0.32 0.35"
           width="256" height="256"/>
  <material name="floor" texture="floor" texrepeat="6 6"/>
  <mesh name="gripper0_hand" vertex="${hand}"/>
  <mesh name="gripper0_finger1" vertex="${finger1}"/>
  <mesh name="gripper0_finger2" vertex="${finger2}"/>
</asset>
<default>
  <default class="link"><geom contype="0" conaffinity="0" group="1" rgba="0.95 0.95 0.95 1"/></default>
  <default class="collision"><geom contype="2" conaffinity="0" group="3" rgba="0 0.5 0 1"/></default>
  <default class="world"><geom contype="1" conaffinity="3"/></default>
  <default class="wall"><geom type="box" contype="0" conaffinity="0" group="1" rgba="0.8 0.8 0.78 1"/></default>
  <default class="visual"><geom contype="0" conaffinity="0" group="1" mass="0"/></default>
  <default class="marker">
    <geom type="sphere" size="0.001" contype="0" conaffinity="0" group="1" mass="0" rgba="0 0 0 0"/>
  </default>
  <default class="pad">
    <geom type="box" size="0.008 0.004 0.008" quat="0 0 0 1" friction="2 0.05 0.0001"
          solref="0.01 0.5" rgba="0.3 0.3 0.3 1"/>
  </default>
</default>
<worldbody>
  <geom name="floor" class="world" type="plane" size="3 3 0.125" material="floor"/>
  <camera name="frontview" pos="1.6 0 1.45" quat="0.560842 0.430646 0.430646 0.560842"/>
  <camera name="birdview" pos="-0.2 0 3" quat="0.707107 0 0 0.707107"/>
  <camera name="agentview" pos="0.5 0 1.35" quat="0.653098 0.271041 0.271041 0.653098"/>
  <camera name="sideview" pos="-0.0565177 1.27612 1.48796"
          quat="0.00990507 0.00687796 0.591223 0.806418"/>
  <light pos="1 1 1.5" dir="-0.19245 -0.19245 -0.96225" directional="true" castshadow="false"/>
  <light name="top" directional="true" pos="0 0 3" dir="0 0 -1" diffuse="0.4 0.4 0.4"/>
  <geom name="wall_leftcorner_visual" class="wall" size="1.06 1.5 0.01" pos="-1.25 2.25 1.5"
        quat="0.653281 0.653281 0.270598 0.270598"/>
  <geom name="wall_rightcorner_visual" class="wall" size="1.06 1.5 0.01" pos="-1.25 -2.25 1.5"
        quat="0.653281 0.653281 -0.270598 -0.270598"/>
  <geom name="wall_left_visual" class="wall" size="1.75 1.5 0.01" pos="1.25 3 1.5"
        quat="0.707107 0.707107 0 0"/>
  <geom name="wall_right_visual" class="wall" size="1.75 1.5 0.01" pos="1.25 -3 1.5"
        quat="0.707107 -0.707107 0 0"/>
  <geom name="wall_rear_visual" class="wall" size="1.5 1.5 0.01" pos="-2 0 1.5" quat="0.5 0.5 0.5 0.5"/>
  <geom name="wall_front_visual" class="wall" size="3 1.5 0.01" pos="3 0 1.5" quat="0.5 0.5 -0.5 -0.5"/>
  <body name="table" pos="0 0 0.775">
    <geom name="table_collision" class="world" type="box" size="0.4 0.4 0.025" group="3"/>
    <geom name="table_visual" class="visual" type="box" size="0.4 0.4 0.025" rgba="0.75 0.62 0.45 1"/>
    <geom name="table_leg1_visual" class="visual" type="cylinder" size="0.025 0.3875" pos="0.3 0.3 -0.3875" rgba="0.4 0.4 0.4 1"/>
    <geom name="table_leg2_visual" class="visual" type="cylinder" size="0.025 0.3875" pos="-0.3 0.3 -0.3875" rgba="0.4 0.4 0.4 1"/>
    <geom name="table_leg3_visual" class="visual" type="cylinder" size="0.025 0.3875" pos="-0.3 -0.3 -0.3875" rgba="0.4 0.4 0.4 1"/>
    <geom name="table_leg4_visual" class="visual" type="cylinder" size="0.025 0.3875" pos="0.3 -0.3 -0.3875" rgba="0.4 0.4 0.4 1"/>
    <site name="table_top" pos="0 0 0.025" size="0.001" rgba="0 0 0 0"/>
  </body>
  <body name="robot0_base" pos="-0.56 0 0.912">
    <camera name="robot0_robotview" pos="1 0 0.4" quat="0.653098 0.271041 0.271041 0.653098"/>
    <body name="robot0_link0">
      <inertial pos="0 0 0.05" mass="4" diaginertia="0.4 0.4 0.4"/>
      ${link0_visual}${link0_collision}${arm}    </body>
    <body name="mount0_base" pos="0 0 0.01">
      <body name="mount0_controller_box">
        <inertial pos="-0.325 0 -0.38" mass="46.64" diaginertia="1.71363 1.27988 0.809981"/>
        <geom name="mount0_controller_box_col" class="world" size="0.11 0.2 0.265"
              pos="-0.325 0 -0.38" type="box" rgba="0.2 0.2 0.2 1"/>
      </body>
      <body name="mount0_pedestal_feet">
        <inertial pos="-0.1225 0 -0.758" mass="167.09" diaginertia="8.16095 9.59375 15.0785"/>
        <geom name="mount0_pedestal_feet_col" class="world" size="0.385 0.35 0.155"
              pos="-0.1225 0 -0.758" type="box" rgba="0.2 0.2 0.2 1"/>
      </body>
      <body name="mount0_torso">
        <inertial pos="0 0 0" mass="0.0001" diaginertia="1e-08 1e-08 1e-08"/>
        <geom name="mount0_torso_vis" class="visual" size="0.05 0.05 0.05" pos="0 0 -0.05"
              type="box" rgba="0.2 0.2 0.2 1"/>
      </body>
      <body name="mount0_pedestal">
        <inertial pos="0 0 0" quat="0.659267 -0.259505 -0.260945 0.655692" mass="60.864"
                  diaginertia="6.0869 5.81635 4.20915"/>
        <geom name="mount0_pedestal_vis" class="visual" type="cylinder" pos="-0.02 0 -0.29"
              size="0.18 0.31" rgba="0.2 0.2 0.2 1"/>
        <geom name="mount0_pedestal_col" class="world" size="0.18 0.31" pos="-0.02 0 -0.29"
              type="cylinder" group="3"/>
      </body>
    </body>
  </body>
  <body name="cube_main">
    <joint name="cube_joint0" type="free"/>
    <geom name="cube_g0" class="world" type="box" size="${cube_size}" density="${cube_density}"
          group="3"/>
    <geom name="cube_g0_vis" class="visual" type="box" size="${cube_size}" rgba="0.85 0.12 0.1 1"/>
    <site name="cube_default_site" pos="0 0 0" size="0.002" rgba="1 0 0 0"/>
  </body>
</worldbody>
<actuator>
${actuators}  <general name="gripper0_gripper_finger_joint1" joint="gripper0_finger_joint1"
           ctrlrange="0 0.04" forcerange="-20 20" biastype="affine" gainprm="1000"
           biasprm="0 -1000 0"/>
  <general name="gripper0_gripper_finger_joint2" joint="gripper0_finger_joint2"
           ctrlrange="-0.04 0" forcerange="-20 20" biastype="affine" gainprm="1000"
           biasprm="0 -1000 0"/>
</actuator>
<sensor>
  <force name="gripper0_force_ee" site="gripper0_ft_frame"/>
  <torque name="gripper0_torque_ee" site="gripper0_ft_frame"/>
</sensor>
</mujoco>
)",
      {{"hand", detail::hull_vertices(kHandHull)},
       {"finger1", detail::hull_vertices(kLeftFingerHull)},
       {"finger2", detail::hull_vertices(kRightFingerHull)},
       {"link0_visual", detail::visual_names(0, R"(fromto="0 0 0 0 0 0.14" size="0.07")")},
       {"link0_collision", detail::collision_box(0)},
       {"arm", arm},
       {"cube_size", detail::exact_nums(cube_half)},
       {"cube_density", num(kCubeDensity)},
       {"actuators", actuators}});
}

}  // namespace mimic::env::panda
