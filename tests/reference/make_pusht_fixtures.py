"""Fixtures that pin mimic's Push-T to Diffusion Policy's definition of the task.

    python make_pusht_fixtures.py definition [--out tests/data/pusht/dp_definition.json]
    python make_pusht_fixtures.py replay --mimic build/tools/mimic [--out tests/data/pusht/pymunk_replay.h5]

`definition` writes, from the real packages (numpy, pygame, pymunk, gym-pusht from PyPI):
  - numpy.random.RandomState draws (randint, random_sample, randn, uniform) for several seeds,
    which mimic's NumpyRandomState must reproduce exactly;
  - the 9 block keypoints of Diffusion Policy's low-dim observation, derived as DP derives them:
    the T drawn by pymunk's debug draw through DP's pygame DrawOptions (gym-pusht ships the same
    drawing code) on a white 512 x 512 surface at pose (256, 300, 0), its non-white pixels taken
    in body coordinates, 9 picked by farthest-point sampling from an index drawn by
    numpy.random.default_rng(0), then shifted by that generator's uniform(0, 1);
  - the test starts of DP's protocol (seeds 100000 + i): the RandomState draws, the block origin
    after DP's legacy placement (position, then angle about the centre of mass), the state after
    the one physics step of DP's _set_state, and the block after 1, 2, 5 and 10 control steps with
    the agent held where it starts (how pymunk resolves starts where the T overlaps the agent or a
    wall), all from gym-pusht's pymunk scene.

Diffusion Policy pins pygame 2.1.2 and pymunk 6.2.1 (pygame 2.1.2 has no wheel for Python 3.11;
it builds from its sdist once its Cython sources are regenerated with cython<3). With those pins
(and numpy 2.4) `definition` writes the same values as with pygame 2.6.1, pymunk 6.11.1 and numpy
1.26: every draw, keypoint and start compared equal.

`replay` has mimic write expert demos, replays each one's actions open loop in gym-pusht from the
same start, and for every step also steps pymunk once from its own state, so that the C++ test can
step mimic from exactly that state and compare one step at a time.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def numpy_draws():
    out = []
    for seed in [0, 1, 7, 42, 12345, 100000, 100049, 2**31 - 1, 2**31, 2**32 - 1]:
        rs = np.random.RandomState(seed=seed)
        entry = {"seed": seed, "ops": []}
        ranges = [(50, 450), (100, 400), (0, 2), (-5, 6), (0, 1), (3, 2**31), (0, 2**32),
                  (-2**40, 2**40), (0, 2**62 + 12345)]
        for low, high in ranges:
            vals = [int(rs.randint(low, high)) for _ in range(5)]
            entry["ops"].append({"op": "randint", "low": low, "high": high, "values": vals})
        entry["ops"].append({"op": "random_sample",
                             "values": [float(rs.random_sample()) for _ in range(5)]})
        entry["ops"].append({"op": "randn", "values": [float(rs.randn()) for _ in range(7)]})
        entry["ops"].append({"op": "uniform", "low": -np.pi, "high": np.pi,
                             "values": [float(rs.uniform(-np.pi, np.pi)) for _ in range(3)]})
        entry["ops"].append({"op": "randn", "values": [float(rs.randn()) for _ in range(3)]})
        out.append(entry)
    return out


def tee_scene():
    from gym_pusht.envs.pusht import PushTEnv
    env = PushTEnv(obs_type="state")
    env.reset(seed=0)
    return env


def dp_block_keypoints():
    import pygame
    import pymunk
    from gym_pusht.envs.pymunk_override import DrawOptions
    from gym_pusht.envs.pusht import PushTEnv

    space = pymunk.Space()
    body, _ = PushTEnv.add_tee(space, (256, 300), 0)
    surface = pygame.Surface((512, 512))
    surface.fill(pygame.Color("white"))
    space.debug_draw(DrawOptions(surface))
    img = np.uint8(pygame.surfarray.array3d(surface).transpose(1, 0, 2))
    mask = (img != np.array([255, 255, 255], dtype=np.uint8)).any(axis=-1)
    rows, cols = np.indices((512, 512))
    pixels = np.stack([cols, rows], axis=-1).astype(np.float64)[mask]  # (x, y), row-major order
    local = pixels - np.array([body.position.x, body.position.y])  # angle 0: a translation

    rng = np.random.default_rng(seed=0)
    chosen = [local[rng.choice(len(local))]]
    for _ in range(8):
        d = np.linalg.norm(local[:, None, :] - np.array(chosen)[None, :, :], axis=-1).min(axis=1)
        chosen.append(local[np.argmax(d)])
    kps = np.array(chosen) + rng.uniform(0, 1, size=(9, 2))
    return kps, int(mask.sum()), pygame.version.ver


def dp_test_starts(n):
    import pymunk
    from gym_pusht.envs.pusht import PushTEnv
    env = PushTEnv(obs_type="state")
    starts = []
    for i in range(n):
        seed = 100000 + i
        rs = np.random.RandomState(seed=seed)
        draws = [rs.randint(50, 450), rs.randint(50, 450), rs.randint(100, 400),
                 rs.randint(100, 400), rs.randn() * 2 * np.pi - np.pi]
        env.reset(seed=0)
        env._setup()
        env.agent.position = list(draws[:2])
        env.block.position = list(draws[2:4])
        env.block.angle = draws[4]
        placed = [env.block.position.x, env.block.position.y, env.block.angle]
        env.space.step(env.dt)
        after_step = [env.block.position.x, env.block.position.y, env.block.angle]
        agent_after_step = [env.agent.position.x, env.agent.position.y]
        held = []
        for k in range(1, 11):  # the agent held at its start: where overlaps push the block
            env.step(np.array(draws[:2], dtype=np.float64))
            if k in (1, 2, 5, 10):
                held.append([k, env.block.position.x, env.block.position.y, env.block.angle])
        starts.append({
            "seed": seed,
            "draws": [float(v) for v in draws],
            "placed_block": placed,
            "block_after_step": after_step,
            "agent_after_step": agent_after_step,
            "block_after_held_steps": held,
        })
    return starts


def definition(args):
    import pymunk
    kps, n_pixels, pygame_version = dp_block_keypoints()
    out = {
        "generator": "tests/reference/make_pusht_fixtures.py definition",
        "versions": {"numpy": np.__version__, "pygame": pygame_version,
                     "pymunk": pymunk.version},
        "numpy_random_state": numpy_draws(),
        "block_keypoints": kps.tolist(),
        "block_pixels": n_pixels,
        "test_starts": dp_test_starts(args.starts),
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {args.out}: keypoints from {n_pixels} pixels (pygame {pygame_version})")
    print(np.array2string(kps, precision=6))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("definition")
    d.add_argument("--out", default="tests/data/pusht/dp_definition.json")
    d.add_argument("--starts", type=int, default=500)
    r = sub.add_parser("replay")
    r.add_argument("--mimic", required=True)
    r.add_argument("--demos", type=int, default=50)
    r.add_argument("--out", default="tests/data/pusht/pymunk_replay.h5")
    args = p.parse_args()
    {"definition": definition, "replay": replay}[args.cmd](args)


def set_pymunk_state(env, agent_pos, agent_vel, block_pose):
    """Puts gym-pusht's scene in a given state; the block pose is its origin (angle first)."""
    env.agent.position = [float(agent_pos[0]), float(agent_pos[1])]
    env.agent.velocity = [float(agent_vel[0]), float(agent_vel[1])]
    env.block.angle = float(block_pose[2])
    env.block.position = [float(block_pose[0]), float(block_pose[1])]
    env.block.velocity = (0.0, 0.0)
    env.block.angular_velocity = 0.0


