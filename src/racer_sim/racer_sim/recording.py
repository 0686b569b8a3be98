"""Runs recorded as ROS 2 messages in one MCAP file, which Foxglove and Lichtblick play and
`rosbags` and `ros2 bag` (its MCAP storage) read.

Two sources, one file format (`McapFile`):
- `McapRecording`, an evaluation (`racer evaluate --record`): each car's messages are those
  `racer_sim_node` would publish under the car's namespace, built by the same conversions
  (sim_messages): `camera/image_raw`, `camera/camera_info`, `odom`, the `/tf` tree, the drive command
  it chose (`cmd_drive`, AckermannDriveStamped, as racer's inference node sends it), `objects/markers`
  in a race with objects, and `/track/markers` once. Log times are simulation time.
- `racer_recorder_node`, what is on the wire (`racer drive --record`, `racer sim --record`): the
  same topics as the nodes publish them, subscribed raw (no deserialising) and logged at their
  arrival, as `ros2 bag record` does.

Messages are CDR (rclpy's serialisation); each schema is the message definition assembled from the
installed `.msg` files (MCAP's `ros2msg` encoding: the type's own text, then each type it uses).
"""

from __future__ import annotations

import math
import os
import re
import sys
from pathlib import Path

import numpy as np
from ackermann_msgs.msg import AckermannDriveStamped
from builtin_interfaces.msg import Time
from mcap.writer import Writer
from rclpy.serialization import serialize_message
from std_msgs.msg import Header

from racer_inference import messages
from racer_inference.messages import default_namespaces
from racer_sim import sim_messages
from racer_sim.odom_frame import OdomFrame

PRIMITIVES = {"bool", "byte", "char", "float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32",
              "int64", "uint64", "string", "wstring"}
TELEPORT_M = 0.5  # a car that moved further in one step was put back (an evaluation penalty): odom stays continuous


def message_definition(datatype: str) -> str:
    """`pkg/msg/Type`'s full definition: its .msg text, then each type it uses, depth first."""
    seen: list[str] = []
    texts: dict[str, str] = {}

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.append(name)
        package, kind = name.split("/")
        text = _msg_file(package, kind).read_text()
        texts[name] = text
        for used in _used_types(text, package):
            visit(used)

    visit(datatype.replace("/msg/", "/"))
    main, *deps = seen
    parts = [texts[main]] + [f"{'=' * 80}\nMSG: {dep}\n{texts[dep]}" for dep in deps]
    return "\n".join(part.rstrip("\n") for part in parts) + "\n"


def _msg_file(package: str, kind: str) -> Path:
    """A .msg file in a ROS installation (AMENT_PREFIX_PATH) or in this environment (the interface
    packages from PyPI install under sys.prefix/share)."""
    prefixes = [p for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p] + [sys.prefix]
    for prefix in prefixes:
        path = Path(prefix) / "share" / package / "msg" / f"{kind}.msg"
        if path.is_file():
            return path
    raise FileNotFoundError(f"no definition of {package}/msg/{kind} under {prefixes}")


def _used_types(text: str, package: str) -> list[str]:
    used = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        kind = re.split(r"[\[<\s]", line, maxsplit=1)[0]
        if kind in PRIMITIVES:
            continue
        if kind == "Header":
            used.append("std_msgs/Header")
        else:
            used.append(kind if "/" in kind else f"{package}/{kind}")
    return used


