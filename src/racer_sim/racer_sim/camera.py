"""The front camera: a pinhole looking down at the track's ground plane, rendered by ray casting.

Every pixel's ray meets the flat ground at a fixed point in the car's frame, so those points are
computed once per camera mount (`ground_table`) and a frame is only a rotate-translate-lookup per
pixel: one compiled loop over all cars and pixels, with no per-pixel Python.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numba as nb
import numpy as np

from racer_sim.scenery import CENTER_LINE, FLOOR, GRAIN_ZERO, SKY_HORIZON, SKY_TOP

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


@dataclass(frozen=True)
class GroundTable:
    """Where each pixel's ray meets the ground, for one camera mount.

    Pixels whose rays reach the ground are listed (flat index and car-frame x forward, y left);
    the others see sky and get a fixed weight from horizon (0) to the top of the image (1), so a
    frame's sky is painted once per look and only ground pixels are redrawn each step.
    """

    pixels: np.ndarray  # (P,) int32 flat pixel indices of ground pixels
    ground: np.ndarray  # (P, 2) float32 car-frame hit points
    sky: np.ndarray  # (H * W,) float32, -1 for ground pixels


def ground_table(cam: CameraConfig) -> GroundTable:
    f = (cam.width / 2) / np.tan(np.radians(cam.hfov_deg) / 2)
    left = ((cam.width / 2 - (np.arange(cam.width) + 0.5)) / f)[None, :].repeat(cam.height, 0)
    up = ((cam.height / 2 - (np.arange(cam.height) + 0.5)) / f)[:, None].repeat(cam.width, 1)
    p = np.radians(cam.pitch_deg)
    # Ray = forward axis + left * left axis + up * up axis, with the camera pitched down by p.
    ray_x = np.cos(p) - up * np.sin(p)
    ray_y = left
    ray_z = -np.sin(p) + up * np.cos(p)
    hits = (ray_z < -1e-3).ravel()
    t = cam.mount_z / -ray_z.ravel()[hits]
    ground = np.stack([cam.mount_x + t * ray_x.ravel()[hits], t * ray_y.ravel()[hits]], axis=1)
    elevation = np.arctan2(ray_z, np.hypot(ray_x, ray_y)).ravel()
    sky = np.where(hits, -1.0, np.clip(elevation / 0.6, 0.0, 1.0)).astype(np.float32)
    return GroundTable(np.nonzero(hits)[0].astype(np.int32), ground.astype(np.float32), sky)


@nb.njit(cache=True)
def paint_sky(frame: np.ndarray, sky: np.ndarray, colours: np.ndarray) -> None:
    """Fill the sky pixels of one (H, W, C) frame, blending horizon to zenith colour."""
    h, w, c = frame.shape
    for p in range(h * w):
        s = sky[p]
        if s < 0:
            continue
        rgb = colours[SKY_HORIZON] * (1 - s) + colours[SKY_TOP] * s
        _put(frame, p // w, p % w, rgb[0], rgb[1], rgb[2])


@nb.njit(cache=True, inline="always")
def _put(frame, i, j, r, g, b):
    if frame.shape[2] == 1:
        v = GRAY_WEIGHTS[0] * r + GRAY_WEIGHTS[1] * g + GRAY_WEIGHTS[2] * b
        frame[i, j, 0] = np.uint8(min(255.0, max(0.0, v)))
    else:
        frame[i, j, 0] = np.uint8(min(255.0, max(0.0, r)))
        frame[i, j, 1] = np.uint8(min(255.0, max(0.0, g)))
        frame[i, j, 2] = np.uint8(min(255.0, max(0.0, b)))


@nb.njit(cache=True, fastmath=True)
def render(out: np.ndarray, poses: np.ndarray, pixels: np.ndarray, ground: np.ndarray, counts: np.ndarray,
           texels: np.ndarray, origin: np.ndarray, resolution: float, colours: np.ndarray,
           grain: np.ndarray) -> None:
    """Redraw the ground pixels of every car's frame in `out` (N, H, W, C uint8; C = 1 or 3).

    `poses` (N, >=3) x, y, yaw; per car k the first `counts[k]` entries of `pixels[k]` and
    `ground[k]` come from its `GroundTable`; `colours` (N, 7, 3) float32 and `grain` (N,) from its
    `Look`. Sky pixels are left as `paint_sky` drew them.
    """
    n, h, w, c = out.shape
    rows, cols = texels.shape
    inv = np.float32(1.0 / resolution)
    for k in range(n):
        cy, sy = np.float32(np.cos(poses[k, 2])), np.float32(np.sin(poses[k, 2]))
        px = np.float32((poses[k, 0] - origin[0]) * inv)
        py = np.float32((poses[k, 1] - origin[1]) * inv)
        gk = np.float32(grain[k] / GRAIN_ZERO)
        grey = np.empty(colours.shape[1], np.float32)  # grey frames weigh each palette colour once
        for m in range(colours.shape[1]):
            grey[m] = (GRAY_WEIGHTS[0] * colours[k, m, 0] + GRAY_WEIGHTS[1] * colours[k, m, 1]
                       + GRAY_WEIGHTS[2] * colours[k, m, 2])
        flat = out[k].reshape(h * w, c)
        for q in range(counts[k]):
            gx, gy = ground[k, q, 0] * inv, ground[k, q, 1] * inv
            ix = np.int32(px + cy * gx - sy * gy)
            iy = np.int32(py + sy * gx + cy * gy)
            lab = FLOOR
            scale = np.float32(1.0)
            if 0 <= ix < cols and 0 <= iy < rows:
                tex = texels[iy, ix]
                lab = tex & 7
                if lab < CENTER_LINE:
                    scale = np.float32(1.0) + gk * np.float32(np.int32(tex >> 3) - GRAIN_ZERO)
            p = pixels[k, q]
            if c == 1:
                flat[p, 0] = np.uint8(min(np.float32(255.0), max(np.float32(0.0), grey[lab] * scale)))
            else:
                for ch in range(3):
                    flat[p, ch] = np.uint8(min(np.float32(255.0), max(np.float32(0.0), colours[k, lab, ch] * scale)))
