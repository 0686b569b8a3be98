"""Compiled geometry kernels over a track polyline.

They take plain arrays so the simulator's step can call them without Python objects in between;
`racer_core.track.Track` is the readable API over them. A polyline here is `(M + 1, 2)` points for M
segments (a closed track repeats its first point last).
"""

from __future__ import annotations

import numba as nb
import numpy as np

# How many segments either side of a hint a local search looks at before falling back to all of them.
SEARCH_WINDOW = 12


@nb.njit(cache=True, inline="always")
def _segment_closest(px: float, py: float, ax: float, ay: float, bx: float, by: float):
    """Closest point on segment AB to P as (t in [0, 1], squared distance)."""
    dx = bx - ax
    dy = by - ay
    den = dx * dx + dy * dy
    t = 0.0
    if den > 0.0:
        t = ((px - ax) * dx + (py - ay) * dy) / den
        t = min(1.0, max(0.0, t))
    qx = ax + t * dx - px
    qy = ay + t * dy - py
    return t, qx * qx + qy * qy


@nb.njit(cache=True)
def closest_segment(line: np.ndarray, px: float, py: float, hint: int, closed: bool, reach: float):
    """Index and parameter of the segment of `line` nearest to P.

    With a hint (the previous answer) only nearby segments are searched, which is both faster and
    right where a track crosses itself; if nothing there lies within `reach`, all segments are.
    """
    m = line.shape[0] - 1
    best_i = -1
    best_t = 0.0
    best_d = np.inf
    if hint >= 0:
        for k in range(-SEARCH_WINDOW, SEARCH_WINDOW + 1):
            i = hint + k
            if closed:
                i %= m
            elif i < 0 or i >= m:
                continue
            t, d = _segment_closest(px, py, line[i, 0], line[i, 1], line[i + 1, 0], line[i + 1, 1])
            if d < best_d:
                best_i, best_t, best_d = i, t, d
        if best_d <= reach * reach:
            return best_i, best_t, np.sqrt(best_d)
    for i in range(m):
        t, d = _segment_closest(px, py, line[i, 0], line[i, 1], line[i + 1, 0], line[i + 1, 1])
        if d < best_d:
            best_i, best_t, best_d = i, t, d
    return best_i, best_t, np.sqrt(best_d)


# Border segments either side of a hint that the on-road test takes as the local piece of road.
ROAD_WINDOW = 8


@nb.njit(cache=True, inline="always")
def _crosses(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> int:
    """1 if the ray from P toward +x crosses edge AB, else 0."""
    return 1 if (ay > py) != (by > py) and px < ax + (py - ay) * (bx - ax) / (by - ay) else 0


@nb.njit(cache=True, inline="always")
def _crossings(px: float, py: float, line: np.ndarray, lo: int, hi: int, m: int, closed: bool) -> int:
    """How many edges line[i] -> line[i + 1], i in lo..hi-1 (wrapped on a loop), that ray crosses."""
    count = 0
    for k in range(lo, hi):
        i = k % m if closed else k
        count += _crosses(px, py, line[i, 0], line[i, 1], line[i + 1, 0], line[i + 1, 1])
    return count


@nb.njit(cache=True)
def on_road(inner: np.ndarray, outer: np.ndarray, px: float, py: float, hint: int, closed: bool) -> bool:
    """Whether P lies on the road: inside the polygon the outer border makes with the inner one as a
    hole, as DeepRacer's road polygon (even-odd rule, so slanted or bunched border points leave no gaps).

    With a hint (a segment index near P) the polygon is the local piece of road between the borders
    from hint - ROAD_WINDOW to hint + ROAD_WINDOW + 1, closed by the two cross lines at its ends, so a
    track that crosses itself is still judged by the piece of road the car is on. Without one, the
    whole road (on a loop the two end cross lines are the same line, counted twice: no effect).
    """
    m = inner.shape[0] - 1
    if hint < 0 or (closed and 2 * ROAD_WINDOW + 2 >= m):
        lo, hi = 0, m
    else:
        lo, hi = hint - ROAD_WINDOW, hint + ROAD_WINDOW + 1
        if not closed:
            lo, hi = max(lo, 0), min(hi, m)
    a = lo % m if closed else lo
    b = hi % m if closed else hi
    count = _crossings(px, py, inner, lo, hi, m, closed) + _crossings(px, py, outer, lo, hi, m, closed)
    count += _crosses(px, py, inner[a, 0], inner[a, 1], outer[a, 0], outer[a, 1])
    count += _crosses(px, py, inner[b, 0], inner[b, 1], outer[b, 0], outer[b, 1])
    return count % 2 == 1


@nb.njit(cache=True)
def border_gap(inner: np.ndarray, outer: np.ndarray, px: float, py: float, hint: int, closed: bool,
               reach: float) -> float:
    """Distance between the inner and outer border points nearest to P (DeepRacer's track width at
    the centre-line point P)."""
    i, t, _ = closest_segment(inner, px, py, hint, closed, reach)
    ix = inner[i, 0] + t * (inner[i + 1, 0] - inner[i, 0])
    iy = inner[i, 1] + t * (inner[i + 1, 1] - inner[i, 1])
    j, u, _ = closest_segment(outer, px, py, hint, closed, reach)
    ox = outer[j, 0] + u * (outer[j + 1, 0] - outer[j, 0])
    oy = outer[j, 1] + u * (outer[j + 1, 1] - outer[j, 1])
    return np.sqrt((ix - ox) ** 2 + (iy - oy) ** 2)


def segments_cross(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """Vectorised proper-intersection test of segment pairs (rows); used to validate borders."""

    def orient(p, q, r):
        return (q[:, 0] - p[:, 0]) * (r[:, 1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (r[:, 0] - p[:, 0])

    d1 = orient(b0, b1, a0)
    d2 = orient(b0, b1, a1)
    d3 = orient(a0, a1, b0)
    d4 = orient(a0, a1, b1)
    return (d1 * d2 < 0) & (d3 * d4 < 0)
