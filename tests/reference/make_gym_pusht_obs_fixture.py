#!/usr/bin/env python3
"""Writes tests/data/pusht/gym_pusht_environment_state.json: gym-pusht's keypoint observation
(obs_type "environment_state_agent_pos": the T's 8 polygon vertices as pymunk returns them, and
the agent position), which LeRobot's Push-T keypoint policies observe as
observation.environment_state and observation.state, next to the block and agent poses it was
computed from: after reset for several seeds and after a few random control steps.

    /work/venv/bin/python tests/reference/make_gym_pusht_obs_fixture.py

Needs gym-pusht, pymunk, pygame and shapely from PyPI.
"""
import json
import os

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    from gym_pusht.envs.pusht import PushTEnv
    env = PushTEnv(obs_type="environment_state_agent_pos")
    rng = np.random.default_rng(0)
    samples = []
    for seed in [0, 1, 7, 100000, 100049]:
        obs, _ = env.reset(seed=seed)
        for step in range(4):
            samples.append({
                "block": [float(env.block.position.x), float(env.block.position.y), float(env.block.angle)],
                "agent": [float(env.agent.position.x), float(env.agent.position.y)],
                "environment_state": [float(v) for v in obs["environment_state"]],
                "agent_pos": [float(v) for v in obs["agent_pos"]]})
            obs, *_ = env.step(rng.uniform(100, 400, size=2))
    out = os.path.join(HERE, "..", "data", "pusht", "gym_pusht_environment_state.json")
    with open(out, "w") as f:
        json.dump({"samples": samples}, f)
    print("wrote", os.path.normpath(out), len(samples), "samples")


if __name__ == "__main__":
    main()
