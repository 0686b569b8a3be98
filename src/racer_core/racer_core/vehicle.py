"""The 1/18 Ackermann car: a kinematic bicycle with steering-rate, speed-lag and grip limits.

The model is deliberately small: what a camera policy must learn to respect is that the steering
takes time to move, speed follows the command with a lag, and a corner taken too fast makes the car
run wide (understeer) instead of following the wheels, which is how DeepRacers leave the road.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

# Columns of the state array (one row per car).
X, Y, YAW, SPEED, STEER, ODOMETER = range(6)
STATE_SIZE = 6


@dataclass(frozen=True)
class VehicleParams:
    wheelbase: float = 0.164  # m, front to rear axle
    track_width: float = 0.162  # m, left to right wheel centres
    wheel_radius: float = 0.035  # m
    max_steer_deg: float = 30.0  # +- steering limit, + = left
    steer_rate_deg: float = 360.0  # how fast the servo turns the wheels, deg/s
    min_speed: float = 0.1  # m/s, DeepRacer's action limits
    max_speed: float = 4.0
    speed_time_constant: float = 0.25  # s, first-order response of speed to the command
    max_lateral_accel: float = 8.0  # m/s^2, tyre grip: beyond it the car runs wide
    control_hz: float = 15.0  # one control step per camera frame
    substeps: int = 4  # physics steps per control step

    @property
    def dt(self) -> float:
        return 1.0 / self.control_hz

    def as_array(self) -> np.ndarray:
        """The numbers the compiled step needs, in a fixed order."""
        return np.array([
            self.wheelbase, np.radians(self.max_steer_deg), np.radians(self.steer_rate_deg),
            self.min_speed, self.max_speed, self.speed_time_constant, self.max_lateral_accel,
        ])

    def wheel_offsets(self) -> np.ndarray:
        """Wheel centres in the car frame (x forward, y left) about the car origin (mid-wheelbase)."""
        a, b = self.wheelbase / 2, self.track_width / 2
        return np.array([[a, b], [a, -b], [-a, b], [-a, -b]])


@nb.njit(cache=True)
def advance(state: np.ndarray, command: np.ndarray, p: np.ndarray, dt: float, substeps: int) -> None:
    """Move every car (rows of `state`) through one control period under `command` (steer rad, speed).

    Commands outside the car's limits are clamped here, so no caller can drive an impossible car.
    """
    wheelbase, max_steer, steer_rate, vmin, vmax, tau, max_lat = p[0], p[1], p[2], p[3], p[4], p[5], p[6]
    h = dt / substeps
    blend = 1.0 - np.exp(-h / tau)
    for i in range(state.shape[0]):
        steer_cmd = min(max_steer, max(-max_steer, command[i, 0]))
        speed_cmd = min(vmax, max(0.0, command[i, 1]))
        if speed_cmd > 0.0:
            speed_cmd = max(vmin, speed_cmd)
        x, y, yaw, v, steer = state[i, 0], state[i, 1], state[i, 2], state[i, 3], state[i, 4]
        odo = state[i, 5]
        for _ in range(substeps):
            d = steer_cmd - steer
            step = steer_rate * h
            steer += min(step, max(-step, d))
            v += (speed_cmd - v) * blend
            tan_s = np.tan(steer)
            yaw_rate = v * tan_s / wheelbase
            if v > 1e-6 and abs(v * yaw_rate) > max_lat:  # grip lost: the car turns less than asked
                yaw_rate = np.sign(yaw_rate) * max_lat / v
            beta = np.arctan(0.5 * tan_s)  # slip angle of the mid-wheelbase point
            x += v * np.cos(yaw + beta) * h
            y += v * np.sin(yaw + beta) * h
            yaw += yaw_rate * h
            odo += v * h
        if yaw > np.pi:
            yaw -= 2 * np.pi
        elif yaw <= -np.pi:
            yaw += 2 * np.pi
        state[i, 0], state[i, 1], state[i, 2], state[i, 3], state[i, 4], state[i, 5] = x, y, yaw, v, steer, odo


def new_state(num_cars: int) -> np.ndarray:
    return np.zeros((num_cars, STATE_SIZE))
