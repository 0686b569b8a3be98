"""A race track: centre line with per-point inner and outer borders, parametrised by arc length.

The DeepRacer route format (`.npy`, N x 6: centre x,y, inner x,y, outer x,y in metres, loops
repeating the first row last) is the exchange format; `Track` holds the cleaned-up polylines and
answers the geometric questions the simulator and the reward parameters ask.
"""

from __future__ import annotations

import bisect
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from racer_core import track_math

# Points closer than this are one point (route files repeat points).
DUPLICATE_TOL = 1e-6
# A route file whose first and last centre points are this close is a loop.
CLOSE_TOL = 1e-3


class TrackError(ValueError):
    """A route file or track definition that cannot be used, with the reason."""


class TrackWarning(UserWarning):
    """A route file that loads but has something odd about it (the reference simulator loads it too)."""


@dataclass(frozen=True)
class Projection:
    """Where a point lies relative to the centre line."""

    segment: int  # index of the centre-line segment the point projects onto
    t: float  # position along that segment, 0..1
    distance_along: float  # arc length from the start line to the projection, metres
    distance_from_center: float  # metres, always >= 0
    is_left_of_center: bool  # in the driving direction
    track_width: float  # local road width at the projection, metres
    prev_waypoint: int  # waypoint indices bracketing the point along the centre line
    next_waypoint: int


