"""Obstacles and bot cars on the track: DeepRacer's object-avoidance and head-to-bot races.

Keys, defaults, placement, bot motion and the object params follow the community simulator
(`../shared/reference/deepracer-objects.md` in the project's notes), with four of its quirks not
copied, each on purpose:
- `min_distance_between_obstacles` is metres, as documented; the reference re-converts it as a
  percentage of the track length at every reset, so its gap shrinks towards zero.
- A crash is the true overlap of the car's rectangle with the object's (separating axes); the
  reference only asks whether one of the car's four corners lies inside the object, which misses
  an object's corner entering the car's side.
- `object_in_camera` tests the next object itself; the reference's index is off by one.
- Static obstacles have speed 0 and a paused bot speed 0; the reference reports the bots' speed for
  every object. Headings are radians, as the reference's code gives them (its documentation says
  degrees).
Objects are placed before the car, so "an object near the start puts the car on the other lane"
uses this episode's objects (the reference resets the car first and looks at the last episode's).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numba as nb
import numpy as np

from racer_core.scenery import OBJECT_KINDS
from racer_core.track import Track

RACE_TYPES = ("time_trial", "object_avoidance", "head_to_bot")
# visual size (length along the lane, width across, height), metres
BOX_SIZES = {"box_obstacle": (0.40, 0.30, 0.25), "amazon_box_obstacle": (0.40, 0.30, 0.25),
             "deepracer_box_obstacle": (0.36, 0.265, 0.24)}
BOX_BUFFER = 0.1  # the reference's crash rectangle is the box plus 0.1 m each way (0.50 x 0.40)
CAR_FOOTPRINT = (0.3235, 0.1961)  # length, width: the reference's rectangle for the agent and its bots
CAR_HEIGHT = 0.21
CLEAR_BEFORE_LINE = 1.0  # metres before the start line where nothing is placed
START_CLEARANCE = 1.0  # an object this close to the car's start puts the car on the other lane
RESET_BEHIND = 1.0  # metres before an obstacle an evaluation puts a car that crashed into it
COLLISION_PENALTY = 5.0  # seconds a crash costs in an evaluation with penalties (the reference's eval default)
INNER, OUTER = 1, -1  # lane labels as object_positions writes them (-1 outer, anything else inner)
VIEW_NEAR = 0.2  # the reference's view volume for object_in_camera
VIEW_FAR = 300.0


class ObjectsError(ValueError):
    """A race configuration that cannot be raced, with the reason."""


@dataclass(frozen=True)
class RaceObjects:
    """A race's objects, by the reference's keys (lower case) and defaults."""

    race_type: str = "time_trial"
    number_of_obstacles: int | None = None  # None: 6 for object_avoidance, else none
    min_distance_between_obstacles: float = 2.0  # metres (also the clear zone after the start line)
    randomize_obstacle_locations: bool = False
    object_positions: str = ""  # "fraction,lane;..." (lane -1 outer, 1 inner): replaces count and randomising
    obstacle_type: str = "box_obstacle"
    is_obstacle_bot_car: bool = False  # a parked bot car instead of a box
    number_of_bot_cars: int | None = None  # None: 3 for head_to_bot, else none
    bot_car_speed: float = 0.2  # metres of centre line per second
    min_distance_between_bot_cars: float = 2.0
    randomize_bot_car_locations: bool = False
    is_lane_change: bool = False
    lower_lane_change_time: float = 3.0
    upper_lane_change_time: float = 5.0
    lane_change_distance: float = 1.0  # metres of centre line a lane change takes
    bot_car_penalty: float = 2.0  # seconds the bots wait when one runs into the car from behind

    @classmethod
    def from_dict(cls, data: dict | None) -> RaceObjects:
        """From the reference's keys in any case (`NUMBER_OF_OBSTACLES`), or deepracer-for-cloud's
        run.env names (`DR_OA_NUMBER_OF_OBSTACLES`, `DR_RACE_TYPE=OBJECT_AVOIDANCE`); values may be
        the strings an env file holds ("True", "6")."""
        known = {f.name: f.type for f in fields(cls)}
        given = {}
        for key, value in (data or {}).items():
            name = DRFC_NAMES.get(key.upper(), key.lower())
            if name not in known:
                raise ObjectsError(f"unknown race key {key!r}; known: {sorted(known)} (or their DR_OA_*, "
                                   f"DR_H2B_* names)")
            given[name] = _coerce(name, known[name], value)
        return cls(**given)

    def to_dict(self) -> dict:
        """The keys that differ from a time trial's defaults (what a run records)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != f.default}

    @property
    def positions(self) -> list[tuple[float, int]]:
        """object_positions as (fraction of the lap, lane) pairs."""
        text = self.object_positions.strip() if isinstance(self.object_positions, str) else ""
        if not text:
            return []
        out = []
        for item in text.split(";"):
            try:
                fraction, lane = item.split(",")
                fraction, lane = float(fraction), int(lane)
            except ValueError:
                raise ObjectsError(f"object_positions: {item!r} is not 'fraction,lane' (e.g. '0.23,-1;0.46,1')") \
                    from None
            if not 0.0 <= fraction <= 1.0:
                raise ObjectsError(f"object_positions: fraction {fraction} is outside [0, 1]")
            out.append((fraction, OUTER if lane == -1 else INNER))
        return out

    @property
    def obstacles(self) -> int:
        if self.positions:
            return len(self.positions)
        if self.number_of_obstacles is not None:
            return int(self.number_of_obstacles)
        return 6 if self.race_type == "object_avoidance" else 0

    @property
    def bots(self) -> int:
        if self.number_of_bot_cars is not None:
            return int(self.number_of_bot_cars)
        return 3 if self.race_type == "head_to_bot" else 0

    @property
    def any(self) -> bool:
        return self.obstacles + self.bots > 0

    @property
    def drawn(self) -> bool:
        """Whether every episode draws its objects anew (randomised places, bots' random waits before
        a lane change), so that one car's run shows one draw of many."""
        boxes = self.obstacles > 0 and self.randomize_obstacle_locations and not self.positions
        return boxes or (self.bots > 0 and (self.randomize_bot_car_locations or self.is_lane_change))

    def check(self, track_length: float | None = None) -> None:
        """Refuse, with the reason, what cannot be raced (before anything runs)."""
        if self.race_type not in RACE_TYPES:
            raise ObjectsError(f"race_type must be one of {', '.join(RACE_TYPES)}, got {self.race_type!r}")
        if self.obstacle_type not in BOX_SIZES:
            raise ObjectsError(f"obstacle_type must be one of {', '.join(BOX_SIZES)}, got {self.obstacle_type!r}")
        self.positions  # noqa: B018  (parses, raising on a malformed list)
        for key in ("number_of_obstacles", "number_of_bot_cars"):
            value = getattr(self, key)
            if value is not None and (int(value) != value or value < 0):
                raise ObjectsError(f"{key} must be a whole number >= 0, got {value}")
        for key in ("min_distance_between_obstacles", "min_distance_between_bot_cars", "bot_car_speed",
                    "bot_car_penalty", "lower_lane_change_time"):
            if getattr(self, key) < 0:
                raise ObjectsError(f"{key} must be >= 0, got {getattr(self, key)}")
        if self.lane_change_distance <= 0:
            raise ObjectsError(f"lane_change_distance must be > 0, got {self.lane_change_distance}")
        if self.upper_lane_change_time < self.lower_lane_change_time:
            raise ObjectsError(f"upper_lane_change_time ({self.upper_lane_change_time}) is below "
                               f"lower_lane_change_time ({self.lower_lane_change_time})")
        if track_length is not None:
            for what, n, gap in (("obstacles", self.obstacles, self.min_distance_between_obstacles),
                                 ("bot cars", self.bots, self.min_distance_between_bot_cars)):
                if what == "obstacles" and self.positions:
                    continue
                room = track_length - CLEAR_BEFORE_LINE - gap
                if n and (room < 0 or (n > 1 and room / (n - 1) < gap)):
                    raise ObjectsError(f"{n} {what} do not fit on a {track_length:.1f} m track {gap:g} m apart "
                                       f"(with {gap:g} m clear after the start line and {CLEAR_BEFORE_LINE:g} m "
                                       f"before it)")

    def crash_size(self) -> tuple[float, float]:
        """An obstacle's crash rectangle (length, width)."""
        if self.is_obstacle_bot_car:
            return CAR_FOOTPRINT
        length, width, _ = BOX_SIZES[self.obstacle_type]
        return length + BOX_BUFFER, width + BOX_BUFFER

    def obstacle_box(self) -> tuple[float, float, float]:
        """What the camera sees of an obstacle (length, width, height)."""
        return (*CAR_FOOTPRINT, CAR_HEIGHT) if self.is_obstacle_bot_car else BOX_SIZES[self.obstacle_type]

    def obstacle_kind(self) -> int:
        """Which object colour paints an obstacle (scenery.OBJECT_KINDS)."""
        return OBJECT_KINDS.index("bot_car" if self.is_obstacle_bot_car else "box")


