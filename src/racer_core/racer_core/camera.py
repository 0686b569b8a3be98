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

    @property
    def focal(self) -> float:
        """Focal length in pixels (square pixels; the horizontal field of view sets it)."""
        return float((self.width / 2) / np.tan(np.radians(self.hfov_deg) / 2))

    def mount(self) -> np.ndarray:
        """(4,) float64 x, z, pitch (rad), focal (px): what the object kernel needs of a car's camera."""
        return np.array([self.mount_x, self.mount_z, np.radians(self.pitch_deg), self.focal])

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
    f = cam.focal
    up = (cam.height / 2 - (np.arange(cam.height) + 0.5)) / f
    p = np.radians(cam.pitch_deg)
    # Ray = forward axis + up * up axis (+ left * left axis), the camera pitched down by p: forward
    # (cos p, 0, -sin p) and up (sin p, 0, cos p) in the car's frame (x ahead, z up).
    ray_x = np.cos(p) + up * np.sin(p)
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


# Columns of a box row (`render_boxes`): pose on the ground, size, and which of the look's object
# colours paints it (racer_core.scenery.OBJECT_KINDS).
BOX_X, BOX_Y, BOX_YAW, BOX_LENGTH, BOX_WIDTH, BOX_HEIGHT, BOX_KIND = range(7)
BOX_COLUMNS = 7
TOP_FACE, END_FACE, SIDE_FACE = range(3)  # the shade a face gets (the look's object colours' second axis)
_NEAR = 1e-3  # m: the camera's near plane; faces are clipped there
# A box's corners are numbered 4a + 2e + z (a: back/front end, e: right/left side, z: bottom/top).
# Its faces that can face a camera above the ground, each corner cycle with its shade and its
# outward normal in the box's frame (x along its length, y to its left):
_FACES = np.array([[4, 6, 7, 5], [0, 1, 3, 2], [2, 3, 7, 6], [0, 4, 5, 1], [1, 5, 7, 3]])
_FACE_SHADES = np.array([END_FACE, END_FACE, SIDE_FACE, SIDE_FACE, TOP_FACE])
_FACE_NORMALS = np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0], [0, 0, 1.0]])


