"""The simulator interface `Race` drives, served by paused Gazebo worlds (one car each) stepped one
control period at a time: the third implementation beside the embedded `Simulator` and the ROS
`RosSimulator`. Several worlds (workers) are kept apart by GZ_PARTITION and stepped in parallel.

One step: publish the Twist of the action, ask `/world/<w>/control` for `pause: true, multi_step: N`
(N physics steps = one control period; every request carries `pause: true`, since a request without
it would set the world running), then wait until the clock has advanced N steps and the camera
frame rendered in this period has arrived. The control service answers when the request is queued,
not when the steps are done, and the frame is rendered in another thread, so the clock and the
frame's stamp are the only proof that the period happened. The car's pose is the ground-truth
odometry sampled at the end of the period, measured against the track by the embedded simulator's
own `TrackProbe`, so rules and rewards are one implementation whichever simulator moved the car.
In a race with objects the race lays them out and moves the bots; the client only moves the world's
object models to match (set_pose), so crashes and object params are judged by the same code too.

A reset zeroes the command and lets periods pass until the car has stopped (`set_pose` moves the
model but keeps its velocities), then sets the pose and lets one still period pass, so the first
frame shows the car at rest where it was put.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from racer_agent.gazebo.link import Odometry, WorldLink
from racer_core import gazebo_interface as gz
from racer_core import vehicle
from racer_core.camera import BOX_COLUMNS, CameraConfig
from racer_core.gazebo_interface import default_partitions, read_world
from racer_core.simulator import RemoteSimulator
from racer_core.simulator_errors import SimulatorUnavailable
from racer_core.track import Track

STOPPED = 1e-3  # m/s: still enough that the first frame after a reset is the same every time
MAX_BRAKING_S = 3.0  # sim seconds a reset waits for the car to stop before it moves it anyway


class _World:
    """One car's Gazebo world: its link, its sim time and what the client last told its car."""

    def __init__(self, link: WorldLink, spawn_deadline: float):
        self.link = link
        self.sim_ns = 0
        self.reset_ns = 0
        self.start_ns = 0  # sim time when the current period was asked for
        self.steer = 0.0  # the last commanded steering angle: odometry does not report the wheels'
        self.spawn_deadline = spawn_deadline  # the car may still be on its way in


