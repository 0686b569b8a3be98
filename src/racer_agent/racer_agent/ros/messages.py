"""Conversions racer's simulator side shares: stamps, planar rotations, images out.

Message types only, no rclpy. Reading images in is racer_inference.images (it also runs on the
car); the simulator-state messages (odometry, TF, markers) live beside the sim node in racer_sim.
"""

from __future__ import annotations

import math

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Quaternion
from sensor_msgs.msg import Image
from std_msgs.msg import Header


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