# What each key means, for the interfaces that list them (the simulator node's parameters).
KEY_HELP = {
    "race_type": f"race type: {', '.join(RACE_TYPES)}",
    "number_of_obstacles": "obstacles on the track (unset: 6 for object_avoidance, else none)",
    "min_distance_between_obstacles": "metres between obstacles along the centre line, and clear after the line",
    "randomize_obstacle_locations": "new obstacle places and lanes every episode",
    "object_positions": "obstacles at 'fraction,lane;...' (lane -1 outer, 1 inner); replaces the count",
    "obstacle_type": f"obstacle model: {', '.join(BOX_SIZES)}",
    "is_obstacle_bot_car": "a parked bot car instead of a box",
    "number_of_bot_cars": "bot cars on the track (unset: 3 for head_to_bot, else none)",
    "bot_car_speed": "bot cars' speed, metres of centre line per second",
    "min_distance_between_bot_cars": "metres between bot cars at the start",
    "randomize_bot_car_locations": "new bot places and lanes every episode",
    "is_lane_change": "bot cars change lanes after a random wait",
    "lower_lane_change_time": "shortest wait before a lane change, s",
    "upper_lane_change_time": "longest wait before a lane change, s",
    "lane_change_distance": "metres of centre line a lane change takes",
    "bot_car_penalty": "seconds the bots wait when one runs into the car from behind",
}