class GazeboSimulator(RemoteSimulator):
    """N cars, each alone in its own Gazebo world (worlds kept apart by GZ_PARTITION), stepped together."""

    def __init__(self, track: Track, num_cars: int, camera: CameraConfig, world: str | Path,
                 links: list[WorldLink] | None = None, partitions: list[str] | None = None,
                 timeout_s: float = 5.0, connect_timeout_s: float = 120.0,
                 vehicle_params: vehicle.VehicleParams | None = None):
        info = read_world(world)
        if info.name != gz.WORLD:
            raise ValueError(f"the Gazebo world {world} is named {info.name!r}, racer's clients expect {gz.WORLD!r}: "
                             "generate it with `racer gazebo world`")
        super().__init__(track, num_cars, camera, vehicle_params)
        self.world_objects = info.objects
        self._object_poses: list[np.ndarray] = [np.zeros((0, 3)) for _ in range(num_cars)]  # as last set
        self.timeout_s = timeout_s
        self.steps = gz.steps_per_period(info.physics_step, self.vehicle.dt)
        self._steps_ns = self.steps * gz.whole_ns(info.physics_step)  # what N steps surely reach
        self._half_period_ns = round(self.vehicle.dt * 1e9 / 2)
        # OdometryPublisher publishes every 1/(control_hz * ODOMETRY_PER_FRAME) s: the period's last
        # sample is at most that (and a step) before its end
        self._odometry_window_ns = round(self.vehicle.dt * 1e9 / gz.ODOMETRY_PER_FRAME + info.physics_step * 1e9)
        links = links if links is not None else _transport_links(num_cars, partitions)
        if len(links) != num_cars:
            raise ValueError(f"{num_cars} cars need {num_cars} Gazebo worlds, got {len(links)}")
        deadline = time.monotonic() + connect_timeout_s
        self.worlds = [_World(link, deadline) for link in links]
        for car, w in enumerate(self.worlds):
            inbox = w.link.inbox
            clock = inbox.wait(lambda i=inbox: i.clock_ns if i.clock_ns >= 0 else None,
                               max(0.0, deadline - time.monotonic()))
            if clock is None:
                self.close()
                raise SimulatorUnavailable(f"no clock from Gazebo world {car} on {gz.CLOCK} within "
                                           f"{connect_timeout_s:g} s: is `gz sim -s {world}` running "
                                           "(same GZ_PARTITION)?")
            w.sim_ns = w.reset_ns = clock

    # ------------------------------------------------------------------- simulator interface
    def place(self, car: int, x: float, y: float, yaw: float, speed: float = 0.0) -> None:
        w = self.worlds[car]
        w.link.drive(0.0, 0.0)
        w.steer = 0.0
        for _ in range(round(MAX_BRAKING_S / self.vehicle.dt)):  # brake where it stands: set_pose keeps velocities
            self._advance([car])
            if abs(self.state[car, vehicle.SPEED]) < STOPPED:
                break
        while not w.link.set_pose(gz.CAR, float(x), float(y), 0.0, float(yaw)):
            if time.monotonic() > w.spawn_deadline:
                raise SimulatorUnavailable(f"service {gz.SET_POSE_SERVICE} refused to move {gz.CAR!r}: "
                                           "was the car spawned (ros_gz_sim create)?")
            time.sleep(0.5)
        w.spawn_deadline = 0.0  # once it is there, a refusal is an error at once
        self._advance([car])  # one still period: a frame of the car where it was put
        w.reset_ns = w.sim_ns
        self.time[car] = 0.0
        self.probe.forget(car)

    def move(self, commands: np.ndarray) -> None:
        """Every car one control period: `commands` (N, 2) steering rad, speed m/s."""
        for w, (steer, speed) in zip(self.worlds, commands, strict=True):
            drive, _ = gz.safe_drive(float(speed), float(steer), self.vehicle)
            w.steer = drive.steer if drive.speed > 0 else 0.0  # standing, the plugin keeps the wheels straight
            w.link.drive(*gz.twist_of(drive, self.vehicle))
        self._advance(range(self.num_cars))
        for car, w in enumerate(self.worlds):
            self.time[car] = (w.sim_ns - w.reset_ns) * 1e-9

    def set_objects(self, car: int, boxes: np.ndarray) -> None:
        """Move the world's object models (object_<i>) to the race's objects with set_pose, only those
        that moved since last told: the bots every period, the obstacles at a reset."""
        boxes = np.asarray(boxes, float).reshape(-1, BOX_COLUMNS)
        if len(boxes) > self.world_objects:
            raise ValueError(f"the race has {len(boxes)} objects, the Gazebo world {self.world_objects}: generate it "
                             "with the race's options (racer gazebo world TRACK --race ...)")
        last = self._object_poses[car]
        link = self.worlds[car].link
        for k, (x, y, yaw) in enumerate(boxes[:, :3]):
            if k < len(last) and np.array_equal(last[k], (x, y, yaw)):
                continue
            if not link.set_pose(gz.object_model(k), float(x), float(y), 0.0, float(yaw)):
                raise SimulatorUnavailable(f"service {gz.SET_POSE_SERVICE} refused to move {gz.object_model(k)!r}")
        self._object_poses[car] = boxes[:, :3].copy()

    def set_look(self, car: int, look, camera=None) -> None:
        raise NotImplementedError("the Gazebo world's look is its ground texture (racer gazebo world)")

    def close(self) -> None:
        for w in getattr(self, "worlds", []):
            w.link.close()

    # --------------------------------------------------------------------------- stepping
    def _advance(self, cars) -> None:
        """One control period of these cars' paused worlds (all asked first: they run in parallel),
        then adopt each world's frame and car pose."""
        for car in cars:
            w = self.worlds[car]
            w.start_ns = w.sim_ns
            if not w.link.control(pause=True, multi_step=self.steps):
                raise SimulatorUnavailable(f"service {gz.CONTROL_SERVICE} of world {car} refused to step")
        for car in cars:
            self._collect(car)

    def _collect(self, car: int) -> None:
        w = self.worlds[car]
        inbox, start = w.link.inbox, w.start_ns
        end = inbox.wait(lambda: inbox.clock_ns if inbox.clock_ns >= start + self._steps_ns else None, self.timeout_s)
        if end is None:
            raise SimulatorUnavailable(f"Gazebo world {car}'s clock stayed at {inbox.clock_ns * 1e-9:.3f} s within "
                                       f"{self.timeout_s:g} s of asking for {self.steps} steps: is the server alive?")

        def frame_of_period() -> int | None:  # one frame is due per period; older ones belong to earlier periods
            stamps = [s for s in inbox.images if start + self._half_period_ns < s <= end]
            return max(stamps) if stamps else None

        stamp = inbox.wait(frame_of_period, self.timeout_s)
        if stamp is None:
            raise SimulatorUnavailable(f"no camera frame on {gz.CAMERA_IMAGE} of world {car} for sim time "
                                       f"{end * 1e-9:.3f} s within {self.timeout_s:g} s: "
                                       "is the Sensors system rendering?")
        frame = inbox.images[stamp]
        if frame.shape != self.frames.shape[1:]:
            raise SimulatorUnavailable(f"{gz.CAMERA_IMAGE} sends {frame.shape} images, the policy expects "
                                       f"{self.frames.shape[1:]}: generate the world with the policy's camera preset")
        odometry = inbox.wait(lambda: _sample_in(inbox.odometry, max(start, end - self._odometry_window_ns), end),
                              self.timeout_s)
        if odometry is None:
            raise SimulatorUnavailable(f"no odometry on {gz.ODOMETRY} of world {car} for sim time {end * 1e-9:.3f} s "
                                       f"within {self.timeout_s:g} s")
        self.frames[car] = frame
        self._adopt(car, odometry, end)
        w.sim_ns = end

    def _adopt(self, car: int, sample: Odometry, end_ns: int) -> None:
        """The pose at the end of the period: the period's last sample, carried forward along the
        commanded arc if it was taken a little before the end (its phase is the publisher's)."""
        steer = self.worlds[car].steer
        gap = (end_ns - sample.stamp_ns) * 1e-9
        yaw_rate = sample.speed * math.tan(steer) / self.vehicle.wheelbase
        heading = sample.yaw + yaw_rate * gap / 2 + math.atan(math.tan(steer) / 2)  # mid-wheelbase slip
        s = self.state[car]
        s[vehicle.X] = sample.x + sample.speed * math.cos(heading) * gap
        s[vehicle.Y] = sample.y + sample.speed * math.sin(heading) * gap
        s[vehicle.YAW] = math.remainder(sample.yaw + yaw_rate * gap, math.tau)
        s[vehicle.SPEED], s[vehicle.STEER] = sample.speed, steer


def _transport_links(num_cars: int, partitions: list[str] | None) -> list[WorldLink]:
    """One gz-transport link per world; with several worlds each has its own GZ_PARTITION."""
    from racer_agent.gazebo.gz_transport import GzTransportLink

    if partitions is None:
        partitions = [None] if num_cars == 1 else default_partitions(num_cars)
    return [GzTransportLink(partition=p) for p in partitions]


def _sample_in(samples, start_ns: int, end_ns: int) -> Odometry | None:
    """The newest odometry sample stamped in (start, end]."""
    for sample in reversed(samples):
        if start_ns < sample.stamp_ns <= end_ns:
            return sample
    return None
