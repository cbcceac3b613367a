"""A fixture that pins mimic's Lift to robosuite's Lift.

    python make_lift_fixtures.py [--out tests/data/lift/robosuite_lift.hdf5] [--demos 4]
    python make_lift_fixtures.py --collision include/mimic/env/lift/panda_collision.hpp  (then clang-format it)

With robosuite 1.4.1, mujoco 2.3.7 and robomimic 0.3.0 from PyPI (numpy<2):
  1. a scripted pick (above the cube, down, close, lift) collects demos in robosuite's Lift with
     the OSC_POSE controller, written the way robosuite's own collection writes them (per demo:
     `model_file` attribute, `states` before each action, `actions`; `data` attributes env,
     env_info, repository_version);
  2. robomimic's own scripts turn that file into a dataset: conversion/convert_robosuite.py (env
     metadata, train/valid masks), then dataset_states_to_obs.py (observations, rewards, dones
     computed by robosuite from every stored state);
  3. robosuite's own open-loop replay of every demo is measured the way robomimic replays a demo:
     reset_to(model_file, first state), then each stored action; its per-step cube and gripper
     position errors from the stored states go into the fixture (`replay/demo_N/*`), so the C++
     test can hold mimic to no more drift than robosuite's.

robomimic's robosuite wrapper imports mujoco_py only for an exception type, so a stand-in package
is put on the path. The model XML names robosuite's mesh files by absolute path; mimic never
reads them (its Lift builds its own scene), the file keeps them as robosuite wrote them.

`--collision` writes the collision geometry mimic's scene takes from robosuite's Panda: the convex
hulls MuJoCo collides for the hand and the fingers (the parts that touch the cube), as vertices in
their body frames, and for each arm link the box MuJoCo bounds its collision hull with.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

os.environ.setdefault("MUJOCO_GL", "osmesa")


def stand_in_mujoco_py(folder):
    pkg = os.path.join(folder, "mujoco_py")
    os.makedirs(pkg, exist_ok=True)
    with open(os.path.join(pkg, "__init__.py"), "w") as f:
        f.write("from . import builder\n")
    with open(os.path.join(pkg, "builder.py"), "w") as f:
        f.write("class MujocoException(Exception):\n    pass\n")
    return folder


def controller_config():
    from robosuite import load_controller_config

    return load_controller_config(default_controller="OSC_POSE")


def make_env():
    import robosuite as suite

    return suite.make("Lift", robots="Panda", controller_configs=controller_config(),
                      has_renderer=False, has_offscreen_renderer=False, use_camera_obs=False,
                      ignore_done=True, reward_shaping=False, control_freq=20)


def scripted_action(obs, phase_steps, phase):
    """Proportional pick: returns (action, next phase)."""
    eef, cube = obs["robot0_eef_pos"], obs["cube_pos"]
    a = np.zeros(7)
    target = cube.copy()
    if phase == 0:  # above the cube, open
        target[2] += 0.08
        a[6] = -1
        if np.linalg.norm(target - eef) < 0.01:
            phase = 1
    elif phase == 1:  # down around it
        target[2] -= 0.005
        a[6] = -1
        if np.linalg.norm(target - eef) < 0.006:
            phase = 2
    elif phase == 2:  # close
        target[2] -= 0.005
        a[6] = 1
        if phase_steps >= 8:
            phase = 3
    else:  # lift
        target = eef.copy()
        target[2] = cube[2] + 0.12
        target[:2] = cube[:2]
        a[6] = 1
    a[:3] = np.clip((target - eef) / 0.05 * 1.5, -1, 1)
    return a, phase


def collect(n_demos, path):
    import robosuite

    env = make_env()
    with h5py.File(path, "w") as f:
        grp = f.create_group("data")
        for i in range(n_demos):
            np.random.seed(1000 + i)
            obs = env.reset()
            model_xml = env.sim.model.get_xml()
            states, actions = [], []
            phase, phase_steps = 0, 0
            for t in range(160):
                states.append(env.sim.get_state().flatten())
                a, new_phase = scripted_action(obs, phase_steps, phase)
                phase_steps = 0 if new_phase != phase else phase_steps + 1
                phase = new_phase
                actions.append(a)
                obs, _, _, _ = env.step(a)
                if env._check_success() and phase == 3 and phase_steps > 10:
                    break
            print(f"demo {i}: {len(actions)} steps, success {env._check_success()}")
            ep = grp.create_group(f"demo_{i + 1}")
            ep.attrs["model_file"] = model_xml
            ep.create_dataset("states", data=np.array(states))
            ep.create_dataset("actions", data=np.array(actions))
        grp.attrs["date"] = "2026-12-02"
        grp.attrs["time"] = "00:00:00"
        grp.attrs["repository_version"] = robosuite.__version__
        grp.attrs["env"] = "Lift"
        grp.attrs["env_info"] = json.dumps({"env_name": "Lift", "robots": "Panda",
                                            "controller_configs": controller_config()})
    env.close()


def robosuite_replay(dataset):
    """robomimic's replay: reset_to(model, first state) then open-loop actions."""
    import robomimic.utils.env_utils as EnvUtils
    import robomimic.utils.file_utils as FileUtils
    import robomimic.utils.obs_utils as ObsUtils

    ObsUtils.initialize_obs_utils_with_obs_specs(
        {"obs": {"low_dim": ["robot0_eef_pos", "object"], "rgb": []}})
    env_meta = FileUtils.get_env_metadata_from_dataset(dataset)
    env = EnvUtils.create_env_from_metadata(env_meta=env_meta, render=False,
                                            render_offscreen=False, use_image_obs=False)
    out = {}
    with h5py.File(dataset, "r") as f:
        for ep in sorted(f["data"], key=lambda s: int(s.split("_")[1])):
            states = f[f"data/{ep}/states"][()]
            actions = f[f"data/{ep}/actions"][()]
            env.reset()
            env.reset_to({"model": f[f"data/{ep}"].attrs["model_file"], "states": states[0]})
            sim = env.env.sim
            cube_err, eef_err = [], []
            ref = make_reference_sim(f[f"data/{ep}"].attrs["model_file"])
            for t in range(len(actions)):
                env.step(actions[t])
                if t + 1 < len(states):
                    # Positions from each state's own kinematics: after a step, robosuite's
                    # site_xpos still holds the last substep's, one physics step behind.
                    got_cube, got_eef = positions_of_state(ref, sim.get_state().flatten())
                    ref_cube, ref_eef = positions_of_state(ref, states[t + 1])
                    cube_err.append(np.linalg.norm(got_cube - ref_cube))
                    eef_err.append(np.linalg.norm(got_eef - ref_eef))
            out[ep] = (np.array(cube_err), np.array(eef_err))
            print(f"robosuite replay {ep}: cube max {max(cube_err) * 1000:.3f} mm, "
                  f"gripper max {max(eef_err) * 1000:.3f} mm")
    return out


