"""TEST FIXTURE: an emulator of the physical DeepRacer's stock software, as separate processes.

    python deepracer_emulator.py ctrl                 # /ctrl_pkg: vehicle_state, enable_state, the mode gate
    python deepracer_emulator.py camera TRACK VMAX    # /camera_pkg/video_mjpeg from racer's simulator

The ctrl node forwards `/deepracer_navigation_pkg/auto_drive` (subscribed BEST_EFFORT, depth 1) to
`/ctrl_pkg/servo_msg` only while the vehicle state is autonomous (1) and enabled; disabling sends
0/0. The camera node drives racer's embedded simulator in real time from `/ctrl_pkg/servo_msg` (angle
x 30 deg; throttle through the inverse of the stock navigation curve, as a car calibrated for that
top speed) and publishes what its camera sees as the car's camera_pkg does: CameraMsg with one
160x120 bgr8 image and an empty header, 15 times a second. It prints `lap <seconds>` for each lap
and `off_track` when all four wheels leave the road.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import rclpy
from deepracer_interfaces_pkg.msg import CameraMsg, ServoCtrlMsg
from deepracer_interfaces_pkg.srv import ActiveStateSrv, EnableStateSrv
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

BEST_EFFORT = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
AUTONOMOUS = 1


class CtrlNode(Node):
    def __init__(self):
        super().__init__("ctrl_node", namespace="ctrl_pkg")
        self.state, self.enabled = 0, False
        self.servo = self.create_publisher(ServoCtrlMsg, "/ctrl_pkg/servo_msg", 10)
        self.create_service(ActiveStateSrv, "/ctrl_pkg/vehicle_state", self._on_state)
        self.create_service(EnableStateSrv, "/ctrl_pkg/enable_state", self._on_enable)
        self.create_subscription(ServoCtrlMsg, "/deepracer_navigation_pkg/auto_drive", self._on_auto, BEST_EFFORT)

    def _on_state(self, request, response):
        self.state, self.enabled = request.state, False  # a new mode starts deactivated
        response.error = 0 if request.state in (0, 1, 2) else 1
        print(f"vehicle_state {request.state}", flush=True)
        return response

    def _on_enable(self, request, response):
        self.enabled = bool(request.is_active)
        if not self.enabled:
            self.servo.publish(ServoCtrlMsg(angle=0.0, throttle=0.0))
        print(f"enable_state {self.enabled}", flush=True)
        response.error = 0
        return response

    def _on_auto(self, msg: ServoCtrlMsg) -> None:
        if not (-1.0 <= msg.angle <= 1.0 and -1.0 <= msg.throttle <= 1.0):
            print(f"rejected {msg.angle} {msg.throttle}", flush=True)  # servo_node rejects these
            return
        if self.state == AUTONOMOUS and self.enabled:
            self.servo.publish(msg)


def speed_of(throttle: float, vmax: float, max_throttle: float) -> float:
    """The inverse of the stock navigation node's curve: what a car calibrated for vmax does."""
    u = throttle / max_throttle
    if u <= 0.0:
        return 0.0
    if u >= 1.0 - 1e-6:
        return vmax
    a, b = -1.2 / vmax ** 2, 2.2 / vmax
    return (-b + math.sqrt(b * b + 4 * a * u)) / (2 * a)


class CameraNode(Node):
    def __init__(self, track_name: str, vmax: float, max_throttle: float):
        from racer_core.builtin_tracks import load
        from racer_core.camera import camera_from
        from racer_core.simulator import Simulator
        from racer_sim.drive import OFF_TRACK, LapCounter

        super().__init__("camera_node", namespace="camera_pkg")
        self.track = load(track_name)
        self.sim = Simulator(self.track, 1, camera_from("deepracer_car", grayscale=False))
        self.sim.place(0, *self.track.pose_at(0.0))
        self.laps, self.off_track = LapCounter(self.track), OFF_TRACK
        self.vmax, self.max_throttle = vmax, max_throttle
        self.command = np.zeros((1, 2))
        self.ticks = 0
        self.camera = self.create_publisher(CameraMsg, "/camera_pkg/video_mjpeg", BEST_EFFORT)
        self.create_subscription(ServoCtrlMsg, "/ctrl_pkg/servo_msg", self._on_servo, 10)
        self.create_timer(self.sim.vehicle.dt, self._tick)

    def _on_servo(self, msg: ServoCtrlMsg) -> None:
        self.command[0] = (math.radians(30.0) * msg.angle, speed_of(msg.throttle, self.vmax, self.max_throttle))

    def _tick(self) -> None:
        self.sim.move(self.command)
        self.sim.render()
        self.ticks += 1
        x, y, yaw = self.sim.state[0, :3]
        event = self.laps.update(float(x), float(y), float(yaw), self.ticks * self.sim.vehicle.dt)
        if event == self.off_track:
            print("off_track", flush=True)
        elif event is not None:
            print(f"lap {event:.2f}", flush=True)
        frame = np.ascontiguousarray(self.sim.frames[0][:, :, ::-1])  # the car's camera sends BGR
        image = Image(height=120, width=160, encoding="bgr8", step=160 * 3, data=frame.tobytes())
        self.camera.publish(CameraMsg(images=[image]))


def main(argv: list[str]) -> int:
    rclpy.init()
    node = CtrlNode() if argv[0] == "ctrl" else CameraNode(argv[1], float(argv[2]), float(argv[3]))
    try:
        rclpy.spin(node)
    except KeyboardInterrupt:
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