# deepracer-for-cloud's run.env names for the same keys
DRFC_NAMES = {
    "DR_RACE_TYPE": "race_type",
    **{f"DR_OA_{k.upper()}": k for k in ("number_of_obstacles", "min_distance_between_obstacles",
                                         "randomize_obstacle_locations", "is_obstacle_bot_car", "obstacle_type",
                                         "object_positions")},
    **{f"DR_H2B_{k.upper()}": k for k in ("number_of_bot_cars", "min_distance_between_bot_cars",
                                          "randomize_bot_car_locations", "bot_car_speed", "is_lane_change",
                                          "lower_lane_change_time", "upper_lane_change_time",
                                          "lane_change_distance", "bot_car_penalty")},
}


def _coerce(name: str, kind: str, value):
    """A value as its field's type; env-file strings too. Wrong types are refused with the key."""
    if name == "race_type" and isinstance(value, str):
        return value.lower()
    try:
        if "bool" in kind:
            if isinstance(value, str):
                if value.strip().lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                return value.strip().lower() in ("true", "1", "yes")
            return bool(value)
        if "int" in kind:
            if value is None or (isinstance(value, str) and not value.strip()):
                return None
            number = float(value)
            return int(number) if number == int(number) else number  # check() refuses a fraction
        if "float" in kind:
            return float(value)
    except (TypeError, ValueError):
        raise ObjectsError(f"{name}: {value!r} is not a {kind.split()[0]}") from None
    return value


