"""Scripted drivers for demos, tests and baselines: pursuit of the centre line, and the reference line."""

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


class ReferenceLineDriver:
    """Follows a reference lap (`racer_core.racing_line.ReferenceLap`): its steering and speed as they
    will be one control period ahead, corrected for the car's offset and heading error against the
    line. Reads the car's state from the simulator, so it serves tests and baselines, not training."""

    # A line with this much room (m off each edge, share of the grip) leaves the driver room for its
    # 15 Hz errors; on racer's tracks and 20 routes it lapped at 1.006-1.095x the bound.
    MARGIN = 0.03
    GRIP = 0.97

    def __init__(self, reference, actions: ActionSpace, car=None, gain_offset: float = 3.0,
                 gain_heading: float = 1.0):
        from racer_core.vehicle import VehicleParams

        self.ref = reference
        self.actions = actions
        self.car = car or VehicleParams()
        self.gain_offset = gain_offset
        self.gain_heading = gain_heading
        line = reference.line
        tangent = np.gradient(line, axis=0)
        self.heading = np.arctan2(tangent[:, 1], tangent[:, 0])
        self.normals = np.stack([-np.sin(self.heading), np.cos(self.heading)], axis=1)
        self.blend = 1.0 - math.exp(-self.car.dt / self.car.speed_time_constant)
        self.index = 0

    @classmethod
    def for_track(cls, track, actions: ActionSpace, car=None) -> ReferenceLineDriver:
        """The driver of the standing reference lap with its driving margins, at the action space's top speed."""
        from racer_core.racing_line import reference_lap

        line = reference_lap(track, actions.max_speed, car, margin=cls.MARGIN, grip=cls.GRIP, flying=False)
        return cls(line, actions, car)

    def command(self, state: np.ndarray) -> tuple[float, float]:
        """(steering deg, speed m/s) for a car state (x, y, yaw, speed, steer, ...)."""
        x, y, yaw, v, wheels = state[0], state[1], state[2], state[3], state[4]
        line = self.ref.line
        lo = self.index  # search as far along as the line goes in a few control periods
        hi = max(lo + 2, int(np.searchsorted(self.ref.times, self.ref.times[lo] + 4 * self.car.dt)))
        i = lo + int(np.argmin(np.sum((line[lo:hi] - (x, y)) ** 2, axis=1)))
        self.index = i
        t_next = self.ref.times[i] + self.car.dt
        j = min(int(np.searchsorted(self.ref.times, t_next)), len(line) - 1)
        offset = float(np.dot((x, y) - line[i], self.normals[i]))
        travel = yaw + math.atan(0.5 * math.tan(wheels))  # the origin moves at the slip angle to the body
        heading_error = (travel - self.heading[i] + math.pi) % (2 * math.pi) - math.pi
        steer = float(self.ref.steering[j]) - self.gain_offset * offset - self.gain_heading * heading_error
        max_steer = math.radians(self.car.max_steer_deg)
        steer = min(max_steer, max(-max_steer, steer))
        speed = v + (float(self.ref.speeds[j]) - v) / self.blend
        return math.degrees(steer), speed

    def policy(self, states: np.ndarray) -> list:
        return [choose_action(self.actions, *self.command(s)) for s in states]
