"""`racer_inference_node`: an exported ONNX model drives a car from its camera.

Subscribes `camera/image_raw`, publishes `cmd_drive` (AckermannDriveStamped: speed m/s, steering
rad, + = left) once per picture. A watchdog publishes a stop command when no picture came for
`image_timeout_s`, so a stalled camera never leaves the car on its last command. The simulator
node and (through a car adapter) the physical DeepRacer are driven the same way.
"""

from __future__ import annotations

import math
import sys
import time

from ackermann_msgs.msg import AckermannDriveStamped
from rclpy.clock import Clock, ClockType
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from racer_agent.evaluation.onnx_policy import OnnxPolicy
from racer_agent.ros import node as ros_node
from racer_agent.ros.messages import ImageError, image_array

PARAMETERS: ros_node.ParameterTable = {
    "model_dir": ("", "directory with model.onnx and model_metadata.json (racer export)"),
    "image_timeout_s": (0.5, "no picture for this long: publish a stop command", ros_node.positive, True),
    "watchdog_hz": (10.0, "how often the stalled-camera check runs", ros_node.positive),
}
# The newest picture only: a late frame is worth nothing to a driver.
CAMERA_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)


class InferenceNode(Node):
    def __init__(self, **kwargs):
        super().__init__("racer_inference", **kwargs)
        self.p = ros_node.declare(self, PARAMETERS)
        self.drive_pub = self.create_publisher(AckermannDriveStamped, "cmd_drive", 10)
        self.stop()  # whatever happens next, the car's first command is a stop
        if not self.p["model_dir"]:
            raise ValueError("parameter model_dir is required (a directory written by `racer export`)")
        self.policy = OnnxPolicy(self.p["model_dir"])
        self.last_image = -math.inf
        self.stopped = True
        self.create_subscription(Image, "camera/image_raw", self._on_image, CAMERA_QOS)
        # A steady clock: on sim time a dead simulator would stop /clock and with it this watchdog.
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(1.0 / float(self.p["watchdog_hz"]), self._watchdog, clock=steady)
        self.get_logger().info(f"driving with {self.policy.path}")

    def _on_image(self, msg: Image) -> None:
        try:
            frame = image_array(msg)
        except ImageError as err:
            self.get_logger().warning(f"{err}; stopping", throttle_duration_sec=2.0)
            self.stop()
            return
        if frame.shape != self.policy.frame_shape:
            self.get_logger().warning(f"camera sends {frame.shape} pictures, the model needs "
                                      f"{self.policy.frame_shape}; stopping", throttle_duration_sec=2.0)
            self.stop()
            return
        steer_deg, speed = self.policy.actions.command(self.policy(frame[None])[0])
        self.publish(speed, math.radians(steer_deg), msg.header.stamp)
        self.last_image, self.stopped = time.monotonic(), False

    def _watchdog(self) -> None:
        if not self.stopped and time.monotonic() - self.last_image > float(self.p["image_timeout_s"]):
            self.get_logger().warning("camera stalled: stop", throttle_duration_sec=2.0)
            self.stop()

    def stop(self) -> None:
        self.publish(0.0, 0.0, self.get_clock().now().to_msg())
        self.stopped = True

    def last_stop(self) -> None:
        """On exit: the stop command, and the time for it to reach the car before the process ends."""
        self.stop()
        self.drive_pub.wait_for_all_acked(Duration(seconds=1.0))

    def publish(self, speed: float, steer: float, stamp) -> None:
        msg = AckermannDriveStamped()
        msg.header.stamp = stamp
        msg.drive.speed, msg.drive.steering_angle = float(speed), float(steer)
        self.drive_pub.publish(msg)


def main(args: list[str] | None = None) -> int:
    return ros_node.spin_main(InferenceNode, args, "racer_inference_node", on_exit=InferenceNode.last_stop)


if __name__ == "__main__":
    sys.exit(main())
