"""A car on ROS topics shown in racer's live view (`racer drive --monitor`, `racer sim --monitor`).

The simulator node stays free of the monitor: this listener, in the command's own process, takes
the car's `camera/image_raw` and `car_marker` (its pose on the map, which the node publishes while
someone listens) and hands them to racer_agent's Monitor, as the trainer does with its cars.
"""

from __future__ import annotations

import numpy as np
import yaml
from rclpy.node import Node
from sensor_msgs.msg import Image
from visualization_msgs.msg import Marker

from racer_agent.monitor import Monitor
from racer_core.builtin_tracks import load as load_track
from racer_inference.messages import quaternion_yaw
from racer_sim.node_processes import NodeProcesses
from racer_sim.resources import share_file

CHANNELS = {"mono8": 1, "rgb8": 3}


def frame_of(msg: Image) -> np.ndarray | None:
    """The picture as an (H, W, C) array, None for an encoding the live view does not show."""
    channels = CHANNELS.get(msg.encoding)
    if channels is None or msg.step != msg.width * channels:
        return None
    return np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.width, channels)


class RosLiveView:
    """Subscribes `node` to one car's camera and pose; each pose, when the monitor is due, is shown
    with the latest picture."""

    def __init__(self, node: Node, monitor: Monitor):
        self.monitor = monitor
        self.frame: np.ndarray | None = None
        self.state = np.zeros((1, 5))
        node.create_subscription(Image, "camera/image_raw", self._on_image, 5)
        node.create_subscription(Marker, "car_marker", self._on_pose, 10)

    def _on_image(self, msg: Image) -> None:
        if self.monitor.due():  # a picture is only decoded when it would be shown
            self.frame = frame_of(msg)

    def _on_pose(self, msg: Marker) -> None:
        p = msg.pose
        self.state[0, :3] = p.position.x, p.position.y, quaternion_yaw(p.orientation)
        if self.frame is not None and self.monitor.due():
            self.monitor.cars(self.frame[None], self.state)


def watch_node(nodes: NodeProcesses, command: list[str], address: str, track: str | None,
               namespace: str = "") -> int:
    """`racer sim --monitor`: the simulator node `command` (on `track`, else sim.yaml's) run in the
    foreground by `nodes`, shown live while it runs."""
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor

    from racer_agent.monitor import open_monitor

    if not track:
        params = yaml.safe_load(share_file("racer_sim", "config", "sim.yaml").read_text())
        track = params["/**"]["ros__parameters"]["track"]
    live = open_monitor(address, load_track(track))
    context = Context()
    rclpy.init(context=context, signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
    node = Node("racer_live_view", namespace=namespace, context=context, start_parameter_services=False)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    RosLiveView(node, live)
    try:
        return nodes.run(command, tick=lambda: executor.spin_once(timeout_sec=0.1))
    finally:
        executor.shutdown(timeout_sec=0)
        node.destroy_node()
        rclpy.try_shutdown(context=context)
        live.close()
