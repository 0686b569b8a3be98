"""STAND-IN for a Gazebo Harmonic world, for tests only: Gazebo cannot be installed here.

It serves racer's `WorldLink` (racer_agent.gazebo.link) with the documented behaviour of the real
services and systems (see ../shared/reference/gazebo-harmonic.md), including the parts that trip
clients up:
- the world starts paused; EVERY control request sets `pause` to its own value, so a request that
  leaves `pause` false sets the world running;
- `multi_step` counts only while paused, and the reply comes when the request is queued, before
  any step has run (a worker thread runs the steps a little later);
- time is integer nanoseconds; the camera renders when the sim time reaches its due time, one
  period after the last due time, in another thread, stamped with the sim time it shows;
- ground-truth odometry is published every 1/(rate) s of sim time; `/clock` every iteration;
- `set_pose` moves the model but keeps its velocity.
The car itself is racer's embedded vehicle model and camera, stepped per physics iteration.
Every request is recorded in `requests`, in order.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from racer_agent.gazebo.link import Inbox, Odometry
from racer_core import commands, vehicle
from racer_core import gazebo_interface as gz
from racer_core.camera import CameraConfig
from racer_core.gazebo_interface import read_world
from racer_core.simulator import Simulator
from racer_core.track import Track


class GazeboStandIn:
    def __init__(self, track: Track, world_file, camera: CameraConfig, render_delay_s: float = 0.002):
        self.inbox = Inbox()
        self.requests: list[tuple] = []
        self.sim = Simulator(track, 1, camera)
        self.vehicle = self.sim.vehicle
        info = read_world(world_file)
        self.step_ns = gz.whole_ns(info.physics_step)  # Gazebo keeps whole nanoseconds
        self.models = {gz.CAR, *(gz.object_model(k) for k in range(info.objects))}
        self.object_poses: dict[str, tuple[float, float, float]] = {}  # where set_pose put each object model
        self.camera_period_ns = 1e9 / self.vehicle.control_hz
        self.odometry_period_ns = self.camera_period_ns / gz.ODOMETRY_PER_FRAME
        self.render_delay_s = render_delay_s
        self.sim_ns = 0
        self.paused = True
        self.pending = 0
        self.command = np.zeros((1, 2))  # steer, speed
        self.camera_on = True  # False: the camera stalls (no more frames)
        self.alive = True  # False: the server is gone (requests fail, nothing moves)
        self._next_frame_ns = 0.0
        self._last_odometry_ns = -math.inf
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # a request came: the paused world may have steps to run
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self.inbox.put_clock(0)

    # WorldLink ------------------------------------------------------------------------------
    def control(self, *, pause: bool, multi_step: int = 0) -> bool:
        self.requests.append(("control", pause, multi_step))
        if not self.alive:
            return False
        with self._lock:
            self.paused = pause
            if pause and multi_step > 0:
                self.pending += multi_step
        self._wake.set()
        return True  # queued: the steps have not run yet

    def set_pose(self, name: str, x: float, y: float, z: float, yaw: float) -> bool:
        self.requests.append(("set_pose", name, round(x, 6), round(y, 6), round(z, 6), round(yaw, 6)))
        if not self.alive or name not in self.models:
            return False
        if name != gz.CAR:  # an obstacle or bot: the stand-in only remembers where it is
            self.object_poses[name] = (x, y, yaw)
            return True
        with self._lock:
            s = self.sim.state[0]
            s[vehicle.X], s[vehicle.Y], s[vehicle.YAW] = x, y, yaw  # velocity kept, as Gazebo does
        return True

    def drive(self, linear_x: float, angular_z: float) -> None:
        self.requests.append(("drive", round(linear_x, 6), round(angular_z, 6)))
        speed, steer = commands.from_twist(linear_x, angular_z, self.vehicle)
        with self._lock:
            self.command[0] = (steer, speed)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=2)

    # the world ------------------------------------------------------------------------------
    def _run(self) -> None:
        params, h = self.vehicle.as_array(), self.step_ns * 1e-9
        while not self._stop.is_set():
            with self._lock:
                go = self.alive and (not self.paused or self.pending > 0)
                if go:
                    self.pending = max(0, self.pending - 1)
                    vehicle.advance(self.sim.state, self.command, params, h, 1)
                    self.sim_ns += self.step_ns
                    now = self.sim_ns
                    state = self.sim.state[0].copy()
            if not go:  # paused and idle: sleep until a request (an idle world must not eat a core)
                self._wake.wait(0.05)
                self._wake.clear()
                continue
            self.inbox.put_clock(now)
            if now - self._last_odometry_ns >= self.odometry_period_ns:
                self._last_odometry_ns = now
                self.inbox.put_odometry(Odometry(now, state[vehicle.X], state[vehicle.Y], state[vehicle.YAW],
                                                 state[vehicle.SPEED]))
            if now >= self._next_frame_ns:
                self._next_frame_ns += self.camera_period_ns
                if self.camera_on:
                    frame = self._render(state)
                    threading.Timer(self.render_delay_s, self.inbox.put_image, (now, frame)).start()

    def _render(self, state: np.ndarray) -> np.ndarray:
        with self._lock:  # the picture shows the pose of its own sim time
            saved = self.sim.state[0].copy()
            self.sim.state[0] = state
            frame = self.sim.render()[0].copy()
            self.sim.state[0] = saved
        return frame

    def pose(self) -> np.ndarray:
        with self._lock:
            return self.sim.state[0].copy()
