"""`racer_recorder_node`: a car's topics as they go over the wire, into one MCAP file.

What `ros2 bag record` would write, for installs that have no ros2 bag (rclpy from PyPI): the
simulator's camera, camera_info, odom, path and object markers, `/tf`, the track (latched), and the
driver's `cmd_drive`, subscribed under the node's namespace. Messages are taken raw, never
deserialised, and logged at their arrival; the file is finished when the node stops (SIGINT or
SIGTERM, after LINGER_S more for what is already on the wire), so a recording cut short by Ctrl-C
is still a whole MCAP file. It logs when it has subscribed to everything (RECORDING) and the first
message of each topic (HEARD): what a command starting it waits for (node_processes.Recorder).
"""

from __future__ import annotations

import sys
import time

from ackermann_msgs.msg import AckermannDriveStamped
from nav_msgs.msg import Odometry, Path
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import MarkerArray

from racer_inference import node_support as ros_node
from racer_sim.recording import McapFile, datatype_of

STREAM = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL, reliability=ReliabilityPolicy.RELIABLE)
LINGER_S = 0.5  # stopped with the nodes it hears: their last messages are still on their way
RECORDING = "recording {count} topics to {path}"
HEARD = "first message on {topic}"
TOPICS = (("camera/image_raw", Image, STREAM), ("camera/camera_info", CameraInfo, STREAM),
          ("odom", Odometry, STREAM), ("/tf", TFMessage, STREAM), ("cmd_drive", AckermannDriveStamped, STREAM),
          ("path", Path, STREAM), ("objects/markers", MarkerArray, STREAM), ("track/markers", MarkerArray, LATCHED))


def _named(value: str) -> str | None:
    return None if value.strip() else "must name the MCAP file to write"


PARAMETERS: ros_node.ParameterTable = {
    "path": ("", "the MCAP file to write (its folder is made)", _named),
}


class RecorderNode(Node):
    def __init__(self):
        super().__init__("racer_recorder")
        p = ros_node.declare(self, PARAMETERS)
        self.file = McapFile(p["path"])
        self.heard: set[str] = set()
        for name, message_type, qos in TOPICS:
            self._subscribe(name, message_type, qos)
        self.get_logger().info(RECORDING.format(count=len(TOPICS), path=self.file.path))

    def _subscribe(self, name: str, message_type: type, qos: QoSProfile) -> None:
        datatype = datatype_of(message_type)
        holder: list = []

        def on_message(data: bytes) -> None:
            topic = holder[0].topic_name
            if topic not in self.heard:
                self.heard.add(topic)
                self.get_logger().info(HEARD.format(topic=topic))
            self.file.write(topic, datatype, data, time.time_ns())

        holder.append(self.create_subscription(message_type, name, on_message, qos, raw=True))

    def finish(self) -> None:
        path = self.file.close()
        self.get_logger().info(f"wrote {self.file.messages} messages to {path}")


def main(args: list[str] | None = None) -> int:
    return ros_node.spin_main(RecorderNode, args, "racer_recorder_node", on_exit=RecorderNode.finish,
                              linger_s=LINGER_S)


if __name__ == "__main__":
    sys.exit(main())
