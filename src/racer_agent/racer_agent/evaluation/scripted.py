"""A scripted driver that follows the centre line (pure pursuit), for demos, tests and baselines."""

from __future__ import annotations

import math

import numpy as np

from racer_agent.env.actions import ActionSpace


def pursuit_steering(params: dict, lookahead: float = 0.5, wheelbase: float = 0.164) -> float:
    """Steering (deg, + left) that aims the car at the centre-line point `lookahead` metres on."""
    waypoints = params["waypoints"]
    i = params["closest_waypoints"][1]
    x, y = params["x"], params["y"]
    for _ in range(len(waypoints)):
        tx, ty = waypoints[i]
        if math.hypot(tx - x, ty - y) >= lookahead:
            break
        i = (i + 1) % len(waypoints)
    heading = math.radians(params["heading"])
    alpha = math.atan2(ty - y, tx - x) - heading
    alpha = (alpha + math.pi) % (2 * math.pi) - math.pi
    return math.degrees(math.atan2(2 * wheelbase * math.sin(alpha), lookahead))


def choose_action(actions: ActionSpace, steer_deg: float, speed: float):
    """The action closest to a wanted (steering, speed): an index, or a [-1, 1] pair."""
    if actions.kind == "discrete":
        cost = np.abs(actions.table[:, 0] - steer_deg) / 30.0 + np.abs(actions.table[:, 1] - speed)
        return int(np.argmin(cost))
    lo, hi = actions.table[:, 0], actions.table[:, 1]
    return np.clip(2 * (np.array([steer_deg, speed]) - lo) / (hi - lo) - 1, -1, 1).astype(np.float32)


class CentreLineDriver:
    """Drives an env by pursuit of the centre line at a fixed target speed."""

    def __init__(self, actions: ActionSpace, speed: float = 1.0, lookahead: float = 0.5):
        self.actions = actions
        self.speed = speed
        self.lookahead = lookahead

    def __call__(self, params: dict | None):
        if params is None:  # the first decision, before any params: go straight
            return choose_action(self.actions, 0.0, self.speed)
        return choose_action(self.actions, pursuit_steering(params, self.lookahead), self.speed)