def pymunk_state(env):
    a, v, b = env.agent.position, env.agent.velocity, env.block
    return [a.x, a.y, v.x, v.y, b.position.x, b.position.y, b.angle, b.velocity.x, b.velocity.y,
            b.angular_velocity]


def replay(args):
    import h5py
    from gym_pusht.envs.pusht import PushTEnv

    with tempfile.TemporaryDirectory() as tmp:
        demos = os.path.join(tmp, "pusht_demos.hdf5")
        subprocess.run([args.mimic, "generate-demos", "--env", "pusht", "--n", str(args.demos),
                        "--output", demos, "--seed", "0"], check=True, stdout=subprocess.DEVNULL)
        env = PushTEnv(obs_type="state")
        with h5py.File(demos, "r") as f, h5py.File(args.out + ".tmp", "w") as out:
            out.attrs["generator"] = "tests/reference/make_pusht_fixtures.py replay"
            out.attrs["gym_pusht_states"] = (
                "per row: agent x, y, agent vx, vy, block origin x, y, angle, block origin vx, vy, "
                "angular velocity (the response to the last contact solve, which moves the block "
                "in pymunk's next step); row t is pymunk's "
                "state before step t of its own open-loop replay, the last row its final state")
            names = sorted(f["data"].keys(), key=lambda n: int(n.split("_")[1]))
            for name in names:
                demo = f["data"][name]
                states = demo["states"][()]  # mimic: time, qpos (block x, y, theta, agent x, y), ...
                actions = demo["actions"][()].astype(np.float64)
                targets = (actions + 1.0) * 0.5 * 512.0  # mimic's action_to_target on the floats
                qpos, qvel = states[0, 1:6], states[0, 6:11]
                env.reset(seed=0)
                set_pymunk_state(env, qpos[3:5], qvel[3:5], qpos[0:3])
                rows = [pymunk_state(env)]
                for t in range(len(targets)):
                    env.step(targets[t])
                    rows.append(pymunk_state(env))
                g = out.create_group(name)
                g.create_dataset("targets", data=targets)
                g.create_dataset("pymunk_states", data=np.array(rows, dtype=np.float64))
                g.attrs["pymunk_final_coverage"] = float(env._get_coverage())
        os.replace(args.out + ".tmp", args.out)
    print(f"wrote {args.out}: {len(names)} demos replayed in gym-pusht")


if __name__ == "__main__":
    main()
