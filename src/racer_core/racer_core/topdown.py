"""A bird's-eye picture of the track with the cars and their paths (Gymnasium's rgb_array render)."""

from __future__ import annotations

import cv2
import numpy as np

from racer_core.camera import BOX_KIND
from racer_core.objects import rectangle_corners
from racer_core.scenery import BASE_PALETTE, OBJECT_PALETTE, Scenery
from racer_core.vehicle import VehicleParams

CAR_COLOURS = [(220, 40, 40), (40, 110, 230), (250, 160, 20), (150, 60, 200)]


class TopDownView:
    """Renders at a fixed width; the background is drawn once from the scenery raster."""

    def __init__(self, scenery: Scenery, width: int = 640, vehicle: VehicleParams | None = None):
        rows, cols = scenery.texels.shape
        self.scale = width / (cols * scenery.resolution)  # pixels per metre
        height = round(rows * width / cols)
        colours = np.clip(BASE_PALETTE, 0, 255).astype(np.uint8)
        full = colours[scenery.labels][::-1]  # raster row 0 is min y; images have y down
        self.background = cv2.resize(full, (width, height), interpolation=cv2.INTER_AREA)
        self.origin = scenery.origin
        self.height = height
        v = vehicle or VehicleParams()
        half_length, half_width = 0.14 * v.wheelbase / 0.164, 0.09
        self.car_outline = np.array([[1, 1], [1, -1], [-1, -1], [-1, 1]]) * (half_length, half_width)

    def draw_boxes(self, img: np.ndarray, boxes: np.ndarray) -> None:
        """Obstacles and bot cars as filled rectangles in their colours, outlined so they show on any ground."""
        corners = rectangle_corners(boxes[:, :3], boxes[:, 3:5])
        for k, quad in enumerate(corners):
            colour = tuple(int(v) for v in OBJECT_PALETTE[int(boxes[k, BOX_KIND])])
            pts = np.round(self.to_pixels(quad) * 4).astype(np.int32)
            cv2.fillPoly(img, [pts], colour, cv2.LINE_AA, shift=2)
            cv2.polylines(img, [pts], True, (255, 255, 255), 1, cv2.LINE_AA, shift=2)

    def to_pixels(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64)
        px = (xy[..., 0] - self.origin[0]) * self.scale
        py = self.height - (xy[..., 1] - self.origin[1]) * self.scale
        return np.stack([px, py], axis=-1)

    def draw(self, poses: np.ndarray, paths: list[list[tuple[float, float]]],
             boxes: np.ndarray | None = None) -> np.ndarray:
        """The cars (and their paths) over the track; `boxes` (K, camera.BOX_COLUMNS): what stands on it."""
        img = self.background.copy()
        if boxes is not None and len(boxes):
            self.draw_boxes(img, boxes)
        for k, (pose, path) in enumerate(zip(poses, paths, strict=False)):
            colour = CAR_COLOURS[k % len(CAR_COLOURS)]
            if len(path) > 1:
                pts = np.round(self.to_pixels(np.array(path)) * 4).astype(np.int32)
                cv2.polylines(img, [pts], False, colour, 1, cv2.LINE_AA, shift=2)
            x, y, yaw = pose[:3]
            rot = np.array([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]])
            corners = self.car_outline @ rot.T + (x, y)
            cv2.fillPoly(img, [np.round(self.to_pixels(corners) * 4).astype(np.int32)], colour, cv2.LINE_AA, shift=2)
        return img