class Track:
    """Centre line and borders as polylines of M segments ((M + 1) x 2 arrays).

    For a closed track the last point repeats the first, so segment i always runs from point i to
    point i + 1 and waypoint indices run 0..M-1. An open track has M + 1 distinct waypoints.
    """

    def __init__(self, name: str, center, inner, outer, closed: bool = True, route_rows=None):
        center, inner, outer = (np.asarray(a, dtype=np.float64) for a in (center, inner, outer))
        self.name = name
        self.closed = bool(closed)
        _check_shape(name, center, inner, outer)
        if self.closed and np.linalg.norm(center[0] - center[-1]) > DUPLICATE_TOL:
            center, inner, outer = (np.vstack([a, a[:1]]) for a in (center, inner, outer))
        self.center = np.ascontiguousarray(center)
        self.inner = np.ascontiguousarray(inner)
        self.outer = np.ascontiguousarray(outer)
        seg = np.linalg.norm(np.diff(self.center, axis=0), axis=1)
        self.cum_length = np.concatenate([[0.0], np.cumsum(seg)])
        self.length = float(self.cum_length[-1])
        self.widths = np.linalg.norm(self.inner - self.outer, axis=1)
        self.median_width = float(np.median(self.widths))
        _check_borders(name, self)
        # The centre points as the route file lists them (duplicates and a loop's closing repeat kept):
        # DeepRacer's `waypoints` and `closest_waypoints` index these rows.
        rows = self.center if route_rows is None else np.asarray(route_rows, dtype=np.float64)
        self.route_rows = np.ascontiguousarray(rows)
        self._reversed: Track | None = None
        self.route_cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(rows, axis=0), axis=1))])
        self._route_cum_list = self.route_cum.tolist()

    # ----------------------------------------------------------------------------------- shape
    @property
    def num_segments(self) -> int:
        return len(self.center) - 1

    @property
    def waypoints(self) -> np.ndarray:
        """Distinct centre-line points in driving order ((M, 2) for a loop)."""
        return self.center[:-1] if self.closed else self.center

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(min xy, max xy) over both borders."""
        pts = np.vstack([self.inner, self.outer, self.center])
        return pts.min(axis=0), pts.max(axis=0)

    def reversed(self) -> Track:
        """The same road driven the other way, from the same start line; inner stays inner (made once)."""
        if self._reversed is not None:
            return self._reversed
        if self.closed:
            order = np.r_[0, np.arange(self.num_segments - 1, -1, -1)]
        else:
            order = np.arange(self.num_segments, -1, -1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TrackWarning)  # said once, when the track was loaded
            self._reversed = Track(self.name, self.center[order], self.inner[order], self.outer[order], self.closed,
                                   route_rows=self.route_rows[::-1])
        self._reversed._reversed = self
        return self._reversed

    def route_waypoints_around(self, distance_along: float) -> tuple[int, int]:
        """DeepRacer's closest_waypoints: the route rows before and after a centre-line distance
        (duplicate rows count, the loop's closing repeat is the last index before the wrap)."""
        cum = self._route_cum_list  # a plain list: bisect is several times faster than numpy per call
        nxt = bisect.bisect_right(cum, distance_along * cum[-1] / self.length)
        prev = nxt - 1 if nxt > 0 else len(cum) - 1
        return prev, (0 if nxt >= len(cum) else nxt)

    def lane_pose(self, driving_distance: float, reverse: bool,
                  near: tuple[float, float]) -> tuple[float, float, float]:
        """The pose on the lane (halfway between the centre line and a border) nearer to `near`, at a
        distance from the start line, facing the way of travel: DeepRacer's off-track reset."""
        x, y, yaw = self.pose_at(driving_distance, reverse)
        i, _, _ = track_math.closest_segment(self.center, x, y, -1, self.closed, self.median_width)
        best = None
        for border in (self.inner, self.outer):
            j, t, _ = track_math.closest_segment(border, x, y, i, self.closed, self.median_width)
            edge = border[j] + t * (border[j + 1] - border[j])
            lane = 0.5 * (np.array([x, y]) + edge)
            gap = float(np.hypot(lane[0] - near[0], lane[1] - near[1]))
            if best is None or gap < best[0]:
                best = (gap, lane)
        return float(best[1][0]), float(best[1][1]), yaw

    # -------------------------------------------------------------------------------- queries
    def point_at(self, distance_along: float) -> tuple[np.ndarray, float]:
        """Centre-line point and heading (radians) at an arc length (wrapped on a loop)."""
        s = distance_along % self.length if self.closed else np.clip(distance_along, 0, self.length)
        i = int(np.clip(np.searchsorted(self.cum_length, s, side="right") - 1, 0, self.num_segments - 1))
        a, b = self.center[i], self.center[i + 1]
        seg = self.cum_length[i + 1] - self.cum_length[i]
        t = (s - self.cum_length[i]) / seg if seg > 0 else 0.0
        d = b - a
        return a + t * d, float(np.arctan2(d[1], d[0]))

    def along_in_direction(self, distance: float, reverse: bool) -> float:
        """Arc length measured the other way round when driving reversed (its own inverse)."""
        if not reverse:
            return distance
        return (self.length - distance) % self.length if self.closed else self.length - distance

    def pose_at(self, driving_distance: float, reverse: bool = False) -> tuple[float, float, float]:
        """(x, y, yaw) on the centre line at a distance from the start line in the driving direction,
        facing the way of travel: where a car is put at the start of an episode or after a reset."""
        point, heading = (self.reversed() if reverse else self).point_at(driving_distance)
        return float(point[0]), float(point[1]), float(heading)

    def project(self, x: float, y: float, hint: int = -1) -> Projection:
        """Project a point onto the centre line (see `Projection`)."""
        i, t, dist = track_math.closest_segment(self.center, x, y, hint, self.closed, self.median_width)
        a, b = self.center[i], self.center[i + 1]
        cross = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0])
        nxt = i + 1
        if self.closed and nxt == self.num_segments:
            nxt = 0
        return Projection(
            segment=int(i),
            t=float(t),
            distance_along=float(self.cum_length[i] + t * (self.cum_length[i + 1] - self.cum_length[i])),
            distance_from_center=float(dist),
            is_left_of_center=bool(cross > 0),
            track_width=self.width_at(i, t),
            prev_waypoint=int(i),
            next_waypoint=int(nxt),
        )

    def width_at(self, segment: int, t: float) -> float:
        """DeepRacer's track_width: from the centre-line point to the nearest inner and outer border points."""
        a, b = self.center[segment], self.center[segment + 1]
        return float(track_math.border_gap(self.inner, self.outer, *(a + t * (b - a)), segment, self.closed,
                                           self.median_width))

    def contains(self, x: float, y: float, hint: int = -1) -> bool:
        """Whether the point is on the road surface (between the borders)."""
        return bool(track_math.on_road(self.inner, self.outer, x, y, hint, self.closed))

    # ---------------------------------------------------------------------------- route files
    @classmethod
    def from_route_file(cls, path: str | Path) -> Track:
        """Read a DeepRacer route file; duplicate points are dropped, loops detected."""
        path = Path(path)
        try:
            data = np.load(path, allow_pickle=False)
        except Exception as exc:  # numpy raises several types for a broken file
            raise TrackError(f"{path}: not a readable .npy array ({exc})") from exc
        return cls.from_array(path.stem, data, source=str(path))

    @classmethod
    def from_array(cls, name: str, data, source: str | None = None) -> Track:
        """Build from an N x 6 route array (`source` names the file in errors)."""
        where = source or name
        data = np.asarray(data)
        if data.ndim != 2 or data.shape[1] != 6:
            raise TrackError(f"{where}: expected an N x 6 array (center, inner, outer x,y), got shape {data.shape}")
        if not np.issubdtype(data.dtype, np.number):
            raise TrackError(f"{where}: expected numbers, got dtype {data.dtype}")
        data = data.astype(np.float64)
        if not np.isfinite(data).all():
            rows = np.unique(np.nonzero(~np.isfinite(data))[0])
            raise TrackError(f"{where}: NaN or infinite values in rows {rows[:10].tolist()}")
        rows = data[:, :2].copy()
        keep = np.r_[True, np.linalg.norm(np.diff(data[:, :2], axis=0), axis=1) > DUPLICATE_TOL]
        data = data[keep]
        closed = len(data) > 2 and np.linalg.norm(data[0, :2] - data[-1, :2]) < CLOSE_TOL
        if closed:
            data[-1] = data[0]
        distinct = len(data) - 1 if closed else len(data)
        if distinct < (3 if closed else 2):
            raise TrackError(f"{where}: too few distinct centre points ({distinct})")
        try:
            if closed and np.linalg.norm(rows[0] - rows[-1]) > DUPLICATE_TOL:
                rows = np.vstack([rows, rows[:1]])
            return cls(name, data[:, 0:2], data[:, 2:4], data[:, 4:6], closed=closed, route_rows=rows)
        except TrackError as exc:
            raise TrackError(f"{where}: {exc}") from None

    def to_array(self) -> np.ndarray:
        """The N x 6 route array (a loop repeats its first row last, as DeepRacer's files do)."""
        return np.hstack([self.center, self.inner, self.outer])

    def save_route_file(self, path: str | Path) -> None:
        np.save(Path(path), self.to_array())


