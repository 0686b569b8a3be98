"""`racer_twist_node`: racer's drive command for Gazebo's car.

racer's drivers (the inference node, teleop) publish `ackermann_msgs/AckermannDriveStamped` on
`cmd_drive`; Gazebo's AckermannSteering system takes a Twist, and ros_gz_bridge has no mapping for
Ackermann messages. This node converts (omega = v tan(delta) / wheelbase, racer_core.gazebo_interface)
and publishes `cmd_vel`, which config/gz_bridge.yaml hands to the car. A non-finite command becomes a
stop, one outside the car's limits is clamped, and when commands stop coming the car is stopped:
it never keeps driving on a stale command.
"""

from __future__ import annotations

import sys

from ackermann_msgs.msg import AckermannDriveStamped
from geometry_msgs.msg import Twist
from rclpy.node import Node

from racer_core import gazebo_interface as gz
from racer_core.vehicle import VehicleParams
from racer_inference import node_support as ros_node

PARAMETERS: ros_node.ParameterTable = {
    "command_timeout_s": (0.5, "no drive command this long: the car is sent a stop", ros_node.positive),
}


class TwistNode(Node):
    def __init__(self):
        super().__init__("racer_twist")
        p = ros_node.declare(self, PARAMETERS)
        self.vehicle = VehicleParams()
        self.timeout_ns = int(p["command_timeout_s"] * 1e9)
        self.twist_pub = self.create_publisher(Twist, "cmd_vel", 10)
        self.create_subscription(AckermannDriveStamped, "cmd_drive", self._on_drive, 10)
        self.last_command_ns: int | None = None
        self.create_timer(p["command_timeout_s"] / 2, self._watchdog)

    def _on_drive(self, msg: AckermannDriveStamped) -> None:
        drive, problem = gz.safe_drive(msg.drive.speed, msg.drive.steering_angle, self.vehicle)
        if problem:
            self.get_logger().warning(problem, throttle_duration_sec=5.0)
        self.last_command_ns = self.get_clock().now().nanoseconds
        self._publish(*gz.twist_of(drive, self.vehicle))

    def _watchdog(self) -> None:
        """A driver gone silent gets its car stopped (once; the stop holds until the next command)."""
        now = self.get_clock().now().nanoseconds
        if self.last_command_ns is not None and now - self.last_command_ns > self.timeout_ns:
            self.get_logger().warning("no drive command within command_timeout_s: stopping the car")
            self.last_command_ns = None
            self.stop()

    def stop(self) -> None:
        self._publish(0.0, 0.0)

    def last_stop(self) -> None:
        """On shutdown: a stop, delivered before the process ends."""
        self.stop()
        ros_node.flush(self.twist_pub)

    def _publish(self, linear_x: float, angular_z: float) -> None:
        twist = Twist()
        twist.linear.x, twist.angular.z = linear_x, angular_z
        self.twist_pub.publish(twist)


def main(args: list[str] | None = None) -> int:
    return ros_node.spin_main(TwistNode, args, "racer_twist_node", on_exit=TwistNode.last_stop)


if __name__ == "__main__":
    sys.exit(main())
