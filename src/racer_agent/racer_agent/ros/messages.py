"""Conversions every racer node shares: stamps, planar rotations and camera images.

Message types only, no rclpy. The simulator-state messages (odometry, TF, markers) are the sim
node's business and live beside it in racer_sim.
"""

from __future__ import annotations

import math

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Quaternion
from sensor_msgs.msg import Image
from std_msgs.msg import Header

CHANNELS = {"mono8": 1, "8UC1": 1, "rgb8": 3, "bgr8": 3, "8UC3": 3}


class ImageError(ValueError):
    """An Image message a racer node cannot read (encoding, size or row layout)."""


def stamp_from_ns(ns: int) -> Time:
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def ns_from_stamp(stamp: Time) -> int:
    return stamp.sec * 1_000_000_000 + stamp.nanosec


def yaw_quaternion(yaw: float) -> Quaternion:
    return Quaternion(z=math.sin(0.5 * yaw), w=math.cos(0.5 * yaw))


def quaternion_yaw(q: Quaternion) -> float:
    """Yaw of a rotation about z (all racer rotations in the odom frame are planar)."""
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


def image(frame: np.ndarray, header: Header, encoding: str) -> Image:
    h, w, c = frame.shape
    return Image(header=header, height=h, width=w, encoding=encoding, is_bigendian=0, step=w * c,
                 data=frame.tobytes())


def image_array(msg: Image) -> np.ndarray:
    """(H, W, C) uint8 view of an Image's pixels, row padding (`step` > width x channels) skipped.

    Raises ImageError for an encoding racer does not read or data that does not fit the header, so a
    node can warn and stop instead of crashing on a camera it was not built for.
    """
    channels = CHANNELS.get(msg.encoding)
    if channels is None:
        raise ImageError(f"unsupported image encoding {msg.encoding!r} (racer reads {', '.join(CHANNELS)})")
    row = msg.width * channels
    if msg.step < row or len(msg.data) < msg.step * msg.height or msg.height == 0 or msg.width == 0:
        raise ImageError(f"malformed {msg.encoding} image: {msg.width}x{msg.height}, step {msg.step}, "
                         f"{len(msg.data)} bytes")
    rows = np.frombuffer(msg.data, np.uint8, count=msg.step * msg.height).reshape(msg.height, msg.step)
    return rows[:, :row].reshape(msg.height, msg.width, channels)
