"""Simulator state as standard ROS 2 messages (camera info, odometry, TF, track, car and object
markers, object poses, path).

Pure conversions: message types only, no rclpy, so the node stays a thin adapter and the
conversions are tested on their own. Frame names come in as arguments (a namespace prefix for
several cars is the caller's business).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, Pose, PoseArray, PoseStamped, Quaternion, TransformStamped, Vector3
from nav_msgs.msg import Odometry, Path
from sensor_msgs.msg import CameraInfo
from std_msgs.msg import ColorRGBA, Header
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import Marker, MarkerArray

from racer_core.camera import BOX_HEIGHT, BOX_KIND, BOX_LENGTH, BOX_WIDTH, BOX_X, BOX_Y, BOX_YAW, CameraConfig
from racer_core.scenery import OBJECT_PALETTE
from racer_core.track import Track
from racer_core.vehicle import SPEED, STEER, YAW, VehicleParams, X, Y
from racer_inference.messages import yaw_quaternion
from racer_interfaces.msg import CarState
from racer_sim.odom_frame import Pose2D

# Optical frame convention (REP 103): z forward, x right, y down, as a rotation from camera_link.
OPTICAL_ROTATION = Quaternion(x=-0.5, y=0.5, z=-0.5, w=0.5)


@dataclass(frozen=True)
class Frames:
    map: str = "map"
    odom: str = "odom"
    base: str = "base_link"
    camera: str = "camera_link"
    optical: str = "camera_optical_frame"

    def prefixed(self, prefix: str) -> Frames:
        """Per-car frame names (`car_1/odom`, `car_1/base_link`): each car's odometry has its own
        origin; the track's map frame is shared."""
        if not prefix:
            return self
        p = prefix.rstrip("/") + "/"
        return Frames(self.map, p + self.odom, p + self.base, p + self.camera, p + self.optical)


def encoding_for(camera: CameraConfig) -> str:
    return "mono8" if camera.grayscale else "rgb8"


def camera_info(camera: CameraConfig, header: Header) -> CameraInfo:
    """Ideal pinhole intrinsics of the rendered picture (no distortion)."""
    w, h = camera.width, camera.height
    f = 0.5 * w / math.tan(math.radians(camera.hfov_deg) / 2)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    return CameraInfo(header=header, width=w, height=h, distortion_model="plumb_bob", d=[0.0] * 5,
                      k=[f, 0.0, cx, 0.0, f, cy, 0.0, 0.0, 1.0], r=[1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0],
                      p=[f, 0.0, cx, 0.0, 0.0, f, cy, 0.0, 0.0, 0.0, 1.0, 0.0])


def map_pose(state: np.ndarray) -> Pose2D:
    return float(state[X]), float(state[Y]), float(state[YAW])


def car_state(state: np.ndarray) -> CarState:
    return CarState(x=float(state[X]), y=float(state[Y]), yaw=float(state[YAW]), speed=float(state[SPEED]),
                    steering_angle=float(state[STEER]))


def pose(xy_yaw: Pose2D) -> Pose:
    x, y, yaw = xy_yaw
    return Pose(position=Point(x=x, y=y), orientation=yaw_quaternion(yaw))


def odometry(state: np.ndarray, odom_pose: Pose2D, stamp: Time, frames: Frames, wheelbase: float) -> Odometry:
    """Ground truth in the (continuous) odom frame; twist in base_link (forward speed and the bicycle's
    yaw rate)."""
    msg = Odometry(header=Header(stamp=stamp, frame_id=frames.odom), child_frame_id=frames.base)
    msg.pose.pose = pose(odom_pose)
    speed = float(state[SPEED])
    msg.twist.twist.linear.x = speed
    msg.twist.twist.angular.z = speed * math.tan(float(state[STEER])) / wheelbase
    return msg


def _transform(parent: str, child: str, stamp: Time, xy_yaw: Pose2D) -> TransformStamped:
    t = TransformStamped(header=Header(stamp=stamp, frame_id=parent), child_frame_id=child)
    t.transform.translation = Vector3(x=xy_yaw[0], y=xy_yaw[1])
    t.transform.rotation = yaw_quaternion(xy_yaw[2])
    return t


