#pragma once
// The Franka Panda's kinematic constants and the Lift scene (table, cube, arm, parallel gripper,
// cameras) as an MJCF string. The arm's bodies are placed frame by frame from the published
// modified (Craig) DH table, so that the flange pose in MuJoCo equals the DH forward kinematics.
#include <array>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>

namespace mimic::env::panda {

// One row of the modified DH convention: T_i = RotX(alpha) TransX(a) RotZ(q_i) TransZ(d).
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

// Published joint position limits (rad) and torque limits (N m).
inline constexpr std::array<double, 7> kJointLower{-2.8973, -1.7628, -2.8973, -3.0718,
                                                   -2.8973, -0.0175, -2.8973};
inline constexpr std::array<double, 7> kJointUpper{2.8973, 1.7628, 2.8973, -0.0698,
                                                   2.8973, 3.7525, 2.8973};
inline constexpr std::array<double, 7> kTorqueLimit{87, 87, 87, 87, 12, 12, 12};
// robosuite's Panda rest pose: gripper pointing down, about 0.18 m above the table.
inline constexpr std::array<double, 7> kHomeQpos{0.0, kPi / 16,  0.0,    -kPi / 2 - kPi / 3,
                                                 0.0, kPi - 0.2, kPi / 4};
// Link masses (kg) from the published dynamic identification, rounded.
inline constexpr std::array<double, 7> kLinkMass{4.97, 0.646, 3.23, 3.59, 1.23, 1.67, 0.74};

// Hand: rotated -45 degrees about the flange z; fingers start 0.0584 m down the hand, and the
// tool centre point between the finger pads (robosuite's grip site) sits 0.1034 m from the flange.
inline constexpr double kHandYaw = -kPi / 4;
inline constexpr double kFingerBase = 0.0584;
inline constexpr double kTcpOffset = 0.1034;
inline constexpr double kFingerRange = 0.04;  // each finger slides 0 (closed) .. 0.04 (open)
inline constexpr double kHandMass = 0.73, kFingerMass = 0.05;

// Scene: table top at 0.8 m (robosuite's table_offset), 0.8 x 0.8 table, the arm's base beside
// it at robosuite's (-0.16 - 0.4, 0, 0.912), a 4 cm cube.
inline constexpr double kTableTop = 0.8, kTableHalf = 0.4, kTableThick = 0.025;
inline constexpr std::array<double, 3> kBasePos{-0.56, 0.0, 0.912};
inline constexpr double kCubeHalf = 0.02, kCubeDensity = 1000;

namespace detail {

inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", std::abs(v) < 1e-12 ? 0.0 : v);
  return buf;
}
inline std::string vec3(double x, double y, double z) {
  return num(x) + " " + num(y) + " " + num(z);
}
// Body frame i relative to frame i-1 at q = 0: RotX(alpha) TransX(a) TransZ(d).
inline std::string dh_pos(const DhRow& r) {
  return vec3(r.a, -r.d * std::sin(r.alpha), r.d * std::cos(r.alpha));
}
inline std::string dh_quat(const DhRow& r) {
  return num(std::cos(r.alpha / 2)) + " " + num(std::sin(r.alpha / 2)) + " 0 0";
}
// A visual capsule that carries mass (arm links do not collide; hand and fingers do).
inline std::string capsule(const std::string& from, const std::string& to, double radius,
                           double mass) {
  return "<geom type=\"capsule\" class=\"link\" fromto=\"" + from + " " + to + "\" size=\"" +
         num(radius) + "\" mass=\"" + num(mass) + "\"/>\n";
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

}  // namespace detail

// The whole Lift scene. Names used by the environment: joints joint1..joint7, finger_left,
// finger_right, cube_joint; sites flange, grip_site; bodies cube, hand; cameras agentview,
// robot0_eye_in_hand; actuators torque1..torque7, finger_left, finger_right.
inline std::string lift_mjcf() {
  using detail::capsule;
  using detail::num;
  // Capsules from each joint toward the next one; the elbow and wrist offsets of the real arm
  // appear as short side capsules. Coordinates are in each link's own DH frame.
  const std::array<std::string, 7> link_geoms{
      capsule("0 0 -0.2", "0 0 0", 0.065, kLinkMass[0]),
      capsule("0 0 -0.06", "0 0 0.06", 0.06, kLinkMass[1] * 0.4) +
          capsule("0 0 0", "0 -0.15 0", 0.055, kLinkMass[1] * 0.6),
      capsule("0 0 -0.16", "0 0 0", 0.055, kLinkMass[2] * 0.7) +
          capsule("0 0 0", "0.0825 0 0", 0.055, kLinkMass[2] * 0.3),
      capsule("0 0 -0.06", "0 0 0.06", 0.055, kLinkMass[3] * 0.4) +
          capsule("0 0 0", "-0.0825 0.124 0", 0.055, kLinkMass[3] * 0.6),
      capsule("0 0 -0.26", "0 0 0", 0.045, kLinkMass[4]),
      capsule("0 0 -0.05", "0 0 0.04", 0.05, kLinkMass[5] * 0.6) +
          capsule("0 0 0", "0.088 0 0", 0.045, kLinkMass[5] * 0.4),
      capsule("0 0 -0.03", "0 0 0.07", 0.04, kLinkMass[6])};

  // Hand at the flange, turned -45 degrees; two slide fingers whose pads meet at y = 0 when both
  // joints read 0; robosuite's wrist camera looks down the approach axis.
  const std::string hand = detail::substitute(
      R"(
<site name="flange" pos="0 0 ${flange}" size="0.005" rgba="0 0 1 0"/>
<body name="hand" pos="0 0 ${flange}" quat="${hand_quat}">
  <geom name="hand" type="box" class="grip" pos="0 0 0.03" size="0.025 0.095 0.026"
        mass="${hand_mass}" rgba="0.9 0.9 0.9 1"/>
  <site name="grip_site" pos="0 0 ${tcp}" size="0.004" rgba="1 0 0 0"/>
  <camera name="robot0_eye_in_hand" pos="0.05 0 0" quat="0 0.707107 0.707107 0" fovy="75"/>
  <body name="finger_left" pos="0 0 ${finger_base}">
    <joint name="finger_left" class="finger" axis="0 1 0"/>
    <geom name="pad_left" type="box" class="pad" pos="0 0.007 0.027" size="0.011 0.007 0.027"
          mass="${finger_mass}"/>
  </body>
  <body name="finger_right" pos="0 0 ${finger_base}">
    <joint name="finger_right" class="finger" axis="0 -1 0"/>
    <geom name="pad_right" type="box" class="pad" pos="0 -0.007 0.027" size="0.011 0.007 0.027"
          mass="${finger_mass}"/>
  </body>
</body>
)",
      {{"flange", num(kFlangeD)},
       {"hand_quat", num(std::cos(kHandYaw / 2)) + " 0 0 " + num(std::sin(kHandYaw / 2))},
       {"hand_mass", num(kHandMass)},
       {"tcp", num(kTcpOffset)},
       {"finger_base", num(kFingerBase)},
       {"finger_mass", num(kFingerMass)}});

