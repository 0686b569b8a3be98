"""The 1/18 Ackermann car as an SDF model for Gazebo Harmonic, built from racer's own numbers.

Dimensions come from `VehicleParams` and the camera from a `CameraConfig` preset, so the Gazebo car
and the embedded simulator's car drive with the same geometry and look through the same lens. The
model origin is racer's car origin: mid-wheelbase, on the ground; the ground-truth odometry
(OdometryPublisher) therefore reports the pose the embedded simulator's state holds.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from racer_core import gazebo_interface as gz
from racer_core.camera import CameraConfig
from racer_core.vehicle import VehicleParams
from racer_sim.sdf import document, el, plugin, pose, values

CHASSIS = (0.26, 0.12, 0.04)  # m, box length, width, height (1/18 body without the shell)
CHASSIS_MASS = 1.2  # kg, DeepRacer with its battery
WHEEL_WIDTH = 0.025
WHEEL_MASS = 0.05
STEERING_LINK_MASS = 0.02
KINGPIN_INSET = 0.0015  # m each side: steering pivots sit just inside the wheel centres
STEERING_JOINT_LIMIT = 0.75  # rad: the inner wheel turns ~0.68 rad at 30 degrees centre steering
TYRE_MU = 1.0


def car_sdf(vehicle: VehicleParams, camera: CameraConfig, name: str = gz.CAR) -> str:
    return document(car_model(vehicle, camera, name))


def car_model(vehicle: VehicleParams, camera: CameraConfig, name: str = gz.CAR) -> ET.Element:
    r = vehicle.wheel_radius
    half_base, half_track = vehicle.wheelbase / 2, vehicle.track_width / 2
    kingpin = kingpin_width(vehicle)
    parts = [_chassis(vehicle, camera)]
    for side, sign in (("left", 1.0), ("right", -1.0)):
        steering = f"front_{side}_steering_link"
        parts += [
            _link(steering, pose(half_base, sign * kingpin / 2, r), STEERING_LINK_MASS, _box_inertia(0.01, 0.01, 0.01,
                                                                                                    STEERING_LINK_MASS)),
            _joint(f"front_{side}_steering_joint", gz.BASE_FRAME, steering, axis=(0, 0, 1),
                   limit=STEERING_JOINT_LIMIT),
            _wheel(f"front_{side}_wheel", pose(half_base, sign * half_track, r), r),
            _joint(f"front_{side}_wheel_joint", steering, f"front_{side}_wheel", axis=(0, 1, 0)),
            _wheel(f"rear_{side}_wheel", pose(-half_base, sign * half_track, r), r),
            _joint(f"rear_{side}_wheel_joint", gz.BASE_FRAME, f"rear_{side}_wheel", axis=(0, 1, 0)),
        ]
    parts += [_ackermann(vehicle, kingpin), _odometry(vehicle)]
    return el("model", *parts, name=name)


def kingpin_width(vehicle: VehicleParams) -> float:
    return vehicle.track_width - 2 * KINGPIN_INSET


def _chassis(vehicle: VehicleParams, camera: CameraConfig) -> ET.Element:
    length, width, height = CHASSIS
    z = vehicle.wheel_radius + height / 2 + 0.005  # body clear of the ground, resting on its wheels

    def box() -> ET.Element:  # an element has one parent: each use gets its own
        return el("geometry", el("box", el("size", text=CHASSIS)))

    return el(
        "link",
        el("inertial", pose(0, 0, z), el("mass", text=CHASSIS_MASS), _box_inertia(*CHASSIS, CHASSIS_MASS)),
        el("collision", pose(0, 0, z), box(), name="chassis_collision"),
        el("visual", pose(0, 0, z), box(), _colour((0.1, 0.1, 0.12)), name="chassis_visual"),
        camera_sensor(camera, vehicle),
        name=gz.BASE_FRAME,
    )


def camera_sensor(camera: CameraConfig, vehicle: VehicleParams) -> ET.Element:
    """The front camera: racer's preset mount (x ahead of the origin, z above the ground, pitched down),
    field of view and image size, one frame per control step (the lock-step trainer waits for it)."""
    image = el("image", *values(width=camera.width, height=camera.height,
                                format="L8" if camera.grayscale else "R8G8B8", anti_aliasing=1))
    optics = el("camera", *values(horizontal_fov=math.radians(camera.hfov_deg)), image,
                el("clip", *values(near=0.02, far=50.0)),
                *values(optical_frame_id=gz.CAMERA_OPTICAL_FRAME))
    return el(
        "sensor",
        pose(camera.mount_x, 0.0, camera.mount_z, 0.0, math.radians(camera.pitch_deg), 0.0),
        *values(gz_frame_id=gz.CAMERA_FRAME),
        optics,
        *values(always_on=True, update_rate=vehicle.control_hz, visualize=False, topic=gz.CAMERA_IMAGE),
        name=gz.CAMERA_SENSOR, type="camera",
    )


def _ackermann(vehicle: VehicleParams, kingpin: float) -> ET.Element:
    """Twist in, wheel and steering velocities out. No speed limiter elements: the plugin would apply
    them to the yaw rate too, and racer clamps commands itself (gazebo_interface.twist_from_drive)."""
    params = [
        *values(left_joint="front_left_wheel_joint"), *values(left_joint="rear_left_wheel_joint"),
        *values(right_joint="front_right_wheel_joint"), *values(right_joint="rear_right_wheel_joint"),
        *values(left_steering_joint="front_left_steering_joint",
                right_steering_joint="front_right_steering_joint",
                wheel_base=vehicle.wheelbase, wheel_separation=vehicle.track_width, kingpin_width=kingpin,
                wheel_radius=vehicle.wheel_radius, steering_limit=gz.steering_limit(vehicle),
                steer_p_gain=gz.STEER_P_GAIN, topic=gz.CMD_VEL, odom_topic=gz.WHEEL_ODOMETRY,
                frame_id=gz.ODOM_FRAME, child_frame_id=gz.BASE_FRAME),
    ]
    return plugin("gz-sim-ackermann-steering-system", "gz::sim::systems::AckermannSteering", params)


def _odometry(vehicle: VehicleParams) -> ET.Element:
    params = values(odom_frame=gz.ODOM_FRAME, robot_base_frame=gz.BASE_FRAME,
                    odom_publish_frequency=vehicle.control_hz * gz.ODOMETRY_PER_FRAME,
                    odom_topic=gz.ODOMETRY, tf_topic=gz.POSE, dimensions=2)
    return plugin("gz-sim-odometry-publisher-system", "gz::sim::systems::OdometryPublisher", params)


def _wheel(name: str, at: ET.Element, radius: float) -> ET.Element:
    """A wheel link, its cylinder's axis turned onto the car's y axis."""

    def cylinder() -> ET.Element:
        return el("geometry", el("cylinder", *values(radius=radius, length=WHEEL_WIDTH)))

    def across() -> ET.Element:
        return pose(0, 0, 0, -math.pi / 2, 0, 0)

    izz = WHEEL_MASS * radius ** 2 / 2
    ixx = WHEEL_MASS * (3 * radius ** 2 + WHEEL_WIDTH ** 2) / 12
    friction = el("surface", el("friction", el("ode", *values(mu=TYRE_MU, mu2=TYRE_MU))))
    return _link(name, at, WHEEL_MASS, _inertia(ixx, izz, ixx),
                 el("collision", across(), cylinder(), friction, name=f"{name}_collision"),
                 el("visual", across(), cylinder(), _colour((0.05, 0.05, 0.05)), name=f"{name}_visual"))


def _link(name: str, at: ET.Element, mass: float, inertia: ET.Element, *children: ET.Element) -> ET.Element:
    return el("link", at, el("inertial", el("mass", text=mass), inertia), *children, name=name)


def _joint(name: str, parent: str, child: str, axis: tuple, limit: float | None = None) -> ET.Element:
    bounds = el("limit", *values(lower=-limit, upper=limit, velocity=20.0)) if limit is not None else None
    return el("joint", *values(parent=parent, child=child),
              el("axis", el("xyz", text=axis, expressed_in="__model__"), bounds), name=name, type="revolute")


def _box_inertia(x: float, y: float, z: float, mass: float) -> ET.Element:
    return _inertia(mass * (y * y + z * z) / 12, mass * (x * x + z * z) / 12, mass * (x * x + y * y) / 12)


def _inertia(ixx: float, iyy: float, izz: float) -> ET.Element:
    return el("inertia", *values(ixx=ixx, iyy=iyy, izz=izz, ixy=0.0, ixz=0.0, iyz=0.0))


def _colour(rgb: tuple) -> ET.Element:
    return el("material", *values(ambient=(*rgb, 1.0), diffuse=(*rgb, 1.0), specular=(0.1, 0.1, 0.1, 1.0)))