# --------------------------------------------------------------------------------- lanes
class Lanes:
    """The two lanes of a track in one driving direction: each lane waypoint is the midpoint of a
    centre waypoint and its border waypoint, parameterised by the centre line's arc length."""

    def __init__(self, track: Track):
        self.track = track  # already in the driving direction (Track.reversed() for reverse)
        self.length = track.length
        self._c, self._i, self._o = track.center, track.inner, track.outer

    def points(self, along: np.ndarray, lateral: np.ndarray) -> np.ndarray:
        """(K, 2) points at centre-line distances `along`, `lateral` +1 on the inner lane, -1 on the
        outer one, 0 on the centre line (a lane change passes through the values between)."""
        along = np.ascontiguousarray(along, np.float64).reshape(-1)
        lateral = np.broadcast_to(np.asarray(lateral, np.float64), along.shape).copy()
        out = np.empty((len(along), 2))
        t = self.track
        _lane_points(self._c, self._i, self._o, t.cum_length, t.closed, along, lateral, out)
        return out

    def centre(self, along: np.ndarray) -> np.ndarray:
        return self.points(along, 0.0)

    def poses(self, along: np.ndarray, lateral: np.ndarray, lateral_ahead: np.ndarray | None = None,
              step: float = 0.05) -> np.ndarray:
        """(K, 3) x, y, yaw: yaw along the (possibly lane-changing) path, `lateral_ahead` its value
        `step` metres further on."""
        along = np.ascontiguousarray(along, np.float64).reshape(-1)
        lateral = np.broadcast_to(np.asarray(lateral, np.float64), along.shape).copy()
        ahead = lateral if lateral_ahead is None else np.broadcast_to(np.asarray(lateral_ahead, np.float64),
                                                                     along.shape).copy()
        out = np.empty((len(along), 3))
        t = self.track
        _lane_poses(self._c, self._i, self._o, t.cum_length, t.closed, along, lateral, ahead, step, out)
        return out

    def drive_described(self, start: np.ndarray, lane: np.ndarray, change_at: np.ndarray, elapsed: float,
                        speed: float, duration: float, along: np.ndarray, lateral: np.ndarray, poses: np.ndarray,
                        crash_sizes: np.ndarray, left: np.ndarray, from_centre: np.ndarray,
                        view_points: np.ndarray, order: np.ndarray) -> None:
        """Bots `elapsed` seconds after leaving `start` at `speed` (metres of centre line per second),
        the last len(start) objects: into `along` (wrapped), `lateral` and `poses`, each changing from its
        `lane` to the other along a smoothstep S-curve from `change_at` for `duration` seconds (inf: no
        change); then `describe` every object. One compiled call: this runs for every car at every
        step of a race with bots."""
        t = self.track
        _drive_described(self._c, self._i, self._o, t.cum_length, t.closed, start, lane, change_at, elapsed, speed,
                         duration, along, lateral, poses, crash_sizes, left, from_centre, view_points, order)

    def describe(self, along: np.ndarray, poses: np.ndarray, crash_sizes: np.ndarray, left: np.ndarray,
                 from_centre: np.ndarray, view_points: np.ndarray, order: np.ndarray) -> None:
        """Per object at centre-line distance `along` standing at `poses`: whether it is left of the
        centre line (driving direction), its distance from it, the five points the view-volume test
        checks (its crash rectangle's corners and its centre), and the objects' `order` along the track."""
        t = self.track
        _describe(self._c, self._i, self._o, t.cum_length, t.closed, along, poses, crash_sizes, left, from_centre,
                  view_points, order)


@nb.njit(cache=True, inline="always")
def _lane_point(center, inner, outer, cum, closed, along, lateral):
    """Linear interpolation along the centre line at `along`, then `lateral` of the way (in halves)
    towards the inner (+) or outer (-) border."""
    length, last = cum[-1], len(cum) - 2
    s = along % length if closed else min(max(along, 0.0), length)
    i = min(max(np.searchsorted(cum, s, side="right") - 1, 0), last)
    seg = cum[i + 1] - cum[i]
    t = (s - cum[i]) / seg if seg > 0 else 0.0
    border = inner if lateral >= 0 else outer
    cx = center[i, 0] + t * (center[i + 1, 0] - center[i, 0])
    cy = center[i, 1] + t * (center[i + 1, 1] - center[i, 1])
    bx = border[i, 0] + t * (border[i + 1, 0] - border[i, 0])
    by = border[i, 1] + t * (border[i + 1, 1] - border[i, 1])
    return cx + 0.5 * abs(lateral) * (bx - cx), cy + 0.5 * abs(lateral) * (by - cy)