def make_reference_sim(xml):
    import mujoco

    model = mujoco.MjModel.from_xml_string(xml)
    return model, mujoco.MjData(model)


def positions_of_state(ref, state):
    import mujoco

    model, data = ref
    data.time = state[0]
    data.qpos[:] = state[1:1 + model.nq]
    data.qvel[:] = state[1 + model.nq:1 + model.nq + model.nv]
    mujoco.mj_forward(model, data)
    cube = data.body("cube_main").xpos.copy()
    eef = data.site("gripper0_grip_site").xpos.copy()
    return cube, eef


def collision_header(path):
    import mujoco

    env = make_env()
    env.reset()
    m = env.sim.model._model
    lines = ["#pragma once",
             "// Written by tests/reference/make_lift_fixtures.py --collision from robosuite "
             "1.4.1's Lift (mujoco 2.3.7):",
             "// the collision geometry of its Panda that mimic's Lift scene uses. Do not edit.",
             "#include <array>", "", "namespace mimic::env::panda {", "",
             "// An oriented box in its body's frame: centre, quaternion (w x y z), half sizes.",
             "struct CollisionBox {", "  double pos[3], quat[4], half[3];", "};", ""]

    def body_frame_vertices(geom):
        g = m.geom(geom)
        mesh = g.dataid[0]
        adr, n = m.mesh_vertadr[mesh], m.mesh_vertnum[mesh]
        verts = m.mesh_vert[adr:adr + n].astype(np.float64)
        rot = np.zeros(9)
        mujoco.mju_quat2Mat(rot, g.quat)
        return verts @ rot.reshape(3, 3).T + g.pos

    for geom, name in [("gripper0_hand_collision", "kHandHull"),
                       ("gripper0_finger1_collision", "kLeftFingerHull"),
                       ("gripper0_finger2_collision", "kRightFingerHull")]:
        v = body_frame_vertices(geom)
        body = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_BODY, m.geom(geom).bodyid[0])
        lines.append(f"// {geom} ({len(v)} vertices, frame of {body})")
        lines.append(f"inline constexpr std::array<double, {3 * len(v)}> {name}{{")
        lines += ["    " + ", ".join(f"{c:.7g}" for c in row) + "," for row in v]
        lines.append("};")
    lines.append("// robot0_link0_collision .. robot0_link7_collision, each in its link's frame")
    lines.append("inline constexpr std::array<CollisionBox, 8> kLinkBoxes{{")
    for i in range(8):
        g = m.geom(f"robot0_link{i}_collision")
        rot = np.zeros(9)
        mujoco.mju_quat2Mat(rot, g.quat)
        centre = g.pos + rot.reshape(3, 3) @ m.geom_aabb[g.id][:3]
        fmt = lambda a: ", ".join(f"{c:.7g}" for c in a)
        lines.append(f"    {{{{{fmt(centre)}}}, {{{fmt(g.quat)}}}, {{{fmt(m.geom_aabb[g.id][3:])}}}}},")
    lines += ["}};", "", "}  // namespace mimic::env::panda", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    print("wrote", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/data/lift/robosuite_lift.hdf5")
    ap.add_argument("--demos", type=int, default=4)
    ap.add_argument("--collect-only", metavar="RAW", help=argparse.SUPPRESS)
    ap.add_argument("--collision", metavar="HEADER")
    args = ap.parse_args()
    if args.collision:
        collision_header(args.collision)
        return
    if args.collect_only:
        collect(args.demos, args.collect_only)
        return
    tmp = tempfile.mkdtemp()
    sys.path.insert(0, stand_in_mujoco_py(tmp))
    env = dict(os.environ, PYTHONPATH=tmp + os.pathsep + os.environ.get("PYTHONPATH", ""))
    raw = os.path.join(tmp, "demo.hdf5")
    # A robosuite env made in this process before robomimic's replay env crashes MuJoCo's
    # renderer set-up, so collection runs in a child process.
    subprocess.run([sys.executable, __file__, "--demos", str(args.demos), "--collect-only", raw],
                   check=True, env=env)

    import robomimic

    scripts = os.path.join(os.path.dirname(robomimic.__file__), "scripts")
    subprocess.run([sys.executable, os.path.join(scripts, "conversion", "convert_robosuite.py"),
                    "--dataset", raw], check=True, env=env)
    subprocess.run([sys.executable, os.path.join(scripts, "dataset_states_to_obs.py"),
                    "--dataset", raw, "--output_name", "low_dim.hdf5", "--done_mode", "2"],
                   check=True, env=env)
    low_dim = os.path.join(tmp, "low_dim.hdf5")
    replay = robosuite_replay(low_dim)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with h5py.File(low_dim, "r") as src, h5py.File(args.out, "w") as dst:
        src.copy("data", dst)
        if "mask" in src:
            src.copy("mask", dst)
        for ep, (cube_err, eef_err) in replay.items():
            g = dst.create_group(f"replay/{ep}")
            g.create_dataset("cube_error", data=cube_err)
            g.create_dataset("gripper_error", data=eef_err)
        dst.attrs["made_by"] = ("tests/reference/make_lift_fixtures.py: robosuite "
                                f"{__import__('robosuite').__version__}, mujoco "
                                f"{__import__('mujoco').__version__}, robomimic "
                                f"{robomimic.__version__}")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
