"""A model's action space as the car reads it from model_metadata.json, and one action as a command.

numpy only (no onnxruntime), so the training side's ActionSpace shares this mapping without loading
the inference runtime. Python 3.8: it runs on the car.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np


def action_table(meta: dict) -> Tuple[str, np.ndarray]:
    """("discrete", (K, 2) steering deg and speed) or ("continuous", [[steer lo, hi], [speed lo, hi]])."""
    space = meta["action_space"]
    if isinstance(space, list):
        table = np.array([[float(a["steering_angle"]), float(a["speed"])] for a in space], np.float64)
        if len(table) == 0:
            raise ValueError("empty action_space")
        return "discrete", table
    return "continuous", np.array([[float(space[k]["low"]), float(space[k]["high"])]
                                   for k in ("steering_angle", "speed")], np.float64)


def command(kind: str, table: np.ndarray, action) -> Tuple[float, float]:
    """(steering deg, speed m/s) of one action: an index, or a point of [-1, 1]^2 (clipped)."""
    if kind == "discrete":
        steer, speed = table[int(action)]
        return float(steer), float(speed)
    a = np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0)
    lo, hi = table[:, 0], table[:, 1]
    steer, speed = lo + (a + 1.0) * 0.5 * (hi - lo)
    return float(steer), float(speed)
