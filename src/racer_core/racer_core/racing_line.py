"""A reference lap: the fastest the car could physically go round a track, as a yardstick for drivers.

Method (documented in the README):
1. Racing line: the centre line is resampled every ~5 cm and each point may slide along its normal
   within the road (half width minus a margin for half the car). Repeatedly moving every point
   toward the midpoint of its neighbours and clamping it to the road minimises the sum of squared
   second differences, i.e. a minimum-curvature line (a constrained discrete Laplacian smoothing).
2. Speed profile on that line: each point's corner speed is limited by tyre grip
   (v^2 * curvature <= max lateral acceleration) and the top speed; a forward pass from a standing
   start adds the speed the first-order speed lag and the remaining grip allow; a backward pass
   brakes in time for every corner.
3. Lap time = sum of segment length / mean segment speed.

Steering-rate limits and the 15 Hz control are ignored, so this is a bound that a perfect driver
approaches, not one it reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from racer_core.track import Track
from racer_core.vehicle import VehicleParams

SPACING = 0.05  # m between racing-line points
SMOOTHING_SWEEPS = 6000


@dataclass
class ReferenceLap:
    time_s: float
    line: np.ndarray  # (M, 2) racing line
    speeds: np.ndarray  # (M,) m/s along it
    length: float  # m


def racing_line(track: Track, margin: float = 0.09, sweeps: int = SMOOTHING_SWEEPS) -> np.ndarray:
    """Minimum-curvature line inside the road, (M, 2), starting at the start line."""
    count = max(int(track.length / SPACING), 16)
    d = np.linspace(0.0, track.length, count, endpoint=not track.closed)
    centre = np.array([track.point_at(s)[0] for s in d])
    # Normals from central differences, not per-segment headings: those jump at every route point
    # and would put kinks into any line offset from the centre.
    if track.closed:
        tangent = np.roll(centre, -1, axis=0) - np.roll(centre, 1, axis=0)
    else:
        tangent = np.gradient(centre, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    normals = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    widths = np.interp(d, track.cum_length, track.widths)
    limit = np.maximum(0.5 * widths - margin, 0.0)
    offset = np.zeros(count)
    for _ in range(sweeps):
        line = centre + offset[:, None] * normals
        if track.closed:
            mid = 0.5 * (np.roll(line, 1, axis=0) + np.roll(line, -1, axis=0))
        else:
            mid = line.copy()
            mid[1:-1] = 0.5 * (line[:-2] + line[2:])
        offset = np.clip(offset + np.einsum("ij,ij->i", mid - line, normals), -limit, limit)
    return centre + offset[:, None] * normals


def curvature(path: np.ndarray, reach: int = 3) -> np.ndarray:
    """Unsigned curvature (1/m) along a polyline from the circle through each point and the points
    `reach` steps either side (a chord of ~0.3 m filters centimetre-scale kinks); ends are padded."""
    prev, mid, nxt = path[:-2 * reach], path[reach:-reach], path[2 * reach:]
    a = np.linalg.norm(mid - prev, axis=1)
    b = np.linalg.norm(nxt - mid, axis=1)
    c = np.linalg.norm(nxt - prev, axis=1)
    cross = np.abs((mid[:, 0] - prev[:, 0]) * (nxt[:, 1] - prev[:, 1])
                   - (mid[:, 1] - prev[:, 1]) * (nxt[:, 0] - prev[:, 0]))
    k = 2.0 * cross / np.maximum(a * b * c, 1e-12)
    return np.concatenate([np.full(reach, k[0]), k, np.full(reach, k[-1])])


def speed_profile(path: np.ndarray, top_speed: float, car: VehicleParams) -> np.ndarray:
    """Fastest speeds along an open polyline from a standing start, as racer's car model allows:
    corners limited by lateral grip, speed changes by the first-order lag toward the commanded speed."""
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    corner = np.minimum(top_speed, np.sqrt(car.max_lateral_accel / np.maximum(curvature(path), 1e-9)))
    tau = car.speed_time_constant
    v = corner.copy()
    v[0] = 0.0
    for i in range(len(path) - 1):  # accelerate toward the top speed
        accel = (top_speed - v[i]) / tau
        v[i + 1] = min(corner[i + 1], np.sqrt(v[i] ** 2 + 2.0 * accel * seg[i]))
    for i in range(len(path) - 2, -1, -1):  # brake in time for what comes next
        brake = max(v[i + 1] - car.min_speed, 0.0) / tau
        v[i] = min(v[i], np.sqrt(v[i + 1] ** 2 + 2.0 * brake * seg[i]))
    return v


def reference_lap(track: Track, top_speed: float, car: VehicleParams | None = None) -> ReferenceLap:
    """From a standing start on the start line to crossing it again (or the end of an open track)."""
    car = car or VehicleParams()
    line = racing_line(track, margin=0.5 * car.track_width + 0.01)
    path = np.vstack([line, line[:1]]) if track.closed else line
    speeds = speed_profile(path, min(top_speed, car.max_speed), car)
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    mean_speed = np.maximum(0.5 * (speeds[:-1] + speeds[1:]), 1e-3)
    return ReferenceLap(float(np.sum(seg / mean_speed)), path, speeds, float(seg.sum()))
