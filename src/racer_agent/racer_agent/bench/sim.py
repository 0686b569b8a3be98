"""Simulator throughput, measured beside Gymnasium's CarRacing-v3 in the same run.

Absolute steps/s on a shared machine say little on their own; the ratio to a well-known peer run
seconds earlier in the same process is what to compare across machines and commits.
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np

import racer_agent  # noqa: F401  (registers the env)


def _rate(step, reset, seconds: float) -> float:
    """Steps per second of `step()` (which returns True when a reset is due) over `seconds`."""
    reset()
    for _ in range(50):  # warm-up: compilation and caches
        if step():
            reset()
    n = 0
    start = time.perf_counter()
    while True:
        for _ in range(100):
            if step():
                reset()
        n += 100
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def racer_single(track: str, seconds: float) -> float:
    """One env from gymnasium.make (with its default wrappers), camera, physics and reward params."""
    env = gym.make("racer/TimeTrial-v0", track=track)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, env.action_space.n, 4096)
    i = [0]

    def step() -> bool:
        i[0] += 1
        _, _, term, trunc, _ = env.step(int(actions[i[0] % 4096]))
        return term or trunc

    return _rate(step, lambda: env.reset(seed=0), seconds)


# The race types beside the time trial: the reference's defaults (6 boxes; 3 bots, here at 0.5 m/s
# changing lanes, the head-to-bot benchmark's setting).
RACES = {
    "time_trial": None,
    "object_avoidance": {"race_type": "object_avoidance"},
    "head_to_bot": {"race_type": "head_to_bot", "bot_car_speed": 0.5, "is_lane_change": True},
}


def racer_batched(track: str, cars: int, seconds: float, objects: dict | None = None) -> float:
    """Car-steps per second of the vector env: all cars rendered in one call per step."""
    env = gym.make_vec("racer/TimeTrial-v0", num_envs=cars, track=track, objects=objects)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, env.single_action_space.n, (4096, cars))
    i = [0]

    def step() -> bool:
        i[0] += 1
        env.step(actions[i[0] % 4096])
        return False

    return _rate(step, lambda: env.reset(seed=0), seconds) * cars


def carracing(seconds: float) -> float:
    env = gym.make("CarRacing-v3")
    rng = np.random.default_rng(0)

    def step() -> bool:
        _, _, term, trunc, _ = env.step(rng.uniform(-1, 1, 3).astype(np.float32))
        return term or trunc

    return _rate(step, lambda: env.reset(seed=0), seconds)


def run(track: str = "circuit", cars: int = 16, seconds: float = 3.0) -> dict:
    import torch  # noqa: F401  (loaded by the trainer anyway; keeps the comparison fair on threads)

    single = racer_single(track, seconds)
    batched = racer_batched(track, cars, seconds)
    races = {name: round(racer_batched(track, cars, seconds, objects), 1) for name, objects in RACES.items()}
    peer = carracing(seconds)
    return {
        "track": track,
        "steps_per_s": round(single, 1),
        "batched_cars": cars,
        "batched_steps_per_s": round(batched, 1),
        "carracing_steps_per_s": round(peer, 1),
        "ratio_vs_carracing": round(single / peer, 2),
        "batched_ratio_vs_carracing": round(batched / peer, 2),
        # each race type's batched car-steps/s, and its share of the time trial's measured beside it
        "race_steps_per_s": races,
        "race_share_of_time_trial": {name: round(rate / races["time_trial"], 3) for name, rate in races.items()},
        "image": "160x120 grey, 120 deg camera",
    }
