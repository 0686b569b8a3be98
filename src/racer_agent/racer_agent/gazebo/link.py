"""What the Gazebo client needs from a running world, as one small interface: two services, one
command topic, and an inbox of the camera frames, odometry and clock the world publishes.

`GzTransportLink` (gz_transport.py) implements it with Gazebo's own Python bindings inside racer's
Docker image; the tests run the client against a stand-in of the same services. Keeping the link
this narrow is what lets one stepping algorithm be tested where Gazebo cannot run.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True)
class Odometry:
    """One ground-truth sample of the car (OdometryPublisher): map-frame pose and forward speed."""

    stamp_ns: int
    x: float
    y: float
    yaw: float
    speed: float


class Inbox:
    """The latest messages of the world, filled by transport threads and waited on by the client."""

    def __init__(self, keep: int = 8):
        self._changed = threading.Condition()
        self.clock_ns = -1
        self.images: dict[int, np.ndarray] = {}
        self.odometry: deque[Odometry] = deque(maxlen=4 * keep)
        self._keep = keep

    def put_clock(self, stamp_ns: int) -> None:
        with self._changed:
            self.clock_ns = max(self.clock_ns, stamp_ns)
            self._changed.notify_all()

    def put_image(self, stamp_ns: int, frame: np.ndarray) -> None:
        with self._changed:
            self.images[stamp_ns] = frame
            while len(self.images) > self._keep:  # only the newest few can still be waited for
                del self.images[min(self.images)]
            self._changed.notify_all()

    def put_odometry(self, sample: Odometry) -> None:
        with self._changed:
            self.odometry.append(sample)
            self._changed.notify_all()

    def wait(self, ready: Callable[[], T | None], timeout_s: float) -> T | None:
        """The first non-None answer of `ready()` (called with the inbox locked), or None at the timeout."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while (answer := ready()) is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)
            return answer


class WorldLink(Protocol):
    """Gazebo's world-control services and the car's command topic (racer_core.gazebo_interface names)."""

    inbox: Inbox

    def control(self, *, pause: bool, multi_step: int = 0) -> bool:
        """`/world/<w>/control` (gz.msgs.WorldControl): answered when queued, before the steps run."""

    def set_pose(self, name: str, x: float, y: float, z: float, yaw: float) -> bool:
        """`/world/<w>/set_pose` (gz.msgs.Pose): moves a model, keeps its velocities."""

    def drive(self, linear_x: float, angular_z: float) -> None:
        """gz.msgs.Twist on the car's cmd_vel."""

    def close(self) -> None: ...

