"""What the ground looks like: a label raster of the track plus a palette that colours it.

Labels (not colours) are rasterised once per track so that per-episode domain randomisation only
changes a small palette, and many cars with different looks share one raster in a batched render.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from racer_core.track import Track

FLOOR, ASPHALT, EDGE_LINE, CENTER_LINE, START_LINE, SKY_TOP, SKY_HORIZON = range(7)
NUM_COLOURS = 7

# RGB, 0..255: grass-green floor, grey asphalt, white lines, yellow dashes, blue-grey sky.
GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)  # DeepRacer's RGB -> grayscale conversion

BASE_PALETTE = np.array([
    [86, 122, 64], [70, 70, 74], [235, 235, 235], [230, 200, 60], [240, 240, 240],
    [120, 160, 215], [200, 215, 230],
], dtype=np.float32)

# What stands on the track, by the kind index a box row carries (racer_core.camera.BOX_KIND): the
# reference's brown box (#7b614f), its dark grey bot car (#282828), and a racer car in a race of models.
OBJECT_KINDS = ("box", "bot_car", "racer_car")
OBJECT_PALETTE = np.array([[123, 97, 79], [40, 40, 40], [200, 60, 50]], dtype=np.float32)
FACE_SHADES = np.array([1.0, 0.9, 0.7], dtype=np.float32)  # top, ends, sides (camera.TOP_FACE, ...)

EDGE_LINE_WIDTH = 0.05  # m
CENTER_LINE_WIDTH = 0.03
DASH = 0.3  # m of paint, then as much gap
MARGIN = 3.0  # m of floor drawn around the track
MAX_RASTER_SIDE = 4096
GRAIN_ZERO = 16  # grain level that leaves a colour unchanged
TILE = 8  # raster block side for cache-friendly lookups (8 x 8 bytes = one cache line)


@dataclass
class Scenery:
    """The rasterised ground of one track (shared by every car on it)."""

    texels: np.ndarray  # (H, W) uint8: label in the low 3 bits, surface grain level (0..31) above
    origin: np.ndarray  # world (x, y) of raster cell (0, 0)
    resolution: float  # metres per cell

    @classmethod
    def from_track(cls, track: Track, resolution: float = 0.01, seed: int = 0) -> Scenery:
        lo, hi = track.bounds
        lo, hi = lo - MARGIN, hi + MARGIN
        resolution = max(resolution, float((hi - lo).max()) / MAX_RASTER_SIDE)
        w, h = (np.ceil((hi - lo) / resolution / TILE)).astype(int) * TILE + TILE
        labels = np.full((h, w), FLOOR, np.uint8)

        def px(points: np.ndarray) -> np.ndarray:
            return np.round((points - lo) / resolution * 16).astype(np.int32)  # 4 bits sub-pixel

        quads = np.stack([track.inner[:-1], track.inner[1:], track.outer[1:], track.outer[:-1]], axis=1)
        cv2.fillPoly(labels, list(px(quads)), ASPHALT, lineType=cv2.LINE_8, shift=4)
        thick = max(1, round(EDGE_LINE_WIDTH / resolution))
        for border in (track.inner, track.outer):
            cv2.polylines(labels, [px(border)], track.closed, EDGE_LINE, thick, cv2.LINE_8, shift=4)
        dashes = [px(seg) for seg in _dashes(track)]
        cv2.polylines(labels, dashes, False, CENTER_LINE, max(1, round(CENTER_LINE_WIDTH / resolution)),
                      cv2.LINE_8, shift=4)
        cv2.line(labels, tuple(px(track.inner[0])), tuple(px(track.outer[0])), START_LINE, thick, cv2.LINE_8, shift=4)
        rng = np.random.default_rng(seed)
        coarse = rng.normal(0, 1, (h // 4 + 1, w // 4 + 1)).astype(np.float32)
        grain = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
        grain += rng.normal(0, 0.5, (h, w)).astype(np.float32)
        level = np.clip(np.round(grain * 5 + GRAIN_ZERO), 0, 31).astype(np.uint8)
        return cls(labels | (level << 3), lo.astype(np.float64), float(resolution))

    @property
    def labels(self) -> np.ndarray:
        return self.texels & 7

    def tiled(self) -> np.ndarray:
        """Texels in TILE x TILE blocks, each block one cache line, flattened.

        An image row crosses the raster in any direction; with blocks, neighbouring pixels mostly
        read the same cache line instead of a new raster row each.
        """
        h, w = self.texels.shape
        blocks = self.texels.reshape(h // TILE, TILE, w // TILE, TILE).swapaxes(1, 2)
        return np.ascontiguousarray(blocks).reshape(-1)


def _dashes(track: Track) -> list[np.ndarray]:
    """Centre-line dash polylines, DASH metres of paint then DASH of gap."""
    s = track.cum_length
    out = []
    for start in np.arange(0.0, track.length - DASH, 2 * DASH):
        stops = np.linspace(start, start + DASH, 4)
        out.append(np.stack([np.interp(stops, s, track.center[:, 0]), np.interp(stops, s, track.center[:, 1])], axis=1))
    return out


@dataclass(frozen=True)
class Look:
    """One episode's appearance: palette, light and grain. `Look()` is the undisturbed default."""

    palette: np.ndarray = field(default_factory=BASE_PALETTE.copy)
    gain: float = 1.0  # overall brightness
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)  # light colour
    grain: float = 0.15  # surface texture strength, fraction of the colour
    objects: np.ndarray = field(default_factory=OBJECT_PALETTE.copy)  # (kinds, 3) RGB of boxes and cars

    @classmethod
    def random(cls, rng: np.random.Generator) -> Look:
        """Domain randomisation: every colour, the light and the grain vary per episode."""
        palette = BASE_PALETTE * rng.uniform(0.7, 1.3, (NUM_COLOURS, 3)).astype(np.float32)
        palette = np.clip(palette, 0, 255)
        gain, tint = float(rng.uniform(0.6, 1.3)), tuple(rng.uniform(0.85, 1.15, 3).tolist())
        grain = float(rng.uniform(0.0, 0.4))
        objects = np.clip(OBJECT_PALETTE * rng.uniform(0.6, 1.4, OBJECT_PALETTE.shape), 0, 255).astype(np.float32)
        return cls(palette=palette, gain=gain, tint=tint, grain=grain, objects=objects)

    def colours(self) -> np.ndarray:
        """The palette with light applied, (NUM_COLOURS, 3) float32."""
        return (self.palette * self.gain * np.asarray(self.tint, np.float32)).astype(np.float32)

    def texel_lut(self, grayscale: bool) -> np.ndarray:
        """Final pixel value for every possible texel byte, (256, C) uint8: the render's only colour work."""
        texel = np.arange(256)
        label = np.minimum(texel & 7, NUM_COLOURS - 1)
        level = (texel >> 3) - GRAIN_ZERO
        scale = np.where(label < CENTER_LINE, 1.0 + self.grain * level / GRAIN_ZERO, 1.0)
        rgb = self.colours()[label] * scale[:, None]
        if grayscale:
            rgb = rgb @ np.array(GRAY_WEIGHTS)[:, None]
        return np.clip(np.round(rgb), 0, 255).astype(np.uint8)

    def object_colours(self, grayscale: bool) -> np.ndarray:
        """Pixel value of each object kind's faces under this light, (kinds, 3 faces, C) uint8."""
        rgb = self.objects * self.gain * np.asarray(self.tint, np.float32)
        rgb = rgb[:, None, :] * FACE_SHADES[None, :, None]
        if grayscale:
            rgb = rgb @ np.array(GRAY_WEIGHTS)[:, None]
        return np.clip(np.round(rgb), 0, 255).astype(np.uint8)

    def sky_rows(self, weights: np.ndarray, grayscale: bool) -> np.ndarray:
        """Pixel value for sky rows with the given horizon-to-zenith weights, (H, C) uint8."""
        c = self.colours()
        rgb = c[SKY_HORIZON] * (1 - weights[:, None]) + c[SKY_TOP] * weights[:, None]
        if grayscale:
            rgb = rgb @ np.array(GRAY_WEIGHTS)[:, None]
        return np.clip(np.round(rgb), 0, 255).astype(np.uint8)
