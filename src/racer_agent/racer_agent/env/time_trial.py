"""`racer/TimeTrial-v0`: one DeepRacer car on a track, seen through its front camera."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from racer_agent.env import episode
from racer_agent.env.race import Race, RaceConfig, SimulatorFactory


class TimeTrialEnv(gym.Env):
    """Observation: the camera frame (uint8, H x W x C). Action: a DeepRacer action (discrete index
    or continuous pair in [-1, 1]). Reward: the DeepRacer reward function on this step's params.

    `reset` is DeepRacer's "prepare" step, so the reward function first sees `steps == 2`.
    `reset(options={"start": fraction, "reverse": bool})` overrides the round-robin start.
    `simulator` (default: the embedded one) builds what moves the car, e.g.
    `racer_agent.ros.simulator.RosSimulator` for a lock-step simulator node over ROS 2: the same
    env, the same rules and rewards, through topics and services.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 15}

    def __init__(self, render_mode: str | None = None, simulator: SimulatorFactory | None = None, **config: Any):
        self.race = Race(RaceConfig(**config), num_cars=1, simulator=simulator)
        self.render_mode = render_mode
        cam = self.race.camera
        self.observation_space = gym.spaces.Box(0, 255, cam.shape, np.uint8)
        self.action_space = self.race.actions.gym_space

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self.race.seed(seed)
        options = options or {}
        self.race.reset_car(0, options.get("start"), options.get("reverse"))
        obs = self.race.render()[0].copy()
        return obs, self._info(episode.PREPARE, None)

    def step(self, action):
        race = self.race
        m = race.sim.measure()[0]
        reward, status, params, command = race.judge(0, action, m)
        judged_at = race.lap_time(0)  # the episode's time when the lap (or its end) was judged
        race.advance(np.array([command]))
        race.render()
        terminated = status not in (episode.IN_PROGRESS, episode.TIME_UP)
        truncated = status == episode.TIME_UP
        return race.frames[0].copy(), reward, terminated, truncated, self._info(status, params, judged_at)

    def _info(self, status: str, params: dict | None, lap_time: float = 0.0) -> dict:
        tracker = self.race.trackers[0]
        return {"episode_status": status, "progress": tracker.progress, "lap_time": lap_time, "params": params}

    def close(self) -> None:
        self.race.close()

    def render(self):
        return self.race.top_down() if self.render_mode == "rgb_array" else None
