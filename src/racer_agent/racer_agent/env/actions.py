"""DeepRacer action spaces, read from and written to model_metadata.json's `action_space`.

A discrete space is a list of (steering_angle deg, speed m/s) pairs; a continuous one is ranges,
with the policy acting in [-1, 1]^2 (steering, speed) and rescaled linearly as DeepRacer does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np

from racer_inference.actions import command

MAX_STEER_DEG = 30.0
MIN_SPEED, MAX_SPEED = 0.1, 4.0

# Grip-matched: each steering angle at the fastest speed whose turn the car's 8 m/s^2 of grip holds,
# v = sqrt(8 L / tan(steer)) (30 deg: 1.5, 15 deg: 2.2, 6 deg: 3.5 m/s), straight on at the top speed,
# plus a straight 2 m/s action to brake with before a corner. No action asks for a turn the car
# cannot make, so what is left to learn is where to brake; training reaches these speeds through a
# speed curriculum (training/curriculum.py). Chosen by measurement (README, "Training"): the 4 m/s
# top speed nearly halves the reference lap of the old 1-2 m/s space.
DEFAULT_ACTIONS = [
    {"steering_angle": -30.0, "speed": 1.5}, {"steering_angle": -15.0, "speed": 2.2},
    {"steering_angle": -6.0, "speed": 3.5}, {"steering_angle": 0.0, "speed": 4.0},
    {"steering_angle": 6.0, "speed": 3.5}, {"steering_angle": 15.0, "speed": 2.2},
    {"steering_angle": 30.0, "speed": 1.5}, {"steering_angle": 0.0, "speed": 2.0},
]


class ActionSpaceError(ValueError):
    """An action space that DeepRacer's car could not drive."""


@dataclass(frozen=True)
class ActionSpace:
    kind: str  # "discrete" or "continuous"
    table: np.ndarray  # discrete: (K, 2) steering deg, speed; continuous: [[steer lo, hi], [speed lo, hi]]

    @classmethod
    def from_spec(cls, spec=None, kind: str | None = None) -> ActionSpace:
        """From model_metadata.json content (whole file or its action_space), a list, dict or path."""
        if spec is None:
            spec = DEFAULT_ACTIONS
        if isinstance(spec, ActionSpace):
            return spec
        if isinstance(spec, (str, Path)):
            path = Path(spec)
            try:
                spec = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise ActionSpaceError(f"{path}: cannot read action space ({exc})") from exc
        if isinstance(spec, dict) and "action_space" in spec:
            kind = kind or spec.get("action_space_type")
            spec = spec["action_space"]
        if isinstance(spec, list):
            return cls._discrete(spec)
        if isinstance(spec, dict):
            return cls._continuous(spec)
        raise ActionSpaceError(f"action space must be a list (discrete) or a dict of ranges, got {type(spec).__name__}")

    @classmethod
    def _discrete(cls, items: list) -> ActionSpace:
        if not items:
            raise ActionSpaceError("discrete action space is empty")
        try:
            table = np.array([[float(a["steering_angle"]), float(a["speed"])] for a in items])
        except (KeyError, TypeError, ValueError) as exc:
            raise ActionSpaceError(f"each action needs numeric steering_angle and speed ({exc!r})") from exc
        _check_limits(table[:, 0], table[:, 1])
        return cls("discrete", table)

    @classmethod
    def _continuous(cls, ranges: dict) -> ActionSpace:
        try:
            steer = [float(ranges["steering_angle"]["low"]), float(ranges["steering_angle"]["high"])]
            speed = [float(ranges["speed"]["low"]), float(ranges["speed"]["high"])]
        except (KeyError, TypeError, ValueError) as exc:
            raise ActionSpaceError(f"continuous action space needs steering_angle and speed low/high ({exc!r})") \
                from exc
        if steer[0] >= steer[1] or speed[0] >= speed[1]:
            raise ActionSpaceError(f"continuous ranges must have low < high, got steering {steer}, speed {speed}")
        _check_limits(np.array(steer), np.array(speed))
        return cls("continuous", np.array([steer, speed]))

    @property
    def gym_space(self) -> gym.Space:
        if self.kind == "discrete":
            return gym.spaces.Discrete(len(self.table))
        return gym.spaces.Box(-1.0, 1.0, (2,), np.float32)

    def command(self, action) -> tuple[float, float]:
        """(steering deg, speed m/s) for one action; continuous actions are clipped to [-1, 1]."""
        return command(self.kind, self.table, action)  # the car's own mapping: one definition

    def limited(self, top_speed: float) -> ActionSpace:
        """The same actions with no speed above `top_speed` (a speed curriculum's stage).

        Discrete speeds are scaled down together rather than clipped: clipped at 2 m/s, "straight at
        4 m/s" and "straight at 2 m/s" are the same action, a policy learns to drive its straights on
        either, and one that picked the brake keeps crawling on it once the cap is gone. Scaled, the
        fast action is the fast one at every stage. A continuous range ends at the cap (its low end
        stays below it), which keeps its order by itself."""
        if top_speed >= self.max_speed:
            return self
        table = self.table.copy()
        if self.kind == "discrete":
            table[:, 1] = np.maximum(table[:, 1] * (top_speed / self.max_speed), MIN_SPEED)
        else:
            table[1] = [min(table[1, 0], 0.5 * top_speed), top_speed]
        return ActionSpace(self.kind, table)

    @property
    def max_speed(self) -> float:
        return float(self.table[:, 1].max())

    def to_metadata(self) -> dict:
        """The action_space and action_space_type entries of model_metadata.json."""
        if self.kind == "discrete":
            space = [{"steering_angle": float(s), "speed": float(v), "index": i} for i, (s, v) in enumerate(self.table)]
        else:
            (slo, shi), (vlo, vhi) = self.table.tolist()  # plain floats: JSON and weights-only checkpoints
            space = {"steering_angle": {"low": slo, "high": shi}, "speed": {"low": vlo, "high": vhi}}
        return {"action_space": space, "action_space_type": self.kind}


def _check_limits(steer: np.ndarray, speed: np.ndarray) -> None:
    if not (np.isfinite(steer).all() and np.isfinite(speed).all()):
        raise ActionSpaceError("action values must be finite numbers")
    if np.abs(steer).max() > MAX_STEER_DEG:
        raise ActionSpaceError(f"steering_angle must lie within +-{MAX_STEER_DEG} deg, got {steer.tolist()}")
    if speed.min() < MIN_SPEED or speed.max() > MAX_SPEED:
        raise ActionSpaceError(f"speed must lie within {MIN_SPEED}..{MAX_SPEED} m/s, got {speed.tolist()}")
