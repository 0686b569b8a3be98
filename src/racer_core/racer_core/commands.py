"""Drive commands from the outside world, made safe before they reach the physics.

A command with a NaN or infinity is refused (the car keeps its previous command); one outside the
car's limits is clamped. Either way the caller gets a reason to warn about, so a bad publisher is
visible without ever crashing the simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from racer_core.vehicle import VehicleParams


@dataclass(frozen=True)
class Drive:
    speed: float  # m/s, forward
    steer: float  # rad, + = left


def checked(speed: float, steer: float, vehicle: VehicleParams) -> tuple[Drive | None, str | None]:
    """(command to apply or None to ignore it, problem to report or None)."""
    if not (math.isfinite(speed) and math.isfinite(steer)):
        return None, f"ignored a non-finite command (speed {speed}, steering {steer})"
    max_steer = math.radians(vehicle.max_steer_deg)
    safe = Drive(min(max(speed, 0.0), vehicle.max_speed), min(max(steer, -max_steer), max_steer))
    if abs(safe.speed - speed) > 1e-6 or abs(safe.steer - steer) > 1e-6:  # float32 messages round a little
        return safe, (f"clamped command (speed {speed:.3g} m/s, steering {steer:.3g} rad) to the car's limits "
                      f"(0..{vehicle.max_speed} m/s, +-{max_steer:.3g} rad)")
    return safe, None


def from_twist(linear_x: float, angular_z: float, vehicle: VehicleParams) -> tuple[float, float]:
    """(speed, steering) of a bicycle that turns at `angular_z` while driving at `linear_x`."""
    if not (math.isfinite(linear_x) and math.isfinite(angular_z)):
        return math.nan, math.nan
    if abs(linear_x) < 1e-6:
        return linear_x, 0.0
    return linear_x, math.atan(vehicle.wheelbase * angular_z / linear_x)
