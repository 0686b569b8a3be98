"""A simulator reached over ROS 2: what `Race` needs from a simulator, served by lock-step nodes.

Any node that speaks racer's simulator interface will do (the embedded `racer_sim_node` first,
Gazebo next): services `step_simulation` and `reset_car` (racer_interfaces) and the topic
`camera/image_raw`, one namespace per car. The action travels inside the step request
rather than as a separate `cmd_drive` message: a topic and a service have no ordering between them,
and the extra message costs the node a wake-up per step (measured: 198 vs 423 lock-step steps/s).
The map-frame state comes back in the service's answer (odometry is continuous across resets, so it
is not the track pose) and is measured against the track here with the embedded simulator's own
`TrackProbe`, so the rules and rewards are computed by one implementation whichever simulator
moved the car.

Each step waits for the image carrying exactly the stamp the service answered with;
anything older is never used. A node that dies or stalls raises `SimulatorUnavailable` naming the
service or topic after `timeout_s`.
"""

from __future__ import annotations

import time

import numpy as np
import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from racer_core import vehicle
from racer_core.camera import CameraConfig
from racer_core.simulator import RemoteSimulator
from racer_core.simulator_errors import SimulatorUnavailable
from racer_core.track import Track
from racer_inference import messages as ros_messages
from racer_inference.images import image_array
from racer_inference.messages import default_namespaces
from racer_interfaces.msg import CarState
from racer_interfaces.srv import ResetCar, StepSimulation

STATE_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)
# A service is "ready" once its server is discovered, which can come before the server has discovered
# the client's reply reader; a reply sent before that is lost (seen twice in ~40 test-suite runs, both
# first calls). So a first call waits this long after its service is ready.
DISCOVERY_SETTLE_S = 0.5


class _Car:
    """One remote car: its clients and its latest messages by stamp."""

    def __init__(self, node: Node, namespace: str):
        def name(topic: str) -> str:
            return f"/{namespace}/{topic}" if namespace else topic

        self.step = node.create_client(StepSimulation, name("step_simulation"))
        self.reset = node.create_client(ResetCar, name("reset_car"))
        self.image_topic = name("camera/image_raw")
        self.images: dict[int, Image] = {}
        self.image_sub = node.create_subscription(Image, self.image_topic, lambda m: _keep(self.images, m), STATE_QOS)
        self.reset_ns = 0


def _keep(store: dict, msg) -> None:
    store[ros_messages.ns_from_stamp(msg.header.stamp)] = msg
    if len(store) > 8:  # only the newest few can still be waited for
        del store[min(store)]


