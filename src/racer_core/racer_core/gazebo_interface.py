"""The names and numbers racer's Gazebo world and its clients agree on, and the command conversion.

The world generator (racer_sim.gazebo_world), the bridge config (config/gz_bridge.yaml), the
Ackermann-to-Twist node and the Gazebo simulator client (racer_agent.gazebo) all read them here, so
a renamed topic cannot leave one of them behind. Likewise what a world file tells the programs that
run and step it (`read_world`) and the GZ_PARTITION of each world when several run at once.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from racer_core.commands import Drive, checked
from racer_core.vehicle import VehicleParams

WORLD = "racer"  # every generated world has this name: services are /world/racer/..., whatever the track
CAR = "car"  # the spawned car model
CAMERA_SENSOR = "front_camera"

CMD_VEL = f"/model/{CAR}/cmd_vel"  # gz.msgs.Twist into the AckermannSteering system
ODOMETRY = f"/model/{CAR}/odometry"  # gz.msgs.Odometry, ground truth (OdometryPublisher)
POSE = f"/model/{CAR}/pose"  # gz.msgs.Pose_V, the same pose as TF
WHEEL_ODOMETRY = f"/model/{CAR}/wheel_odometry"  # AckermannSteering's own, integrated from the wheels
CAMERA_IMAGE = f"/model/{CAR}/camera/image"
CAMERA_INFO = f"/model/{CAR}/camera/camera_info"  # gz-sensors' default: beside the image topic
CLOCK = "/clock"
CONTROL_SERVICE = f"/world/{WORLD}/control"  # gz.msgs.WorldControl -> gz.msgs.Boolean
SET_POSE_SERVICE = f"/world/{WORLD}/set_pose"  # gz.msgs.Pose -> gz.msgs.Boolean

ODOM_FRAME = "odom"
BASE_FRAME = "base_link"
CAMERA_FRAME = "camera_link"
CAMERA_OPTICAL_FRAME = "camera_link_optical"

STEER_P_GAIN = 20.0  # the plugin's default 1.0 turns the wheels at 0.5 rad/s: far slower than a servo
ODOMETRY_PER_FRAME = 4  # ground-truth odometry samples per camera frame


def physics_step(period: float, steps: int) -> float:
    """A physics step (s) just over `period / steps`, so `steps` iterations always reach the next frame.

    Gazebo keeps time in integer nanoseconds and renders a camera frame once the sim time reaches
    its due time: with 1/15 s cut into 60 steps of 1111111 ns, the 60th step ends 6.7 ns short and
    the frame would only come with the next control period. Half a nanosecond over the next whole
    nanosecond is safe whether Gazebo truncates or rounds the step.
    """
    return (math.floor(period * 1e9 / steps) + 1.5) * 1e-9


def whole_ns(step: float) -> int:
    """The physics step as Gazebo surely runs it: whole nanoseconds, as if it truncates."""
    return math.floor(step * 1e9 + 1e-6)


def steps_per_period(step: float, period: float) -> int:
    """How many `step`s make one control `period`; refuses a step that would miss the frame."""
    steps = max(1, round(period / step))
    if steps * whole_ns(step) < period * 1e9 - 1e-3:
        raise ValueError(f"the world's physics step {step:.10g} s makes {steps} steps end short of a "
                         f"{period:.6g} s control period: regenerate the world (racer gazebo world)")
    return steps


def steering_limit(vehicle: VehicleParams) -> float:
    """The AckermannSteering `steering_limit` giving the car's steering limit at the centre.

    The plugin bounds the turning radius at wheel_base / sin(limit), so the effective centre angle is
    atan(sin(limit)); asking for +-30 degrees takes asin(tan(30 degrees)).
    """
    return math.asin(math.tan(math.radians(vehicle.max_steer_deg)))


STOP = Drive(0.0, 0.0)


def safe_drive(speed: float, steer: float, vehicle: VehicleParams) -> tuple[Drive, str | None]:
    """The command the car is given: clamped to its limits, a stop if not finite (never a stale
    command), and the problem to warn about, if any."""
    drive, problem = checked(speed, steer, vehicle)
    return drive or STOP, problem


def twist_of(drive: Drive, vehicle: VehicleParams) -> tuple[float, float]:
    """(linear.x, angular.z) that make the AckermannSteering system drive at `drive.speed` with the
    centre steering angle `drive.steer`: omega = v tan(delta) / wheelbase."""
    return drive.speed, drive.speed * math.tan(drive.steer) / vehicle.wheelbase


def twist_from_drive(speed: float, steer: float, vehicle: VehicleParams) -> tuple[float, float]:
    """`twist_of` the `safe_drive` of a raw command."""
    return twist_of(safe_drive(speed, steer, vehicle)[0], vehicle)


@dataclass(frozen=True)
class WorldInfo:
    name: str
    physics_step: float  # s
    objects: int = 0  # obstacle and bot-car models (object_0, object_1, ...)


def object_model(index: int) -> str:
    """The world's model of an object race's object `index` (obstacles, then bots, as
    `racer_core.objects_on_track` lists them): the client moves it with set_pose."""
    return f"object_{index}"


def read_world(path: str | Path) -> WorldInfo:
    """The world's name and physics step, from the SDF file Gazebo was started with."""
    try:
        world = ET.parse(path).getroot().find("world")
        if world is None:
            raise ValueError("it has no <world> element")
        step = world.findtext("physics/max_step_size")
        if step is None:
            raise ValueError("it has no <physics><max_step_size>: generate it with `racer gazebo world`")
        objects = sum(1 for m in world.findall("model") if m.get("name", "").startswith("object_"))
        return WorldInfo(world.get("name", ""), float(step), objects)
    except (OSError, ET.ParseError, ValueError) as exc:
        raise ValueError(f"cannot read the Gazebo world {path}: {exc}") from exc


def default_partitions(num_cars: int) -> list[str]:
    """GZ_PARTITION of each world when several run: `<GZ_PARTITION or racer>_<i>` (the launch file's too)."""
    prefix = os.environ.get("GZ_PARTITION") or "racer"
    return [f"{prefix}_{i}" for i in range(num_cars)]