class McapFile:
    """An MCAP file of ROS 2 messages; a topic's schema and channel are registered when it first
    appears."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb")
        self._writer = Writer(self._file)
        self._writer.start(profile="ros2", library="racer")
        self._schemas: dict[str, int] = {}
        self._channels: dict[str, int] = {}
        self.messages = 0

    def write(self, topic: str, datatype: str, data: bytes, t_ns: int) -> None:
        """One serialised message of `datatype` (`pkg/msg/Type`) on `topic`, logged at `t_ns`."""
        channel = self._channels.get(topic)
        if channel is None:
            schema = self._schemas.get(datatype)
            if schema is None:
                schema = self._schemas[datatype] = self._writer.register_schema(
                    name=datatype, encoding="ros2msg", data=message_definition(datatype).encode())
            channel = self._channels[topic] = self._writer.register_channel(topic=topic, message_encoding="cdr",
                                                                            schema_id=schema)
        self._writer.add_message(channel_id=channel, log_time=t_ns, publish_time=t_ns, data=data)
        self.messages += 1

    def write_message(self, topic: str, msg, t_ns: int) -> None:
        self.write(topic, datatype_of(type(msg)), serialize_message(msg), t_ns)

    def close(self) -> Path:
        self._writer.finish()
        self._file.close()
        return self.path


class McapRecording:
    """Writes every judged step of an evaluation (`drive_laps`' `recorder`)."""

    def __init__(self, path: str | Path, num_cars: int = 1):
        self.file = McapFile(path)
        self.path = self.file.path
        self.namespaces = default_namespaces(num_cars)
        self.frames = [sim_messages.Frames().prefixed(ns) for ns in self.namespaces]
        self._odom = [OdomFrame() for _ in range(num_cars)]
        self._last: list[tuple[float, float, float] | None] = [None] * num_cars
        self._started = False
        self._camera_info = None

    def car_step(self, race, car: int, command: np.ndarray) -> None:
        """Car `car` at its judged pose: the picture it saw and the command (steer deg, speed) it chose."""
        t = round(float(race.sim_time[car]) * 1e9)  # ns of simulation time
        stamp = Time(sec=t // 10**9, nanosec=t % 10**9)
        if not self._started:
            self._write("/track/markers", sim_messages.track_markers(race.track, Header(stamp=stamp, frame_id="map")),
                        t)
            self._started = True
        camera, ns, f, state = race.camera, self._topic_prefix(car), self.frames[car], race.sim.state[car]
        pose = sim_messages.map_pose(state)
        last = self._last[car]
        if last is not None and math.hypot(pose[0] - last[0], pose[1] - last[1]) > TELEPORT_M:
            self._odom[car].teleport(last, pose)
        self._last[car] = pose
        odom_pose = self._odom[car].to_odom(pose)
        self._write("/tf", sim_messages.transforms(odom_pose, self._odom[car].map_to_odom, stamp, f, camera), t)
        self._write(ns + "odom", sim_messages.odometry(state, odom_pose, stamp, f, race.sim.vehicle.wheelbase), t)
        optical = Header(stamp=stamp, frame_id=f.optical)
        if self._camera_info is None:  # the same camera all evaluation: made once, restamped (as the node does)
            self._camera_info = sim_messages.camera_info(camera, optical)
        self._camera_info.header = optical
        self._write(ns + "camera/camera_info", self._camera_info, t)
        self._write(ns + "camera/image_raw", messages.image(race.sim.frames[car], optical,
                                                            sim_messages.encoding_for(camera)), t)
        drive = AckermannDriveStamped(header=Header(stamp=stamp, frame_id=f.base))
        drive.drive.steering_angle = math.radians(float(command[0]))
        drive.drive.speed = float(command[1])
        self._write(ns + "cmd_drive", drive, t)
        if race.objects:
            markers = sim_messages.object_markers(race.objects[car].boxes(), Header(stamp=stamp, frame_id=f.map))
            self._write(ns + "objects/markers", markers, t)

    @property
    def messages(self) -> int:
        return self.file.messages

    def close(self) -> Path:
        return self.file.close()

    def _topic_prefix(self, car: int) -> str:
        ns = self.namespaces[car]
        return f"/{ns}/" if ns else "/"

    def _write(self, topic: str, msg, t: int) -> None:
        self.file.write_message(topic, msg, t)


def datatype_of(message_type: type) -> str:
    """`pkg/msg/Type` of an rclpy message class."""
    return f"{message_type.__module__.split('.')[0]}/msg/{message_type.__name__}"  # sensor_msgs.msg._image