  std::string arm, actuators;
  for (int i = 0; i < 7; ++i) {
    const std::string n = std::to_string(i + 1);
    arm += "<body name=\"link" + n + "\" pos=\"" + detail::dh_pos(kDh[i]) + "\" quat=\"" +
           detail::dh_quat(kDh[i]) + "\">\n<joint name=\"joint" + n + "\" class=\"arm\" range=\"" +
           num(kJointLower[i]) + " " + num(kJointUpper[i]) + "\"/>\n" + link_geoms[i];
    actuators += "<motor name=\"torque" + n + "\" joint=\"joint" + n +
                 "\" ctrllimited=\"true\" ctrlrange=\"" + num(-kTorqueLimit[i]) + " " +
                 num(kTorqueLimit[i]) + "\"/>\n";
  }
  arm += hand;
  for (int i = 0; i < 7; ++i) arm += "</body>\n";  // link7 .. link1

  const double table_z = kTableTop - kTableThick;  // centre of the table slab
  const double leg_h = table_z - kTableThick;      // floor to the slab's underside
  std::string legs;
  for (int sx : {-1, 1})
    for (int sy : {-1, 1})
      legs += "<geom type=\"cylinder\" class=\"visual\" pos=\"" +
              detail::vec3(sx * (kTableHalf - 0.05), sy * (kTableHalf - 0.05),
                           -kTableThick - leg_h / 2) +
              "\" size=\"0.025 " + num(leg_h / 2) + "\" rgba=\"0.4 0.3 0.2 1\"/>\n";