def _check_shape(name: str, center: np.ndarray, inner: np.ndarray, outer: np.ndarray) -> None:
    for label, arr in (("center", center), ("inner", inner), ("outer", outer)):
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise TrackError(f"{name}: {label} line must be N x 2, got {arr.shape}")
        if not np.isfinite(arr).all():
            raise TrackError(f"{name}: {label} line has NaN or infinite values")
    if not (len(center) == len(inner) == len(outer)):
        raise TrackError(f"{name}: center, inner and outer lines differ in length")


def _check_borders(name: str, track: Track) -> None:
    """Reject borders that cannot bound a road: zero width, or inner and outer crossing each other."""
    if track.length <= 0:
        raise TrackError(f"{name}: centre line has zero length")
    if np.any(track.widths < 0.05):
        i = int(np.argmin(track.widths))
        raise TrackError(f"{name}: road narrower than 5 cm at point {i} ({track.widths[i]:.3f} m)")
    c, inn, out = track.center, track.inner, track.outer
    d = np.diff(c, axis=0)
    d = np.vstack([d, d[-1:]])

    def side(p):
        return np.sign(d[:, 0] * (p[:, 1] - c[:, 1]) - d[:, 1] * (p[:, 0] - c[:, 0]))

    same = np.nonzero(side(inn) * side(out) > 0)[0]
    if len(same):  # some real routes do this locally; the road between the borders is still a road
        warnings.warn(f"{name}: inner and outer borders lie on the same side of the centre line at points "
                      f"{same[:20].tolist()}{' ...' if len(same) > 20 else ''}", TrackWarning, stacklevel=4)
    crossing = np.nonzero(track_math.segments_cross(inn[:-1], inn[1:], out[:-1], out[1:]))[0]
    if len(crossing):
        i = crossing[0]
        raise TrackError(f"{name}: inner and outer borders cross each other between points {i} and {i + 1}")