@nb.njit(cache=True)
def _lane_points(center, inner, outer, cum, closed, along, lateral, out):
    for k in range(len(along)):
        out[k, 0], out[k, 1] = _lane_point(center, inner, outer, cum, closed, along[k], lateral[k])


@nb.njit(cache=True)
def _lane_poses(center, inner, outer, cum, closed, along, lateral, ahead, step, out):
    """Points on the path and its heading from `step` behind (same lateral) to `step` ahead (`ahead`)."""
    for k in range(len(along)):
        out[k, 0], out[k, 1] = _lane_point(center, inner, outer, cum, closed, along[k], lateral[k])
        fx, fy = _lane_point(center, inner, outer, cum, closed, along[k] + step, ahead[k])
        bx, by = _lane_point(center, inner, outer, cum, closed, along[k] - step, lateral[k])
        out[k, 2] = np.arctan2(fy - by, fx - bx)


@nb.njit(cache=True, inline="always")
def _lane_change(lane, change_at, t, duration):
    """Lateral position of a bot at time t: an S-curve (smoothstep) from its lane to the other."""
    u = min(max((t - change_at) / duration, 0.0), 1.0)
    return lane - 2.0 * lane * u * u * (3.0 - 2.0 * u)


@nb.njit(cache=True)
def _drive(center, inner, outer, cum, closed, start, lane, change_at, elapsed, speed, duration, along, lateral,
           poses):
    length = cum[-1]
    step = 0.05
    for k in range(len(start)):
        s = start[k] + speed * elapsed
        now = _lane_change(lane[k], change_at[k], elapsed, duration)
        ahead = _lane_change(lane[k], change_at[k], elapsed + step / speed, duration) if speed > 0 else now
        along[k] = s % length if closed else s
        lateral[k] = now
        poses[k, 0], poses[k, 1] = _lane_point(center, inner, outer, cum, closed, s, now)
        fx, fy = _lane_point(center, inner, outer, cum, closed, s + step, ahead)
        bx, by = _lane_point(center, inner, outer, cum, closed, s - step, now)
        poses[k, 2] = np.arctan2(fy - by, fx - bx)


@nb.njit(cache=True)
def _describe(center, inner, outer, cum, closed, along, poses, sizes, left, from_centre, view_points, order):
    for k in range(len(along)):  # a stable insertion sort: a handful of objects
        order[k] = k
        m = k
        while m > 0 and along[order[m - 1]] > along[k]:
            order[m] = order[m - 1]
            m -= 1
        order[m] = k
    for k in range(len(along)):
        cx, cy = _lane_point(center, inner, outer, cum, closed, along[k], 0.0)
        fx, fy = _lane_point(center, inner, outer, cum, closed, along[k] + 0.05, 0.0)
        bx, by = _lane_point(center, inner, outer, cum, closed, along[k] - 0.05, 0.0)
        ox, oy = poses[k, 0] - cx, poses[k, 1] - cy
        left[k] = (fx - bx) * oy - (fy - by) * ox > 0
        from_centre[k] = np.hypot(ox, oy)
        c, s = np.cos(poses[k, 2]), np.sin(poses[k, 2])
        hl, hw = 0.5 * sizes[k, 0], 0.5 * sizes[k, 1]
        for m in range(4):
            a = 1.0 if m < 2 else -1.0
            b = 1.0 if m in (0, 3) else -1.0
            view_points[k, m, 0] = poses[k, 0] + c * a * hl - s * b * hw
            view_points[k, m, 1] = poses[k, 1] + s * a * hl + c * b * hw
        view_points[k, 4, 0], view_points[k, 4, 1] = poses[k, 0], poses[k, 1]