  // Euler integrates joint damping implicitly: 500 Hz physics under 20 Hz control. Elliptic
  // friction cones with impratio 10 and stiff finger pads keep a squeezed cube from creeping.
  return detail::substitute(R"(<mujoco model="lift">
<compiler angle="radian" inertiafromgeom="true"/>
<option timestep="0.002" integrator="Euler" cone="elliptic" impratio="10"/>
<size njmax="500" nconmax="100"/>
<visual><global offwidth="640" offheight="480"/><quality shadowsize="2048"/></visual>
<asset>
  <texture name="floor" type="2d" builtin="checker" rgb1="0.25 0.27 0.3" rgb2="0.3 0.32 0.35"
           width="256" height="256"/>
  <material name="floor" texture="floor" texrepeat="6 6"/>
</asset>
<default>
  <default class="link">
    <geom contype="0" conaffinity="0" group="1" rgba="0.95 0.95 0.95 1"/>
  </default>
  <default class="visual"><geom contype="0" conaffinity="0" group="1" mass="0"/></default>
  <default class="grip">
    <geom contype="1" conaffinity="1" condim="4" friction="1 0.005 0.0001"/>
  </default>
  <default class="pad">
    <geom contype="1" conaffinity="1" condim="4" friction="1.5 0.01 0.0001" solref="0.005 1"
          solimp="0.95 0.99 0.001" rgba="0.3 0.3 0.3 1"/>
  </default>
  <default class="arm">
    <joint type="hinge" axis="0 0 1" limited="true" damping="0.1" armature="0.1"/>
  </default>
  <default class="finger">
    <joint type="slide" limited="true" range="0 ${finger_range}" damping="50" armature="0.1"/>
  </default>
</default>
<worldbody>
  <light name="top" directional="true" pos="0 0 3" dir="0 0 -1" diffuse="0.7 0.7 0.7"/>
  <light name="front" pos="1 -1 2.5" dir="-0.4 0.4 -1" diffuse="0.3 0.3 0.3"/>
  <geom name="floor" type="plane" size="3 3 0.1" material="floor"/>
  <body name="table" pos="0 0 ${table_z}">
    <geom name="table" type="box" size="${table_size}" friction="1 0.005 0.0001"
          rgba="0.75 0.62 0.45 1"/>
${legs}  </body>
  <camera name="agentview" pos="0.5 0 1.35" xyaxes="0 1 0 -0.7071 0 0.7071" fovy="45"/>
  <geom name="mount" type="cylinder" class="visual" pos="${mount_pos}" size="0.09 ${mount_half}"
        rgba="0.2 0.2 0.2 1"/>
  <body name="link0" pos="${base}">
${base_geom}${arm}  </body>
  <body name="cube" pos="0 0 ${cube_z}">
    <freejoint name="cube_joint"/>
    <geom name="cube" type="box" size="${cube_size}" density="${cube_density}"
          friction="1 0.005 0.0001" condim="4" rgba="0.85 0.12 0.1 1"/>
  </body>
</worldbody>
<contact><exclude body1="finger_left" body2="finger_right"/></contact>
<actuator>
${actuators}  <position name="finger_left" joint="finger_left" kp="1000" ctrllimited="true"
            ctrlrange="0 ${finger_range}" forcelimited="true" forcerange="-20 20"/>
  <position name="finger_right" joint="finger_right" kp="1000" ctrllimited="true"
            ctrlrange="0 ${finger_range}" forcelimited="true" forcerange="-20 20"/>
</actuator>
</mujoco>
)",
                            {{"finger_range", num(kFingerRange)},
                             {"table_z", num(table_z)},
                             {"table_size", detail::vec3(kTableHalf, kTableHalf, kTableThick)},
                             {"legs", legs},
                             {"mount_pos", detail::vec3(kBasePos[0], kBasePos[1], kBasePos[2] / 2)},
                             {"mount_half", num(kBasePos[2] / 2)},
                             {"base", detail::vec3(kBasePos[0], kBasePos[1], kBasePos[2])},
                             {"base_geom", capsule("0 0 0.03", "0 0 0.14", 0.07, 2.9)},
                             {"arm", arm},
                             {"cube_z", num(kTableTop + kCubeHalf)},
                             {"cube_size", detail::vec3(kCubeHalf, kCubeHalf, kCubeHalf)},
                             {"cube_density", num(kCubeDensity)},
                             {"actuators", actuators}});
}

}  // namespace mimic::env::panda
