"""Pictures of tracks and driven lines, for people (matplotlib, written to PNG)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.patches import Polygon

from racer_core.camera import BOX_KIND
from racer_core.objects import rectangle_corners
from racer_core.scenery import OBJECT_PALETTE
from racer_core.track import Track


def draw_track(ax, track: Track) -> None:
    """Road surface, borders, dashed centre line and the start line with its driving direction."""
    road = np.vstack([track.outer, track.inner[::-1]])
    ax.fill(road[:, 0], road[:, 1], color="0.35", zorder=0)
    if track.closed:
        ax.fill(track.inner[:, 0], track.inner[:, 1], color="#6a8f4e", zorder=0)
    for border in (track.inner, track.outer):
        ax.plot(border[:, 0], border[:, 1], color="white", lw=1.5, zorder=1)
    ax.plot(track.center[:, 0], track.center[:, 1], color="#ffd84d", lw=0.8, ls=(0, (4, 4)), zorder=1)
    ax.plot(*np.stack([track.inner[0], track.outer[0]]).T, color="red", lw=2.5, zorder=2)
    (p, heading) = track.point_at(0.0)
    ax.annotate("", xy=p + 0.6 * np.array([np.cos(heading), np.sin(heading)]), xytext=p,
                arrowprops=dict(arrowstyle="->", color="red", lw=1.5), zorder=3)
    ax.set_aspect("equal")
    ax.set_facecolor("#6a8f4e")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")


def save_track_picture(track: Track, out: str | Path, title: str | None = None) -> Path:
    fig, ax = plt.subplots(figsize=(8, 6))
    draw_track(ax, track)
    ax.set_title(title or f"{track.name}: {track.length:.2f} m, width {track.median_width:.2f} m")
    return _save(fig, out)


def draw_boxes(ax, boxes: np.ndarray) -> None:
    """Obstacles and bot cars (camera.BOX_COLUMNS rows) as rectangles in their colours."""
    for quad, row in zip(rectangle_corners(boxes[:, :3], boxes[:, 3:5]), boxes, strict=True):
        colour = OBJECT_PALETTE[int(row[BOX_KIND])] / 255.0
        ax.add_patch(Polygon(quad, closed=True, facecolor=colour, edgecolor="white", lw=0.8, zorder=3))


def save_driven_lines(track: Track, lines: list[tuple[np.ndarray, np.ndarray]], out: str | Path,
                      title: str = "", vmax: float = 4.0, boxes: np.ndarray | None = None) -> Path:
    """Driven paths over the track, coloured by speed; `lines` holds (xy (T, 2), speed (T,)) pairs;
    `boxes`: the obstacles and bots (where they stood at the end)."""
    fig, ax = plt.subplots(figsize=(9, 6.5))
    draw_track(ax, track)
    if boxes is not None and len(boxes):
        draw_boxes(ax, boxes)
    collection = None
    for xy, speed in lines:
        if len(xy) < 2:
            continue
        segs = np.stack([xy[:-1], xy[1:]], axis=1)
        collection = LineCollection(segs, cmap="plasma", norm=plt.Normalize(0, vmax), lw=2, zorder=4)
        collection.set_array(np.asarray(speed[:-1]))
        ax.add_collection(collection)
    if collection is not None:
        fig.colorbar(collection, ax=ax, label="speed (m/s)")
    ax.set_title(title or track.name)
    return _save(fig, out)


def _save(fig, out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
