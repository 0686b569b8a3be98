"""`racer bench bridge`: lock-step steps/s through ROS 2 beside the direct env, in the same run.

The bridge env is the direct env with its simulator reached over DDS (`RosSimulator`): same rules,
same rewards, so the ratio is the price of the topics and services alone. Both drive random
actions with Gymnasium's autoreset for the same wall time; with several cars each has its own
simulator node process, stepped in parallel.
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np

import racer_agent  # noqa: F401  (registers the env)
from racer_agent.ros.simulator import RosSimulator
from racer_sim.node_processes import NodeProcesses, start_lockstep_simulators


def _steps_per_s(env: gym.vector.VectorEnv, seconds: float, seed: int) -> float:
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    n = env.action_space.shape[0]
    for _ in range(20):  # warm-up: first messages, compiled code
        env.step(rng.integers(env.single_action_space.n, size=n))
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.step(rng.integers(env.single_action_space.n, size=n))
        steps += n
    return steps / (time.perf_counter() - start)


def run(track: str = "circuit", cars: int = 1, seconds: float = 5.0, seed: int = 0) -> dict:
    direct = gym.make_vec("racer/TimeTrial-v0", num_envs=cars, track=track)
    direct_rate = _steps_per_s(direct, seconds, seed)
    direct.close()
    with NodeProcesses() as nodes:
        start_lockstep_simulators(nodes, track, cars)
        bridge = gym.make_vec("racer/TimeTrial-v0", num_envs=cars, track=track, simulator=RosSimulator)
        try:
            bridge_rate = _steps_per_s(bridge, seconds, seed)
        finally:
            bridge.close()
    return {"track": track, "cars": cars, "seconds": seconds, "steps_per_s": round(bridge_rate, 1),
            "direct_steps_per_s": round(direct_rate, 1), "bridge_over_direct": round(bridge_rate / direct_rate, 3),
            "target_steps_per_s": 1000}