@nb.njit(cache=True)
def _drive_described(center, inner, outer, cum, closed, start, lane, change_at, elapsed, speed, duration, along,
                     lateral, poses, sizes, left, from_centre, view_points, order):
    first = len(along) - len(start)
    _drive(center, inner, outer, cum, closed, start, lane, change_at, elapsed, speed, duration, along[first:],
           lateral[first:], poses[first:])
    _describe(center, inner, outer, cum, closed, along, poses, sizes, left, from_centre, view_points, order)


# ------------------------------------------------------------------------------ placement
def spaced(n: int, start: float, length: float) -> np.ndarray:
    """Evenly from `start` to CLEAR_BEFORE_LINE before the line, as the reference spaces them."""
    return np.linspace(start, length - CLEAR_BEFORE_LINE, n) if n else np.zeros(0)


def scattered(along: np.ndarray, gap: float, start: float, length: float, rng: np.random.Generator) -> np.ndarray:
    """The reference's randomisation: in a random order, each moves anywhere between its neighbours
    keeping `gap` to both (the order along the track is kept)."""
    along = along.copy()
    n = len(along)
    for k in rng.permutation(n):
        lo = along[k - 1] + gap if k > 0 else start
        hi = along[k + 1] - gap if k < n - 1 else length - CLEAR_BEFORE_LINE
        if lo < hi:
            along[k] = rng.uniform(lo, hi)
    return along


def alternating(n: int) -> np.ndarray:
    return np.where(np.arange(n) % 2 == 0, INNER, OUTER).astype(float)


# -------------------------------------------------------------------------------- geometry
def rectangles_overlap(a: np.ndarray, a_size: tuple[float, float], b: np.ndarray, b_sizes: np.ndarray) -> np.ndarray:
    """Whether rectangle `a` (x, y, yaw; length, width) overlaps each of `b` (K, 3; sizes (K, 2))."""
    out = np.zeros(len(b), np.bool_)
    _overlaps(np.asarray(a, float), np.asarray(a_size, float), np.asarray(b, float).reshape(-1, 3),
              np.asarray(b_sizes, float).reshape(-1, 2), out)
    return out


@nb.njit(cache=True)
def _overlaps(a, a_size, b, b_sizes, out):
    """The separating-axis test on the four edge directions of each pair; returns how many overlap."""
    axes = np.empty((4, 2))
    hits = 0
    axes[0, 0], axes[0, 1] = np.cos(a[2]), np.sin(a[2])
    axes[1, 0], axes[1, 1] = -axes[0, 1], axes[0, 0]
    for k in range(len(b)):
        axes[2, 0], axes[2, 1] = np.cos(b[k, 2]), np.sin(b[k, 2])
        axes[3, 0], axes[3, 1] = -axes[2, 1], axes[2, 0]
        dx, dy = b[k, 0] - a[0], b[k, 1] - a[1]
        separated = False
        for j in range(4):
            x, y = axes[j, 0], axes[j, 1]
            reach_a = 0.5 * (a_size[0] * abs(axes[0, 0] * x + axes[0, 1] * y)
                             + a_size[1] * abs(axes[1, 0] * x + axes[1, 1] * y))
            reach_b = 0.5 * (b_sizes[k, 0] * abs(axes[2, 0] * x + axes[2, 1] * y)
                             + b_sizes[k, 1] * abs(axes[3, 0] * x + axes[3, 1] * y))
            if abs(dx * x + dy * y) > reach_a + reach_b:
                separated = True
                break
        out[k] = not separated
        hits += not separated
    return hits


def rectangle_corners(poses: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """(K, 4, 2) corners of rectangles (x, y, yaw; length, width)."""
    c, s = np.cos(poses[:, 2]), np.sin(poses[:, 2])
    signs = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]], float)
    local = signs[None] * (0.5 * sizes)[:, None, :]
    x = poses[:, None, 0] + c[:, None] * local[..., 0] - s[:, None] * local[..., 1]
    y = poses[:, None, 1] + s[:, None] * local[..., 0] + c[:, None] * local[..., 1]
    return np.stack([x, y], axis=-1)
