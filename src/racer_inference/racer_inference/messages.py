"""Conversions both ends of racer's ROS topics share: stamps, planar rotations, images out, and the
namespaces of several cars.

Message types only, no rclpy. Here, at the bottom of the ROS packages, so the simulator node
(racer_sim) and the learner's bridge to it (racer_agent) share them without either importing the
other. Reading images in is racer_inference.images; the simulator-state messages (odometry, TF,
markers) live beside the sim node in racer_sim.
"""

from __future__ import annotations

import math
from typing import List

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


def default_namespaces(num_cars: int) -> List[str]:
    """One car: no namespace (plain `camera/image_raw`); several: car_0, car_1, ..."""
    return [""] if num_cars == 1 else [f"car_{i}" for i in range(num_cars)]
