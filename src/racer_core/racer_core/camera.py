"""The front camera: a pinhole looking down at the track's ground plane, rendered by ray casting.

Every pixel's ray meets the flat ground at a fixed point in the car's frame, so those points are
computed once per camera mount (`ground_table`) and a frame is only a rotate-translate-lookup per
pixel: one compiled loop over all cars and pixels, with no per-pixel Python.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numba as nb
import numpy as np

from racer_core.scenery import FLOOR, GRAIN_ZERO, TILE


@dataclass(frozen=True)
class CameraConfig:
    """Mount (relative to the car origin at mid-wheelbase), optics and output format."""

    width: int = 160
    height: int = 120
    hfov_deg: float = 120.0
    mount_x: float = 0.12  # m ahead of the car origin
    mount_z: float = 0.12  # m above the ground
    pitch_deg: float = 18.0  # downwards
    grayscale: bool = True

    @property
    def channels(self) -> int:
        return 1 if self.grayscale else 3

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, self.channels)

    def jittered(self, rng: np.random.Generator) -> CameraConfig:
        """A slightly different mount, as cars and their assembly differ (domain randomisation)."""
        return replace(self, mount_z=self.mount_z * float(rng.uniform(0.85, 1.15)),
                       pitch_deg=self.pitch_deg + float(rng.uniform(-3.0, 3.0)))


PRESETS: dict[str, CameraConfig] = {
    # The physical DeepRacer's wide-angle lens (about 120 degrees).
    "deepracer_car": CameraConfig(),
    # The reference (Gazebo) simulator's camera: 1.13 rad, 0.145 m ahead, 0.13 m up, 15 degrees down.
    "deepracer_sim": CameraConfig(hfov_deg=float(np.degrees(1.13)), mount_x=0.145, mount_z=0.13, pitch_deg=15.0),
}
DEFAULT_PRESET = "deepracer_car"


def camera_from(preset: str = DEFAULT_PRESET, **overrides) -> CameraConfig:
    if preset not in PRESETS:
        raise ValueError(f"unknown camera preset {preset!r}; known: {', '.join(PRESETS)}")
    return replace(PRESETS[preset], **overrides)


@dataclass(frozen=True)
class GroundTable:
    """Where each image row's rays meet the ground, for one camera mount.

    With no roll, a pinhole camera over flat ground sees every image row as a straight line of
    evenly spaced ground points, so a row is three numbers (car-frame x forward, y left at column
    0, y step per column) and a frame costs one add per pixel. Rows above the horizon see sky and
    get a weight from horizon (0) to the top of the image (1); they are painted once per look.
    """

    rows: np.ndarray  # (H, 3) float32: x, y at column 0, y step per column
    first_ground_row: int
    sky: np.ndarray  # (H,) float32, -1 for ground rows


def ground_table(cam: CameraConfig) -> GroundTable:
    f = (cam.width / 2) / np.tan(np.radians(cam.hfov_deg) / 2)
    up = (cam.height / 2 - (np.arange(cam.height) + 0.5)) / f
    p = np.radians(cam.pitch_deg)
    # Ray = forward axis + left * left axis + up * up axis, with the camera pitched down by p.
    ray_x = np.cos(p) - up * np.sin(p)
    ray_z = -np.sin(p) + up * np.cos(p)
    hits = ray_z < -1e-3
    t = np.where(hits, cam.mount_z / np.where(hits, -ray_z, 1.0), 0.0)
    left0 = (cam.width / 2 - 0.5) / f
    rows = np.stack([cam.mount_x + t * ray_x, t * left0, -t / f], axis=1).astype(np.float32)
    sky = np.where(hits, -1.0, np.clip(np.arctan2(ray_z, ray_x) / 0.6, 0.0, 1.0)).astype(np.float32)
    first = int(np.argmax(hits)) if hits.any() else cam.height
    return GroundTable(rows, first, sky)


@nb.njit(cache=True)
def render(out: np.ndarray, poses: np.ndarray, rows: np.ndarray, first_rows: np.ndarray, tiles: np.ndarray,
           raster_shape: tuple, origin: np.ndarray, resolution: float, luts: np.ndarray) -> None:
    """Redraw the ground rows of every car's frame in `out` (N, H, W, C uint8; C = 1 or 3).

    `poses` (N, >=3) x, y, yaw; `rows` (N, H, 3) and `first_rows` (N,) from each car's
    `GroundTable`; `tiles` from `Scenery.tiled`; `luts` (N, 256, C) from each car's
    `Look.texel_lut`. Sky rows are left as they were painted at the last change of look.
    Raster positions step along each row in 16.16 fixed point, one add per pixel.
    """
    n, h, w, c = out.shape
    n_rows, n_cols = raster_shape
    blocks_per_row = n_cols // TILE
    inv = 1.0 / resolution
    one = 1 << 16
    floor = FLOOR | (GRAIN_ZERO << 3)
    for k in range(n):
        cy, sy = np.cos(poses[k, 2]), np.sin(poses[k, 2])
        px = (poses[k, 0] - origin[0]) * inv
        py = (poses[k, 1] - origin[1]) * inv
        for i in range(first_rows[k], h):
            gx, gy, dgy = rows[k, i, 0] * inv, rows[k, i, 1] * inv, rows[k, i, 2] * inv
            fx = np.int64((px + cy * gx - sy * gy) * one)
            fy = np.int64((py + sy * gx + cy * gy) * one)
            dx = np.int64(-sy * dgy * one)
            dy = np.int64(cy * dgy * one)
            for j in range(w):
                ix = fx >> 16
                iy = fy >> 16
                tex = floor
                if 0 <= ix < n_cols and 0 <= iy < n_rows:
                    tex = tiles[((iy >> 3) * blocks_per_row + (ix >> 3)) * 64 + ((iy & 7) << 3) + (ix & 7)]
                if c == 1:
                    out[k, i, j, 0] = luts[k, tex, 0]
                else:
                    out[k, i, j, 0] = luts[k, tex, 0]
                    out[k, i, j, 1] = luts[k, tex, 1]
                    out[k, i, j, 2] = luts[k, tex, 2]
                fx += dx
                fy += dy


def paint_sky(frame: np.ndarray, table: GroundTable, sky_rows: np.ndarray) -> None:
    """Fill the sky rows of one (H, W, C) frame from per-row values (H, C)."""
    rows = slice(0, table.first_ground_row)
    frame[rows] = sky_rows[rows, None, :]
