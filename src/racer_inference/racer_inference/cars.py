"""Car adapters: where the inference node's pictures come from and where its commands go.

Each adapter turns the node's (steering rad, speed m/s) into its car's command and never lets a
value outside the car's range leave: racer's simulated car takes AckermannDriveStamped on
`cmd_drive`; the physical DeepRacer's stock stack takes ServoCtrlMsg (angle and throttle in [-1, 1])
on `/deepracer_navigation_pkg/auto_drive`, after the node has switched its ctrl_node to autonomous
and enabled it. Python 3.8: it runs on the car.
"""

from __future__ import annotations

import math
from typing import Callable, Dict, Optional, Type

from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy

from racer_inference import node_support

# The newest picture only: a late frame is worth nothing to a driver.
CAMERA_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
ImageCallback = Callable[[Optional[object]], None]  # a sensor_msgs/Image, or None for a message without one


class SimCar:
    """racer's simulated car (racer_sim_node, or Gazebo through its bridge)."""

    def __init__(self, node: Node, params: dict):
        from ackermann_msgs.msg import AckermannDriveStamped

        self.node = node
        self.msg_type = AckermannDriveStamped
        self.publisher = node.create_publisher(AckermannDriveStamped, "cmd_drive", 10)

    def start(self, on_image: ImageCallback) -> None:
        from sensor_msgs.msg import Image

        self.node.create_subscription(Image, "camera/image_raw", on_image, CAMERA_QOS)

    def drive(self, steer: float, speed: float, model, stamp) -> None:
        limit = math.radians(model.max_steer_deg)
        self._publish(min(max(steer, -limit), limit), min(max(speed, 0.0), model.max_speed), stamp)

    def stop(self) -> None:
        self._publish(0.0, 0.0, self.node.get_clock().now().to_msg())

    def _publish(self, steer: float, speed: float, stamp) -> None:
        msg = self.msg_type()
        msg.header.stamp = stamp
        msg.drive.speed, msg.drive.steering_angle = float(speed), float(steer)
        self.publisher.publish(msg)

    def close(self) -> None:
        node_support.flush(self.publisher)


def deepracer_throttle(speed: float, max_speed: float, max_throttle: float) -> float:
    """The stock navigation node's speed -> throttle curve: a v^2 + b v with a = -1.2 / vmax^2 and
    b = 2.2 / vmax (vmax -> 1.0, vmax / 2 -> 0.8), clipped to [-1, 1], scaled by `max_throttle`."""
    a, b = -1.2 / max_speed ** 2, 2.2 / max_speed
    return max_throttle * min(max(a * speed * speed + b * speed, -1.0), 1.0)


class DeepRacerCar:
    """The physical DeepRacer's stock software (ROS 2 Foxy): camera_pkg in, ctrl_pkg out."""

    CAMERA = "/camera_pkg/video_mjpeg"
    AUTO_DRIVE = "/deepracer_navigation_pkg/auto_drive"
    VEHICLE_STATE = "/ctrl_pkg/vehicle_state"
    ENABLE_STATE = "/ctrl_pkg/enable_state"
    AUTONOMOUS = 1

    def __init__(self, node: Node, params: dict):
        from deepracer_interfaces_pkg.msg import ServoCtrlMsg  # the car's own interface package

        self.node, self.params = node, params
        self.msg_type = ServoCtrlMsg
        # ctrl_node subscribes BEST_EFFORT, depth 1: the newest command is the one that counts.
        self.publisher = node.create_publisher(ServoCtrlMsg, self.AUTO_DRIVE, CAMERA_QOS)
        self.enabled = False

    def start(self, on_image: ImageCallback) -> None:
        """Autonomous mode, enabled; then the camera. A failing call is an error and nothing drives."""
        from deepracer_interfaces_pkg.msg import CameraMsg
        from deepracer_interfaces_pkg.srv import ActiveStateSrv, EnableStateSrv

        self._call(ActiveStateSrv, self.VEHICLE_STATE, ActiveStateSrv.Request(state=self.AUTONOMOUS))
        self._call(EnableStateSrv, self.ENABLE_STATE, EnableStateSrv.Request(is_active=True))
        self.enabled = True

        def on_camera(msg: CameraMsg) -> None:  # camera_pkg sends a list: the front camera comes first
            on_image(msg.images[0] if msg.images else None)

        self.node.create_subscription(CameraMsg, self.CAMERA, on_camera, CAMERA_QOS)

    def _call(self, srv_type, name: str, request) -> None:
        import rclpy

        wait_s = float(self.params["service_timeout_s"])
        client = self.node.create_client(srv_type, name)
        if not client.wait_for_service(timeout_sec=wait_s):
            raise RuntimeError(f"{name} is not available: is the DeepRacer's ctrl_node running?")
        future = client.call_async(request)
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=wait_s)
        response = future.result()
        if response is None or response.error != 0:
            raise RuntimeError(f"{name} failed ({'no answer' if response is None else f'error {response.error}'})")

    def drive(self, steer: float, speed: float, model, stamp) -> None:
        angle = math.degrees(steer) / model.max_steer_deg  # + = left, as the servo's angle
        throttle = deepracer_throttle(speed, model.max_speed, float(self.params["max_throttle"]))
        self._publish(angle, throttle)

    def stop(self) -> None:
        self._publish(0.0, 0.0)

    def _publish(self, angle: float, throttle: float) -> None:
        msg = self.msg_type()
        msg.angle = float(min(max(angle, -1.0), 1.0))  # never outside [-1, 1]: servo_node rejects those
        msg.throttle = float(min(max(throttle, -1.0), 1.0))
        self.publisher.publish(msg)

    def close(self) -> None:
        """Hand the car back: 0/0 delivered, then autonomous mode disabled."""
        node_support.flush(self.publisher)
        if self.enabled:
            from deepracer_interfaces_pkg.srv import EnableStateSrv

            try:
                self._call(EnableStateSrv, self.ENABLE_STATE, EnableStateSrv.Request(is_active=False))
            except RuntimeError as err:
                self.node.get_logger().error(f"could not disable autonomous mode: {err}")


CARS: Dict[str, Type] = {"sim": SimCar, "deepracer": DeepRacerCar}
