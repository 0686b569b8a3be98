"""Cars spread over several tracks, seen by the learner as one batch.

A driver trained on one track learns that track's corners, not driving: spreading the cars over
several tracks (and both directions, with `direction="alternate"`) is what makes a policy that
laps tracks it never saw. Each track is its own batched `TimeTrialVectorEnv` (one render per track
per step); this env steps them in turn and concatenates what they return, car by car, so cars
[0, n_0) are on the first track, [n_0, n_0 + n_1) on the second, and so on.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from racer_agent.env.race import SimulatorFactory
from racer_agent.env.vector import TimeTrialVectorEnv


def split_cars(num_cars: int, num_tracks: int) -> list[int]:
    """Cars per track, as even as possible, the first tracks taking the remainder."""
    if num_cars < num_tracks:
        raise ValueError(f"{num_cars} cars cannot cover {num_tracks} tracks: use at least one car per track")
    base, extra = divmod(num_cars, num_tracks)
    return [base + (i < extra) for i in range(num_tracks)]


class MultiTrackVectorEnv(gym.vector.VectorEnv):
    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, tracks: list, num_envs: int, simulator: SimulatorFactory | None = None, **config: Any):
        counts = split_cars(num_envs, len(tracks))
        self.parts = [TimeTrialVectorEnv(num_envs=n, simulator=simulator, track=t, **config)
                      for t, n in zip(tracks, counts, strict=True)]
        shapes = {part.single_observation_space.shape for part in self.parts}
        if len(shapes) != 1:
            raise ValueError(f"every track must give the same camera frame, got shapes {sorted(shapes)}")
        self.num_envs = num_envs
        self.bounds = np.cumsum([0, *counts])  # cars of part i: bounds[i]:bounds[i+1]
        self.single_observation_space = self.parts[0].single_observation_space
        self.single_action_space = self.parts[0].single_action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)

    @property
    def races(self) -> list:
        return [part.race for part in self.parts]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        results = [part.reset(seed=None if seed is None else seed + i, options=options)
                   for i, part in enumerate(self.parts)]
        return np.concatenate([obs for obs, _ in results]), _concat_infos([info for _, info in results])

    def step(self, actions):
        results = [part.step(actions[a:b]) for part, a, b in zip(self.parts, self.bounds[:-1], self.bounds[1:],
                                                                   strict=True)]
        obs, rewards, terminated, truncated, infos = zip(*results, strict=True)
        return (np.concatenate(obs), np.concatenate(rewards), np.concatenate(terminated),
                np.concatenate(truncated), _concat_infos(list(infos)))

    def close_extras(self, **kwargs: Any) -> None:
        for part in self.parts:
            part.close()


def _concat_infos(infos: list[dict]) -> dict:
    return {key: np.concatenate([info[key] for info in infos]) for key in infos[0]}
