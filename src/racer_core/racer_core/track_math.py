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


@nb.njit(cache=True, inline="always")
def _in_quad(px: float, py: float, q: np.ndarray) -> bool:
    """Crossing-number test of P against the 4-point polygon q (works for non-convex quads)."""
    inside = False
    j = 3
    for i in range(4):
        yi = q[i, 1]
        yj = q[j, 1]
        if (yi > py) != (yj > py):
            x_cross = q[i, 0] + (py - yi) * (q[j, 0] - q[i, 0]) / (yj - yi)
            if px < x_cross:
                inside = not inside
        j = i
    return inside


@nb.njit(cache=True)
def on_road(inner: np.ndarray, outer: np.ndarray, px: float, py: float, hint: int, closed: bool) -> bool:
    """Whether P lies on the road: inside one of the quads between consecutive border points.

    The road is taken quad by quad rather than as one polygon so tracks that cross themselves work.
    With a hint (a segment index near P) only nearby quads are tested.
    """
    m = inner.shape[0] - 1
    q = np.empty((4, 2))
    lo, hi = 0, m
    if hint >= 0:
        lo, hi = hint - 4, hint + 5
    for k in range(lo, hi):
        i = k
        if closed:
            i %= m
        elif i < 0 or i >= m:
            continue
        q[0, 0], q[0, 1] = inner[i, 0], inner[i, 1]
        q[1, 0], q[1, 1] = inner[i + 1, 0], inner[i + 1, 1]
        q[2, 0], q[2, 1] = outer[i + 1, 0], outer[i + 1, 1]
        q[3, 0], q[3, 1] = outer[i, 0], outer[i, 1]
        if _in_quad(px, py, q):
            return True
    return False


def segments_cross(a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """Vectorised proper-intersection test of segment pairs (rows); used to validate borders."""

    def orient(p, q, r):
        return (q[:, 0] - p[:, 0]) * (r[:, 1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (r[:, 0] - p[:, 0])

    d1 = orient(b0, b1, a0)
    d2 = orient(b0, b1, a1)
    d3 = orient(a0, a1, b0)
    d4 = orient(a0, a1, b1)
    return (d1 * d2 < 0) & (d3 * d4 < 0)
