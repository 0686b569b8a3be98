"""racer's own track designs, generated from a few control points each.

Each design is a closed periodic cubic B-spline (curvature-continuous, like a real road), resampled
every ~0.15 m as DeepRacer's older route files are, with borders offset by half the width.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from racer_core import track_library
from racer_core.track import Track, TrackError

SPACING = 0.15  # metres between waypoints


@dataclass(frozen=True)
class TrackDesign:
    description: str
    control_points: tuple[tuple[float, float], ...]
    width: float


DESIGNS: dict[str, TrackDesign] = {
    "oval": TrackDesign(
        "Two 4 m straights joined by wide 180-degree turns; the warm-up track.",
        ((-2.5, -1.6), (0.0, -1.6), (2.5, -1.6), (4.1, -1.2), (4.1, 1.2), (2.5, 1.6), (0.0, 1.6),
         (-2.5, 1.6), (-4.1, 1.2), (-4.1, -1.2)),
        1.07,
    ),
    "circuit": TrackDesign(
        "About 20 m with a long straight, fast and slow left turns and a right-hand kink; the default.",
        ((-1.0, -2.0), (1.5, -2.0), (3.6, -1.8), (4.3, -0.4), (3.4, 0.6), (2.0, 0.7), (1.1, 1.5),
         (0.4, 2.4), (-1.0, 2.5), (-2.6, 2.1), (-3.4, 0.9), (-3.3, -1.0), (-2.6, -1.9)),
        0.9,
    ),
    "technical": TrackDesign(
        "A tight hairpin, an S-bend and a chicane on a narrow 0.76 m road.",
        ((-1.5, -2.2), (1.0, -2.2), (3.2, -2.1), (3.9, -1.2), (3.3, -0.4), (1.9, -0.3), (1.6, 0.5),
         (2.6, 1.0), (3.6, 1.6), (3.3, 2.6), (2.0, 2.7), (0.6, 1.9), (-0.6, 2.5), (-2.0, 2.6),
         (-3.4, 2.2), (-3.6, 1.2), (-2.6, 0.6), (-3.5, -0.4), (-3.4, -1.6), (-2.6, -2.2)),
        0.76,
    ),
}
DEFAULT_TRACK = "circuit"


def names() -> list[str]:
    return list(DESIGNS)


@cache
def build(name: str) -> Track:
    """The named built-in track (cached: tracks are immutable)."""
    if name not in DESIGNS:
        raise TrackError(f"unknown built-in track {name!r}; known: {', '.join(DESIGNS)}")
    design = DESIGNS[name]
    center = _resample(_bspline_loop(np.array(design.control_points)), SPACING)
    tangent = np.gradient(np.vstack([center[-2:-1], center, center[1:2]]), axis=0)[1:-1]
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    left = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1) * design.width / 2
    area = 0.5 * np.sum(center[:-1, 0] * center[1:, 1] - center[1:, 0] * center[:-1, 1])
    inside = left if area > 0 else -left  # a counter-clockwise loop has its inside on the left
    return Track(name, center, center + inside, center - inside, closed=True)


def load(track: str | Path | Track) -> Track:
    """A built-in name, a route-file path, a name in the user's track library, or a Track as is."""
    if isinstance(track, Track):
        return track
    if str(track) in DESIGNS:
        return build(str(track))
    path = Path(track)
    if path.suffix == ".npy" or path.exists():
        if not path.exists():
            raise TrackError(f"{path}: no such route file")
        return Track.from_route_file(path)
    stored = track_library.find(str(track))
    if stored is not None:
        return Track.from_route_file(stored)
    raise TrackError(f"{track!r} is neither a built-in track ({', '.join(DESIGNS)}), a route file, nor in the "
                     f"track library {track_library.library_dir()} (add it with `racer tracks import PATH` "
                     f"or `racer tracks fetch NAME`)")


def _bspline_loop(ctrl: np.ndarray, samples_per_span: int = 200) -> np.ndarray:
    """Dense points of the closed uniform cubic B-spline over `ctrl`."""
    n = len(ctrl)
    u = np.linspace(0, 1, samples_per_span, endpoint=False)
    basis = np.stack([(1 - u) ** 3, 3 * u**3 - 6 * u**2 + 4, -3 * u**3 + 3 * u**2 + 3 * u + 1, u**3], axis=1) / 6
    spans = [basis @ ctrl[[(i - 1) % n, i, (i + 1) % n, (i + 2) % n]] for i in range(n)]
    pts = np.vstack(spans)
    return np.vstack([pts, pts[:1]])


def _resample(dense: np.ndarray, spacing: float) -> np.ndarray:
    """Points at equal arc-length steps along a closed dense polyline (first point repeated last)."""
    s = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(dense, axis=0), axis=1))])
    count = max(8, round(s[-1] / spacing))
    targets = np.linspace(0, s[-1], count + 1)
    pts = np.stack([np.interp(targets, s, dense[:, 0]), np.interp(targets, s, dense[:, 1])], axis=1)
    pts[-1] = pts[0]
    return pts