@nb.njit(cache=True)
def render_boxes(out: np.ndarray, poses: np.ndarray, mounts: np.ndarray, boxes: np.ndarray, counts: np.ndarray,
                 colours: np.ndarray, first_rows: np.ndarray, sky: np.ndarray, sky_dirty: np.ndarray,
                 depth: np.ndarray) -> None:
    """Draw boxes standing on the ground into every car's frame, after its ground rows.

    `boxes` (N, M, BOX_COLUMNS) with `counts` (N,) rows used per car; `mounts` (N, 4) from
    `CameraConfig.mount`; `colours` (N, kinds, 3 faces, C) uint8 from `Look.object_colours`.
    Each face of a box that faces the camera is clipped at the near plane, projected through the
    same pinhole `ground_table` uses and filled row by row (pixel centres inside it); each pixel's
    distance along its ray to the face's plane goes into `depth` (H, W scratch, all inf between
    calls) and the nearest face wins, so boxes hide each other correctly, and always hide the
    ground behind them. Sky pixels a box covers are kept in `sky_dirty` (N, 4: rows and columns,
    half-open) and repainted from `sky` (N, H, C) on the next frame, since the ground pass leaves
    sky rows alone.
    """
    n, h, w, c = out.shape
    cam = np.empty((8, 3))  # the corners in the camera's frame: depth (forward), left, up
    poly = np.empty((6, 3))  # a face clipped at the near plane
    screen = np.empty((6, 2))  # its vertices in pixels: column, row
    drawn = np.empty((counts.max() if n else 0, 4), np.int64)  # each box's screen bounds, to clear `depth`
    for k in range(n):
        for i in range(sky_dirty[k, 0], sky_dirty[k, 1]):  # the sky pixels boxes covered last frame
            for j in range(sky_dirty[k, 2], sky_dirty[k, 3]):
                for ch in range(c):
                    out[k, i, j, ch] = sky[k, i, ch]
        sky_dirty[k, 0], sky_dirty[k, 1], sky_dirty[k, 2], sky_dirty[k, 3] = h, 0, w, 0
        if counts[k] == 0:
            continue
        cy, sy = np.cos(poses[k, 2]), np.sin(poses[k, 2])
        mx, mz, pitch, f = mounts[k, 0], mounts[k, 1], mounts[k, 2], mounts[k, 3]
        cp, sp = np.cos(pitch), np.sin(pitch)
        ox, oy, oz = poses[k, 0] + cy * mx, poses[k, 1] + sy * mx, mz
        fx, fy, fz = cp * cy, cp * sy, -sp  # camera axes in the world: forward, left, up
        lx, ly = -sy, cy
        ux, uy, uz = sp * cy, sp * sy, cp
        tan_h, tan_v = (w / 2) / f, (h / 2) / f  # the half fields of view
        for b in range(counts[k]):
            drawn[b, 0], drawn[b, 1], drawn[b, 2], drawn[b, 3] = h, 0, w, 0
            bx, by, byaw = boxes[k, b, 0], boxes[k, b, 1], boxes[k, b, 2]
            half_l, half_w, height = 0.5 * boxes[k, b, 3], 0.5 * boxes[k, b, 4], boxes[k, b, 5]
            kind = int(boxes[k, b, 6])
            cb, sb = np.cos(byaw), np.sin(byaw)
            for m in range(8):
                a = half_l if m >= 4 else -half_l
                e = half_w if (m >> 1) & 1 else -half_w
                rx, ry, rz = bx + cb * a - sb * e - ox, by + sb * a + cb * e - oy, (m & 1) * height - oz
                cam[m, 0] = rx * fx + ry * fy + rz * fz
                cam[m, 1] = rx * lx + ry * ly
                cam[m, 2] = rx * ux + ry * uy + rz * uz
            # outside one of the view volume's side planes (or behind the camera) with all corners: unseen
            out_left = out_right = out_up = out_down = out_near = True
            for m in range(8):
                d, lf, up = cam[m, 0], cam[m, 1], cam[m, 2]
                out_near &= d < _NEAR
                out_left &= lf > d * tan_h
                out_right &= -lf > d * tan_h
                out_up &= up > d * tan_v
                out_down &= -up > d * tan_v
            if out_near or out_left or out_right or out_up or out_down:
                continue
            # the camera in the box's frame: which faces it sees
            dx, dy = ox - bx, oy - by
            px, py, pz = cb * dx + sb * dy, -sb * dx + cb * dy, oz - 0.5 * height
            for face in range(5):
                if not ((face == 0 and px > half_l) or (face == 1 and px < -half_l) or (face == 2 and py > half_w)
                        or (face == 3 and py < -half_w) or (face == 4 and pz > 0.5 * height)):
                    continue
                # the face's plane in the camera frame: normal . point = offset
                nxw = cb * _FACE_NORMALS[face, 0] - sb * _FACE_NORMALS[face, 1]
                nyw = sb * _FACE_NORMALS[face, 0] + cb * _FACE_NORMALS[face, 1]
                nzw = _FACE_NORMALS[face, 2]
                n0 = nxw * fx + nyw * fy + nzw * fz
                n1 = nxw * lx + nyw * ly
                n2 = nxw * ux + nyw * uy + nzw * uz
                q = _FACES[face, 0]
                offset = n0 * cam[q, 0] + n1 * cam[q, 1] + n2 * cam[q, 2]
                # clip at the near plane (one plane of Sutherland-Hodgman)
                count = 0
                for v in range(4):
                    a_, b_ = _FACES[face, v], _FACES[face, (v + 1) % 4]
                    da, db = cam[a_, 0], cam[b_, 0]
                    if da >= _NEAR:
                        poly[count, 0], poly[count, 1], poly[count, 2] = cam[a_, 0], cam[a_, 1], cam[a_, 2]
                        count += 1
                    if (da >= _NEAR) != (db >= _NEAR):
                        s_ = (_NEAR - da) / (db - da)
                        for axis in range(3):
                            poly[count, axis] = cam[a_, axis] + s_ * (cam[b_, axis] - cam[a_, axis])
                        count += 1
                if count < 3:
                    continue
                top, bottom = np.inf, -np.inf
                for v in range(count):
                    screen[v, 0] = w / 2 - poly[v, 1] / poly[v, 0] * f - 0.5
                    screen[v, 1] = h / 2 - poly[v, 2] / poly[v, 0] * f - 0.5
                    top, bottom = min(top, screen[v, 1]), max(bottom, screen[v, 1])
                shade = _FACE_SHADES[face]
                for i in range(max(0, int(np.ceil(top))), min(h - 1, int(np.floor(bottom))) + 1):
                    left, right = np.inf, -np.inf  # where the row's centre line crosses the polygon
                    for v in range(count):
                        ya, yb = screen[v, 1], screen[(v + 1) % count, 1]
                        if (ya <= i <= yb or yb <= i <= ya) and ya != yb:
                            x = screen[v, 0] + (i - ya) * (screen[(v + 1) % count, 0] - screen[v, 0]) / (yb - ya)
                            left, right = min(left, x), max(right, x)
                    j0, j1 = max(0, int(np.ceil(left))), min(w - 1, int(np.floor(right)))
                    if j0 > j1:
                        continue
                    vu = (h / 2 - (i + 0.5)) / f
                    row = n0 + n2 * vu
                    for j in range(j0, j1 + 1):
                        vl = (w / 2 - (j + 0.5)) / f
                        t = offset / (row + n1 * vl)  # along the pixel's ray (forward, vl, vu) to the plane
                        if t <= 0.0 or t >= depth[i, j]:
                            continue
                        depth[i, j] = t
                        for ch in range(c):
                            out[k, i, j, ch] = colours[k, kind, shade, ch]
                    drawn[b, 0], drawn[b, 1] = min(drawn[b, 0], i), max(drawn[b, 1], i + 1)
                    drawn[b, 2], drawn[b, 3] = min(drawn[b, 2], j0), max(drawn[b, 3], j1 + 1)
                    if i < first_rows[k]:
                        sky_dirty[k, 0], sky_dirty[k, 1] = min(sky_dirty[k, 0], i), max(sky_dirty[k, 1], i + 1)
                        sky_dirty[k, 2], sky_dirty[k, 3] = min(sky_dirty[k, 2], j0), max(sky_dirty[k, 3], j1 + 1)
        for b in range(counts[k]):
            for i in range(drawn[b, 0], drawn[b, 1]):
                for j in range(drawn[b, 2], drawn[b, 3]):
                    depth[i, j] = np.inf
