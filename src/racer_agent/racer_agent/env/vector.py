"""Many cars on one track in one process: one batched physics step and one batched render per step.

`gymnasium.make_vec("racer/TimeTrial-v0", num_envs=N)` builds it. Each car is its own episode (they
do not collide). Autoreset follows Gymnasium's default NEXT_STEP mode: the step after a car's episode
ends resets that car, ignores its action and returns its first frame with reward 0.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from racer_agent.env import episode
from racer_agent.env.race import Race, RaceConfig, SimulatorFactory
from racer_core.vehicle import SPEED


class TimeTrialVectorEnv(gym.vector.VectorEnv):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 15, "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 8, render_mode: str | None = None, simulator: SimulatorFactory | None = None,
                 **config: Any):
        self.num_envs = num_envs
        self.race = Race(RaceConfig(**config), num_cars=num_envs, simulator=simulator)
        self.render_mode = render_mode
        self.single_observation_space = gym.spaces.Box(0, 255, self.race.camera.shape, np.uint8)
        self.single_action_space = self.race.actions.gym_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._needs_reset = np.zeros(num_envs, bool)
        self._commands = np.zeros((num_envs, 2))

    def state_dict(self) -> dict:
        """Which cars restart on the next step and their last commands, and the race's own state."""
        return {"needs_reset": self._needs_reset.copy(), "commands": self._commands.copy(),
                "race": self.race.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self._needs_reset[...] = state["needs_reset"]
        self._commands[...] = state["commands"]
        self.race.load_state_dict(state["race"])

    @property
    def races(self) -> list[Race]:
        return [self.race]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self.race.seed(seed)
        for car in range(self.num_envs):
            self.race.reset_car(car)
        self._needs_reset[:] = False
        statuses = np.full(self.num_envs, episode.PREPARE, dtype=object)
        still = np.zeros(self.num_envs)
        return self.race.render().copy(), self._info(statuses, [None] * self.num_envs, still, still)

    def step(self, actions):
        race = self.race
        n = self.num_envs
        rewards = np.zeros(n)
        statuses = np.empty(n, dtype=object)
        params: list[dict | None] = [None] * n
        measures = race.sim.measure()
        # at the judged pose: the log's measured speed, and the time a lap or episode ended at
        speeds, times = race.sim.state[:, SPEED].copy(), race.sim.time.copy()
        restarted = self._needs_reset.copy()
        for car in np.nonzero(~restarted)[0]:
            rewards[car], statuses[car], params[car], self._commands[car] = race.judge(car, actions[car], measures[car])
        race.advance(self._commands)
        for car in np.nonzero(restarted)[0]:  # placed after the physics, so they start still
            race.reset_car(car)
            statuses[car], times[car] = episode.PREPARE, 0.0
        race.render()
        terminated = np.array([s not in (episode.IN_PROGRESS, episode.TIME_UP, episode.PREPARE) for s in statuses])
        truncated = statuses == episode.TIME_UP
        self._needs_reset = terminated | truncated
        return race.frames.copy(), rewards, terminated, truncated, self._info(statuses, params, speeds, times)

    def _info(self, statuses: np.ndarray, params: list, speeds: np.ndarray, times: np.ndarray) -> dict:
        n = self.num_envs
        every = np.ones(n, bool)
        return {
            "episode_status": statuses, "_episode_status": every,
            "progress": np.array([t.progress for t in self.race.trackers]), "_progress": every,
            "lap_time": times, "_lap_time": every,
            "params": _object_array(params), "_params": every,
            "measured_speed": speeds, "_measured_speed": every,
        }

    def close_extras(self, **kwargs: Any) -> None:
        self.race.close()

    def render(self):
        return self.race.top_down() if self.render_mode == "rgb_array" else None


def _object_array(items: list) -> np.ndarray:
    """A 1-D object array of dicts (np.array would try to build a structured array from them)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out