def transforms(odom_pose: Pose2D, map_to_odom: Pose2D, stamp: Time, frames: Frames,
               camera: CameraConfig) -> TFMessage:
    """map -> odom -> base_link -> camera_link -> optical frame. `camera` is the mount that took this
    state's picture: domain randomisation moves it per episode, so the camera links travel on /tf
    with the car rather than on /tf_static."""
    anchor = _transform(frames.map, frames.odom, stamp, map_to_odom)
    car = _transform(frames.odom, frames.base, stamp, odom_pose)
    mount = TransformStamped(header=Header(stamp=stamp, frame_id=frames.base), child_frame_id=frames.camera)
    mount.transform.translation = Vector3(x=camera.mount_x, z=camera.mount_z)
    pitch = math.radians(camera.pitch_deg)  # downwards = positive rotation about y
    mount.transform.rotation = Quaternion(y=math.sin(0.5 * pitch), w=math.cos(0.5 * pitch))
    optical = TransformStamped(header=Header(stamp=stamp, frame_id=frames.camera), child_frame_id=frames.optical)
    optical.transform.rotation = OPTICAL_ROTATION
    return TFMessage(transforms=[anchor, car, mount, optical])


def _points(xy: np.ndarray, z: float = 0.0) -> list[Point]:
    return [Point(x=float(x), y=float(y), z=z) for x, y in xy]


def _line(marker_id: int, name: str, kind: int, xy: np.ndarray, width: float, rgba: tuple, header: Header) -> Marker:
    m = Marker(header=header, ns=name, id=marker_id, type=kind, action=Marker.ADD, points=_points(xy, 0.005))
    m.pose.orientation.w = 1.0
    m.scale.x = width
    m.color = ColorRGBA(r=rgba[0], g=rgba[1], b=rgba[2], a=rgba[3])
    return m


def track_markers(track: Track, header: Header) -> MarkerArray:
    """Borders (white), centre line (dashed yellow) and start line (red) of the track."""
    center = track.center
    dashes = center[: len(center) - (len(center) % 2)]  # LINE_LIST pairs: every other segment drawn
    start = np.array([track.inner[0], track.outer[0]])
    return MarkerArray(markers=[
        _line(0, "border", Marker.LINE_STRIP, track.inner, 0.05, (1.0, 1.0, 1.0, 1.0), header),
        _line(1, "border", Marker.LINE_STRIP, track.outer, 0.05, (1.0, 1.0, 1.0, 1.0), header),
        _line(2, "center_line", Marker.LINE_LIST, dashes, 0.02, (1.0, 0.85, 0.0, 1.0), header),
        _line(3, "start_line", Marker.LINE_LIST, start, 0.05, (0.9, 0.1, 0.1, 1.0), header),
    ])


def car_marker(state: np.ndarray, header: Header, vehicle: VehicleParams) -> Marker:
    """A box the size of the 1/18 car at its pose."""
    m = Marker(header=header, ns="car", id=0, type=Marker.CUBE, action=Marker.ADD, pose=pose(map_pose(state)))
    m.pose.position.z = 0.05
    m.scale = Vector3(x=vehicle.wheelbase + 2 * vehicle.wheel_radius + 0.06, y=vehicle.track_width + 0.03, z=0.1)
    m.color = ColorRGBA(r=0.1, g=0.4, b=0.95, a=0.9)
    return m


def path(poses: list[tuple[float, float, float]], header: Header) -> Path:
    """The driven path from (x, y, yaw) samples."""
    return Path(header=header, poses=[
        PoseStamped(header=header, pose=Pose(position=Point(x=x, y=y), orientation=yaw_quaternion(yaw)))
        for x, y, yaw in poses])


def object_markers(boxes: np.ndarray, header: Header) -> MarkerArray:
    """Obstacles and bot cars (camera.BOX_COLUMNS rows) as boxes of their size and colour, standing on
    the ground; ids follow the objects' order (obstacles, then bots), so rviz moves rather than adds."""
    out = MarkerArray(markers=[Marker(header=header, ns="objects", action=Marker.DELETEALL)])
    for k, row in enumerate(boxes):
        m = Marker(header=header, ns="objects", id=k, type=Marker.CUBE, action=Marker.ADD,
                   pose=pose((float(row[BOX_X]), float(row[BOX_Y]), float(row[BOX_YAW]))))
        m.pose.position.z = 0.5 * float(row[BOX_HEIGHT])
        m.scale = Vector3(x=float(row[BOX_LENGTH]), y=float(row[BOX_WIDTH]), z=float(row[BOX_HEIGHT]))
        r, g, b = (float(c) / 255.0 for c in OBJECT_PALETTE[int(row[BOX_KIND])])
        m.color = ColorRGBA(r=r, g=g, b=b, a=1.0)
        out.markers.append(m)
    return out


def object_poses(boxes: np.ndarray, header: Header) -> PoseArray:
    """Where each object stands (its centre on the ground), in the objects' order."""
    return PoseArray(header=header, poses=[pose((float(r[BOX_X]), float(r[BOX_Y]), float(r[BOX_YAW])))
                                           for r in boxes])