class RosSimulator(RemoteSimulator):
    """Implements the simulator interface `Race` drives (place, move, render, measure) over ROS."""

    def __init__(self, track: Track, num_cars: int, camera: CameraConfig, namespaces: list[str] | None = None,
                 timeout_s: float = 5.0, connect_timeout_s: float = 30.0,
                 vehicle_params: vehicle.VehicleParams | None = None):
        super().__init__(track, num_cars, camera, vehicle_params)
        self.timeout_s = timeout_s
        namespaces = namespaces or default_namespaces(num_cars)
        if len(namespaces) != num_cars:
            raise ValueError(f"{num_cars} cars need {num_cars} namespaces, got {namespaces}")
        self.context = Context()
        rclpy.init(context=self.context)
        # No parameter services: six fewer entities in every wait of the hot loop.
        self.node = Node("racer_bridge", context=self.context, start_parameter_services=False)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.cars = [_Car(self.node, ns) for ns in namespaces]
        self._connect(connect_timeout_s)

    def _connect(self, timeout_s: float) -> None:
        """Wait until every car's services answer and its image publisher is matched:
        a picture published before its subscription matched would be lost, and waited for in vain."""
        deadline = time.monotonic() + timeout_s  # a simulator starting up (Gazebo) takes a while
        for car in self.cars:
            waits = [(car.step.service_is_ready, f"service {car.step.srv_name}"),
                     (car.reset.service_is_ready, f"service {car.reset.srv_name}"),
                     (lambda c=car: c.image_sub.get_publisher_count() > 0, f"topic {car.image_topic}")]
            for ready, what in waits:
                while not ready():
                    if time.monotonic() > deadline:
                        self.close()
                        raise SimulatorUnavailable(f"{what} not available after {timeout_s:g} s: is "
                                                   "racer_sim_node running with lockstep:=true?")
                    self.executor.spin_once(timeout_sec=0.05)
        settled = time.monotonic() + DISCOVERY_SETTLE_S
        while time.monotonic() < settled:
            self.executor.spin_once(timeout_sec=0.05)

    # ------------------------------------------------------------------- simulator interface
    def place(self, car: int, x: float, y: float, yaw: float, speed: float = 0.0) -> None:
        request = ResetCar.Request(mode=ResetCar.Request.POSE, x=float(x), y=float(y), yaw=float(yaw))
        c = self.cars[car]
        deadline = time.monotonic() + self.timeout_s
        while True:  # a reset is idempotent: ask again if its picture got lost (first contact, discovery)
            response = self._call([(c.reset, request)])[0]
            c.reset_ns = ros_messages.ns_from_stamp(response.stamp)
            try:
                self._take(car, c.reset_ns, response.state, wait_s=min(1.0, self.timeout_s))
                break
            except SimulatorUnavailable:
                if time.monotonic() > deadline:
                    raise
        self.probe.forget(car)

    def move(self, commands: np.ndarray) -> None:
        """Every car one control period: `commands` (N, 2) steering rad, speed m/s."""
        calls = []
        for c, (steer, speed) in zip(self.cars, commands, strict=True):
            calls.append((c.step, StepSimulation.Request(periods=1, has_drive=True, speed=float(speed),
                                                         steering_angle=float(steer))))
        for car, response in enumerate(self._call(calls)):
            self._take(car, ros_messages.ns_from_stamp(response.stamp), response.state)

    def set_look(self, car: int, look, camera=None) -> None:
        raise NotImplementedError("a ROS simulator randomises its own look: set its `randomize` parameter")

    def close(self) -> None:
        if self.context.ok():
            self.executor.shutdown(timeout_sec=0)
            self.node.destroy_node()
            rclpy.shutdown(context=self.context)

    # --------------------------------------------------------------------------- plumbing
    def _call(self, calls: list) -> list:
        """Send every request, then wait for every answer (the cars' simulators run in parallel)."""
        futures = [client.call_async(request) for client, request in calls]
        deadline = time.monotonic() + self.timeout_s
        for (client, _), future in zip(calls, futures, strict=True):
            while not future.done():
                if time.monotonic() > deadline:
                    raise SimulatorUnavailable(f"service {client.srv_name} did not answer within {self.timeout_s:g} s")
                self.executor.spin_once(timeout_sec=0.05)
            response = future.result()
            if not response.success:
                raise SimulatorUnavailable(f"service {client.srv_name} refused: {response.message}")
        return [f.result() for f in futures]

    def _take(self, car: int, stamp_ns: int, state: CarState, wait_s: float | None = None) -> None:
        """Wait for this car's image of exactly `stamp_ns`, then adopt it and the state it shows."""
        c = self.cars[car]
        wait_s = self.timeout_s if wait_s is None else wait_s
        deadline = time.monotonic() + wait_s
        while stamp_ns not in c.images:
            if time.monotonic() > deadline:
                raise SimulatorUnavailable(f"no message on {c.image_topic} stamped {stamp_ns * 1e-9:.3f} s "
                                           f"within {wait_s:g} s")
            self.executor.spin_once(timeout_sec=0.05)
        frame = image_array(c.images[stamp_ns])
        if frame.shape != self.frames.shape[1:]:
            raise SimulatorUnavailable(f"{c.image_topic} sends {frame.shape} images, the policy expects "
                                       f"{self.frames.shape[1:]}: check the node's camera parameters")
        self.frames[car] = frame
        s = self.state[car]
        s[vehicle.X], s[vehicle.Y], s[vehicle.YAW] = state.x, state.y, state.yaw
        s[vehicle.SPEED], s[vehicle.STEER] = state.speed, state.steering_angle
        self.time[car] = (stamp_ns - c.reset_ns) * 1e-9
