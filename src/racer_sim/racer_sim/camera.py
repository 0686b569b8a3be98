"""The front camera: a pinhole looking down at the track's ground plane, rendered by ray casting.

Every pixel's ray meets the flat ground at a fixed point in the car's frame, so those points are
computed once per camera mount (`ground_table`) and a frame is only a rotate-translate-lookup per
pixel: one compiled loop over all cars and pixels, with no per-pixel Python.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numba as nb
import numpy as np

from racer_sim.scenery import CENTER_LINE, FLOOR, SKY_HORIZON, SKY_TOP

GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)  # DeepRacer's RGB -> grayscale conversion


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


def ground_table(cam: CameraConfig) -> np.ndarray:
    """Per pixel: where its ray meets the ground in the car frame, (H, W, 3) float32.

    Channels: x forward, y left, and a sky weight (-1 for ground; 0..1 from horizon to the top of
    the image for rays that never reach the ground).
    """
    f = (cam.width / 2) / np.tan(np.radians(cam.hfov_deg) / 2)
    u = np.arange(cam.width) + 0.5
    v = np.arange(cam.height) + 0.5
    left = ((cam.width / 2 - u) / f)[None, :]
    up = ((cam.height / 2 - v) / f)[:, None]
    p = np.radians(cam.pitch_deg)
    # Ray = forward axis + left * left axis + up * up axis, with the camera pitched down by p.
    ray_x = np.cos(p) - up * np.sin(p) + 0 * left
    ray_y = left + 0 * up
    ray_z = -np.sin(p) - 0 * left + up * np.cos(p)
    hits = ray_z < -1e-3
    t = np.where(hits, cam.mount_z / np.where(hits, -ray_z, 1.0), 0.0)
    table = np.empty((cam.height, cam.width, 3), np.float32)
    table[..., 0] = cam.mount_x + t * ray_x
    table[..., 1] = t * ray_y
    elevation = np.arctan2(ray_z, np.hypot(ray_x, ray_y))
    table[..., 2] = np.where(hits, -1.0, np.clip(elevation / 0.6, 0.0, 1.0))
    return table


@nb.njit(cache=True)
def render(out: np.ndarray, poses: np.ndarray, tables: np.ndarray, labels: np.ndarray, noise: np.ndarray,
           origin: np.ndarray, resolution: float, colours: np.ndarray, grain: np.ndarray) -> None:
    """Draw every car's camera frame into `out` (N, H, W, C uint8; C = 1 grey or 3 RGB).

    `poses` (N, 3) x, y, yaw; `tables` (N, H, W, 3) from `ground_table`; `colours` (N, 7, 3) and
    `grain` (N,) come from each car's `Look`.
    """
    n, h, w, c = out.shape
    rows, cols = labels.shape
    inv = 1.0 / resolution
    g0, g1, g2 = 0.2989, 0.5870, 0.1140
    for k in range(n):
        cy, sy = np.cos(poses[k, 2]), np.sin(poses[k, 2])
        px, py = poses[k, 0] - origin[0], poses[k, 1] - origin[1]
        for i in range(h):
            for j in range(w):
                gx, gy, sky = tables[k, i, j, 0], tables[k, i, j, 1], tables[k, i, j, 2]
                if sky >= 0.0:
                    r = colours[k, SKY_HORIZON, 0] * (1 - sky) + colours[k, SKY_TOP, 0] * sky
                    g = colours[k, SKY_HORIZON, 1] * (1 - sky) + colours[k, SKY_TOP, 1] * sky
                    b = colours[k, SKY_HORIZON, 2] * (1 - sky) + colours[k, SKY_TOP, 2] * sky
                else:
                    ix = int((px + cy * gx - sy * gy) * inv)
                    iy = int((py + sy * gx + cy * gy) * inv)
                    lab = FLOOR
                    scale = 1.0
                    if 0 <= ix < cols and 0 <= iy < rows:
                        lab = labels[iy, ix]
                        if lab < CENTER_LINE:
                            scale = 1.0 + grain[k] * noise[iy, ix] * (1.0 / 127.0)
                    r = colours[k, lab, 0] * scale
                    g = colours[k, lab, 1] * scale
                    b = colours[k, lab, 2] * scale
                if c == 1:
                    out[k, i, j, 0] = np.uint8(min(255.0, max(0.0, g0 * r + g1 * g + g2 * b)))
                else:
                    out[k, i, j, 0] = np.uint8(min(255.0, max(0.0, r)))
                    out[k, i, j, 1] = np.uint8(min(255.0, max(0.0, g)))
                    out[k, i, j, 2] = np.uint8(min(255.0, max(0.0, b)))
