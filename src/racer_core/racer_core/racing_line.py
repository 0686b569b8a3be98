"""A reference lap: a lower bound on the lap time racer's car can reach on a track under racer's rules.

It is the yardstick for drivers (lap time / reference >= 1, and 1 would be perfect), so it must be a
bound, not an estimate. Every rule the car obeys is kept and nothing is added, so the optimum of this
relaxed problem is at least as fast as any real driver:

- Road: a car is off track only when all four wheel centres are off the road, so the car origin may
  be anywhere within the wheel-centre radius (0.115 m) of the road. Measured along each reference
  normal to the real borders (inner and outer polylines), widened by 1 / cos of the angle at which
  the normal meets the border.
- Car (`racer_core.vehicle`): the kinematic bicycle about mid-wheelbase with slip angle
  beta = atan(tan(steer) / 2), steering +-30 deg moved at most 360 deg/s, yaw rate v tan(steer) / L
  or less (the grip limit caps |yaw rate * v| at 8 m/s^2; running wide is allowed), speed following
  the command in [0, top speed] with the 0.25 s first-order lag.
- 15 Hz control: commands held for 1/15 s are a subset of commands that may change at any time, so
  the optimisation lets them change continuously (this keeps the bound a bound).

Method: a direct transcription of the minimum-time optimal control problem in curvilinear
coordinates along a lightly smoothed centre line (nodes every ~8-10 cm): states lateral offset n,
yaw relative to the reference heading, speed and steering angle at the nodes; per segment its
duration, speed command and yaw rate; trapezoidal (midpoint) dynamics; objective the sum of segment
durations. Solved with IPOPT through CasADi (exact derivatives). Two problems per track: a lap from
standing at the start line until the front point (0.14 m ahead, where DeepRacer measures progress)
crosses it again, and a periodic flying lap (every lap after the first of a continuous run).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from racer_core.simulator import FRONT_OFFSET  # the point whose progress ends a lap
from racer_core.track import Track
from racer_core.vehicle import VehicleParams

MAX_NODES = 700
MIN_SPACING = 0.08  # m between nodes
CACHE_VERSION = 4
# The solver's own source is part of every cache key and stored with every answer: a changed solver
# never serves an answer an older one gave (the tests' stored solutions are checked against it too).
SOLVER_DIGEST = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
DRIVER_SMOOTHING = 0.005  # weight of steering changes and sliding in a line meant for driving


@dataclass
class ReferenceLap:
    time_s: float  # standing start on the start line, to the front point crossing it again
    flying_time_s: float  # one lap of a continuous run (start and end at the same speed)
    line: np.ndarray  # (K, 2) car origin on the standing lap, from the start line
    speeds: np.ndarray  # (K,) m/s along it
    steering: np.ndarray  # (K,) rad, + left
    times: np.ndarray  # (K,) s since the start
    length: float  # m, length of `line`


@dataclass(frozen=True)
class Corridor:
    """The reference the optimisation works in: points, headings, curvature and the allowed offsets."""

    points: np.ndarray  # (K, 2) nodes along the smoothed centre line
    normals: np.ndarray  # (K, 2) unit left normals
    heading: np.ndarray  # (K,) rad, unwrapped
    ds: np.ndarray  # (K - 1,) segment lengths
    kappa: np.ndarray  # (K - 1,) heading change per metre over each segment
    left: np.ndarray  # (K,) m from the node to the road's left edge along the normal
    right: np.ndarray  # (K,) m to its right edge
    left_cos: np.ndarray  # (K,) cos of the angle between the normal and the left border's normal
    right_cos: np.ndarray

    @property
    def node_kappa(self) -> np.ndarray:
        k = self.kappa
        return np.concatenate([k[:1], 0.5 * (k[1:] + k[:-1]), k[-1:]])


def wheel_reach(car: VehicleParams) -> float:
    """How far the car origin can be from the road with one wheel centre still on it."""
    return float(np.hypot(car.wheelbase / 2, car.track_width / 2))


def corridor(track: Track, spacing: float | None = None) -> Corridor:
    """Nodes along the centre line and, along each node's normal, how far the road goes either side."""
    spacing = spacing or max(MIN_SPACING, track.length / MAX_NODES)
    count = max(round(track.length / spacing), 16)
    d = np.linspace(0.0, track.length, count + 1)
    pts = np.array([track.point_at(s)[0] for s in (d[:-1] if track.closed else d)])
    pts = _smooth(pts, track.closed, passes=4)
    if track.closed:
        pts = np.vstack([pts, pts[:1]])
        tangent = np.roll(pts[:-1], -1, axis=0) - np.roll(pts[:-1], 1, axis=0)
        tangent = np.vstack([tangent, tangent[:1]])
    else:
        tangent = np.gradient(pts, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    normals = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    heading = np.unwrap(np.arctan2(tangent[:, 1], tangent[:, 0]))
    ds = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    kappa = np.diff(heading) / ds
    (left, left_cos), (right, right_cos) = _road_extent(pts, normals, track)
    return Corridor(pts, normals, heading, ds, kappa, left, right, left_cos, right_cos)


def _smooth(pts: np.ndarray, closed: bool, passes: int) -> np.ndarray:
    """[1 2 1] / 4 passes: takes the route's kinks out of the reference heading, moves it millimetres."""
    for _ in range(passes):
        if closed:
            pts = 0.25 * np.roll(pts, 1, axis=0) + 0.5 * pts + 0.25 * np.roll(pts, -1, axis=0)
        else:
            inner = 0.25 * pts[:-2] + 0.5 * pts[1:-1] + 0.25 * pts[2:]
            pts = np.vstack([pts[:1], inner, pts[-1:]])
    return pts


def _road_extent(pts: np.ndarray, normals: np.ndarray, track: Track):
    """Along +normal and -normal: distance to the first border crossing and the cosine of the angle at
    which the normal meets that border (a wheel's reach across the border is longer along a slanted
    normal by 1 / cos)."""
    a = np.vstack([track.inner[:-1], track.outer[:-1]])
    b = np.vstack([track.inner[1:], track.outer[1:]])
    seg = b - a  # (S, 2)
    seg_len = np.maximum(np.linalg.norm(seg, axis=1), 1e-12)
    rel = a[None, :, :] - pts[:, None, :]  # (K, S, 2)
    nx, ny = normals[:, 0:1], normals[:, 1:2]
    den = nx * seg[None, :, 1] - ny * seg[None, :, 0]  # cross(normal, seg)
    safe = np.where(np.abs(den) > 1e-12, den, np.nan)
    t = (rel[:, :, 0] * seg[None, :, 1] - rel[:, :, 1] * seg[None, :, 0]) / safe
    u = (rel[:, :, 0] * ny - rel[:, :, 1] * nx) / safe
    hit = (u >= 0.0) & (u <= 1.0) & np.isfinite(t)
    cos_angle = np.clip(np.abs(den) / seg_len[None, :], 0.5, 1.0)
    rows = np.arange(len(pts))
    fallback = 0.5 * float(np.median(track.widths))  # a node whose normal misses a border (open ends)
    sides = []
    for sign in (1.0, -1.0):
        dist = np.where(hit & (sign * t > 0), sign * t, np.inf)
        j = np.argmin(dist, axis=1)
        found = np.isfinite(dist[rows, j])
        sides.append((np.where(found, dist[rows, j], fallback), np.where(found, cos_angle[rows, j], 1.0)))
    return sides


def _solve(c: Corridor, car: VehicleParams, top_speed: float, standing: bool, finish: int,
           start_state: tuple[float, float] = (0.0, 0.0), margin: float = 0.0, smooth: float = 0.0) -> dict:
    """Minimum-time transcription over nodes 0..finish (see the module docstring)."""
    import casadi as ca

    k = finish  # segments
    ds, kappa = c.ds[:k], c.kappa[:k]
    opti = ca.Opti()
    n = opti.variable(k + 1)
    xi = opti.variable(k + 1)
    v = opti.variable(k + 1)
    steer = opti.variable(k + 1)
    dt = opti.variable(k)
    cmd = opti.variable(k)
    grip = opti.variable(k)  # share of the asked-for yaw rate the tyres deliver (1 = no sliding)

    nm, xim, vm, sm = (0.5 * (q[:-1] + q[1:]) for q in (n, xi, v, steer))
    tan_s = ca.tan(sm)
    phi = xim + ca.atan(0.5 * tan_s)
    yaw_rate = grip * vm * tan_s / car.wheelbase  # what the wheels ask for, or less when the car slides
    opti.subject_to(ds * (1 - nm * kappa) == vm * ca.cos(phi) * dt)
    opti.subject_to(n[1:] - n[:-1] == vm * ca.sin(phi) * dt)
    opti.subject_to(xi[1:] - xi[:-1] == yaw_rate * dt - kappa * ds)
    opti.subject_to(v[1:] - v[:-1] == (cmd - vm) * dt / car.speed_time_constant)
    rate = np.radians(car.steer_rate_deg)
    opti.subject_to(opti.bounded(-rate * dt, steer[1:] - steer[:-1], rate * dt))
    opti.subject_to(opti.bounded(0.0, grip, 1.0))
    opti.subject_to(opti.bounded(-car.max_lateral_accel, yaw_rate * vm, car.max_lateral_accel))
    max_steer = np.radians(car.max_steer_deg)
    opti.subject_to(opti.bounded(-max_steer, steer, max_steer))
    opti.subject_to(opti.bounded(0.0, cmd, top_speed))
    # Off track only when all four wheel centres are: the wheel nearest the edge reaches
    # b cos(yaw) + a |sin(yaw)| across it (a, b: half wheelbase and track), a little more where the
    # border curves toward the car (a^2 kappa / 2).
    half_base, half_track = car.wheelbase / 2, car.track_width / 2
    bulge = 0.5 * half_base**2 * np.minimum(np.abs(c.node_kappa[:k + 1]), 4.0)
    reach = half_track * ca.cos(xi) + half_base * ca.sqrt(ca.sin(xi) ** 2 + 1e-8) + bulge
    opti.subject_to(n <= c.left[:k + 1] + reach / c.left_cos[:k + 1] - margin)
    opti.subject_to(-n <= c.right[:k + 1] + reach / c.right_cos[:k + 1] - margin)
    # Curvilinear coordinates hold while 1 - n kappa > 0.
    opti.subject_to(n * c.node_kappa[:k + 1] <= 0.9)
    opti.subject_to(opti.bounded(-0.9, xi, 0.9))
    opti.subject_to(opti.bounded(1e-4, dt, 5.0))
    opti.subject_to(v >= 0)
    if standing:
        opti.subject_to(n[0] == start_state[0])
        opti.subject_to(xi[0] == start_state[1])
        opti.subject_to(v[0] == 0)
        opti.subject_to(steer[0] == 0)
    else:
        for q in (n, xi, v, steer):
            opti.subject_to(q[0] == q[k])
    cost = ca.sum1(dt)
    if smooth:  # a line to drive: no steering the lap time does not need (bound: the plain lap time)
        cost += smooth * (ca.sumsqr(steer[1:] - steer[:-1]) + ca.sumsqr(1 - grip))
    opti.minimize(cost)

    # Initial guess: the centre line at the grip-limited speed, steering for its curvature.
    kap_node = np.concatenate([kappa[:1], 0.5 * (kappa[1:] + kappa[:-1]), kappa[-1:]])
    v0 = np.minimum(top_speed, np.sqrt(car.max_lateral_accel / np.maximum(np.abs(kap_node), 1e-3)))
    v0 = np.maximum(np.convolve(v0, np.ones(9) / 9, mode="same"), 0.3)
    if standing:
        v0[0] = 0.0
    opti.set_initial(v, v0)
    opti.set_initial(n, 0)
    opti.set_initial(xi, 0)
    opti.set_initial(steer, np.clip(np.arctan(car.wheelbase * kap_node), -max_steer, max_steer))
    opti.set_initial(dt, ds / np.maximum(0.5 * (v0[:-1] + v0[1:]), 0.1))
    opti.set_initial(cmd, 0.5 * (v0[:-1] + v0[1:]))
    opti.set_initial(grip, 1.0)
    opti.solver("ipopt", {"print_time": False}, {"print_level": 0, "max_iter": 3000, "tol": 1e-8,
                                                  "acceptable_tol": 1e-6, "sb": "yes"})
    try:
        sol = opti.solve()
    except RuntimeError as exc:
        raise ReferenceLapError(f"the minimum-time problem did not solve: {exc}") from None
    value = sol.value
    return {"n": np.asarray(value(n)).ravel(), "xi": np.asarray(value(xi)).ravel(),
            "v": np.asarray(value(v)).ravel(), "steer": np.asarray(value(steer)).ravel(),
            "dt": np.asarray(value(dt)).ravel()}


class ReferenceLapError(RuntimeError):
    """The optimisation failed (a track whose road the car cannot follow, or a solver failure)."""


def reference_lap(track: Track, top_speed: float, car: VehicleParams | None = None, cache: bool = True,
                  margin: float = 0.0, grip: float = 1.0, flying: bool = True) -> ReferenceLap:
    """The standing and flying reference laps of `track` for an action space whose top speed is given.

    `margin` (m off every road edge) and `grip` (share of the car's lateral grip) make a line a real
    driver can follow with room for its errors; the bound is the default, margin 0 and full grip.
    Without `flying` only the standing lap is solved (flying_time_s is then NaN).

    Results are cached on disk (`$RACER_CACHE`, default ~/.cache/racer) keyed by the track's
    geometry, the car, the top speed and the solver's source: a solve takes seconds and the answer
    never changes.
    """
    car = car or VehicleParams()
    top_speed = float(min(top_speed, car.max_speed))
    if margin or grip != 1.0:
        car = replace(car, max_lateral_accel=car.max_lateral_accel * grip)
    key = _cache_key(track, car, top_speed, margin, flying)
    path = _cache_dir() / f"reference-{key}.npz"
    if cache and path.is_file():
        try:
            return _load(path)
        except (OSError, ValueError, KeyError, TypeError):  # unreadable or from another version: solve again
            pass
    lap = _compute(track, car, top_speed, margin, flying)
    if cache:
        _save(lap, path)
    return lap


def _compute(track: Track, car: VehicleParams, top_speed: float, margin: float, flying: bool) -> ReferenceLap:
    c = corridor(track)
    seg_count = len(c.ds)
    # Standing lap: ends when the origin is close enough to the line for the front point to be over it
    # (the front point can lead the origin by 0.14 m / (1 - n kappa) along the centre line).
    k_end = np.abs(c.kappa[-max(3, int(0.5 / np.mean(c.ds))):]).max()
    reach_end = max(c.left[-1], c.right[-1]) + wheel_reach(car)
    lead = FRONT_OFFSET / max(1.0 - reach_end * k_end, 0.2)
    arc = np.concatenate([[0.0], np.cumsum(c.ds)])
    finish = int(np.searchsorted(arc, arc[-1] - lead, side="left"))
    finish = min(max(finish, 2), seg_count)
    # The car starts on the centre line point at the start line, facing along its first segment.
    x0, y0, yaw0 = track.pose_at(0.0)
    n0 = float(np.dot(np.array([x0, y0]) - c.points[0], c.normals[0]))
    xi0 = float((yaw0 - c.heading[0] + np.pi) % (2 * np.pi) - np.pi)
    smooth = DRIVER_SMOOTHING if margin else 0.0
    standing = _solve(c, car, top_speed, True, finish, (n0, xi0), margin, smooth)
    line = c.points[:finish + 1] + standing["n"][:, None] * c.normals[:finish + 1]
    times = np.concatenate([[0.0], np.cumsum(standing["dt"])])
    # Between the last node and the true finish the car needs a little more time; the bound keeps it at 0.
    time_s = float(times[-1])
    if track.closed and flying:
        periodic = _solve(c, car, top_speed, False, seg_count, margin=margin, smooth=smooth)
        flying_time = float(np.sum(periodic["dt"]))
    else:  # not asked for (NaN), or an open track, where every run is from standing
        flying_time = math.nan if track.closed else time_s
    return ReferenceLap(time_s, flying_time, line, standing["v"], standing["steer"], times,
                        float(np.sum(np.linalg.norm(np.diff(line, axis=0), axis=1))))


def _cache_dir() -> Path:
    return Path(os.environ.get("RACER_CACHE") or Path.home() / ".cache" / "racer")


def _cache_key(track: Track, car: VehicleParams, top_speed: float, margin: float, flying: bool) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(track.to_array()).tobytes())
    settings = [CACHE_VERSION, SOLVER_DIGEST, track.closed, top_speed, margin, flying, car.__dict__]
    h.update(json.dumps(settings, sort_keys=True).encode())
    return h.hexdigest()[:24]


def _save(lap: ReferenceLap, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, solver=np.asarray(SOLVER_DIGEST), **{k: np.asarray(v) for k, v in lap.__dict__.items()})
        tmp.replace(path)
    except OSError:
        pass  # a read-only home only costs the next caller a solve


def _load(path: Path) -> ReferenceLap:
    with np.load(path) as data:
        fields = {k: data[k] for k in data.files}
    if str(fields.pop("solver", "")) != SOLVER_DIGEST:
        raise ValueError(f"{path}: solved by another version of the solver")
    for scalar in ("time_s", "flying_time_s", "length"):
        fields[scalar] = float(fields[scalar])
    return ReferenceLap(**fields)
