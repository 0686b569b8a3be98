"""`racer_sim_node`: the embedded simulator for one car, on standard ROS 2 topics.

Publishes the camera (`camera/image_raw`, `camera/camera_info`), ground-truth `odom`, `/tf`
(odom -> base_link -> camera_link -> camera_optical_frame), `/clock`, the track as
`track/markers` (transient local, so an rviz started later still gets it), the episode's driven
`path` and `car_marker`, and in an object-avoidance or head-to-bot race (the race parameters, the
reference's keys) `objects/markers` and `objects/poses`. Listens to `cmd_drive`
(AckermannDriveStamped) and `cmd_vel` (Twist).

Two clocks. Free-running (default): a timer steps the car every control period divided by
`real_time_factor` (<= 0: as fast as the machine goes). Lock-step (`lockstep: true`): nothing moves
until `step_simulation` is called; it steps N control periods (with the drive command in the
request, or else the latest cmd_drive / cmd_vel) and answers after the image of the resulting state
is published, saying whether the car has crashed into an object. `reset_car` puts the car at a
start (laying out the objects anew) or a pose in both modes. Every
published state has its own stamp (a reset takes one control period too), so a client that waits
for a stamp never takes a stale picture.
"""

from __future__ import annotations

import dataclasses
import sys
import time

import numpy as np
from ackermann_msgs.msg import AckermannDriveStamped
from geometry_msgs.msg import PoseArray, Twist
from nav_msgs.msg import Odometry, Path
from rclpy.clock import Clock as RosClock
from rclpy.clock import ClockType
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import Marker, MarkerArray

from racer_core import commands
from racer_core.builtin_tracks import load as load_track
from racer_core.camera import BOX_COLUMNS, PRESETS, camera_from
from racer_core.objects import KEY_HELP, RaceObjects
from racer_core.objects_on_track import ObjectsOnTrack
from racer_core.scenery import Look
from racer_core.simulator import DIST_ALONG, Simulator
from racer_core.track import TrackError
from racer_core.vehicle import VehicleParams
from racer_inference import messages
from racer_inference import node_support as ros_node
from racer_interfaces.srv import ResetCar, StepSimulation
from racer_sim import sim_messages
from racer_sim.odom_frame import OdomFrame

# name: (default, description). Declared by the node; the launch-file test checks parameter files against it.
PARAMETERS: ros_node.ParameterTable = {
    "track": ("circuit", "built-in track name (racer tracks) or a DeepRacer route file (.npy)"),
    "camera": ("deepracer_car", "camera preset: deepracer_car (physical car's lens) or deepracer_sim",
               ros_node.one_of(*PRESETS)),
    "grayscale": (True, "publish mono8 (true) or rgb8 (false) images"),
    "lockstep": (False, "false: free-running clock; true: move only when step_simulation is called"),
    "control_hz": (15.0, "control periods (camera frames, commands) per sim second; DeepRacer's is 15",
                   ros_node.positive),
    "real_time_factor": (1.0, "free-running speed: 1.0 = real time, 2.0 = twice as fast, <= 0 = as fast as possible"),
    "command_timeout_s": (0.5, "free-running: stop the car when no command came for this long (0 = never)",
                          ros_node.non_negative, True),
    "randomize": (False, "new random look and camera mount at every reset (domain randomisation)"),
    "seed": (0, "seed of the randomisation"),
    "start_fraction": (0.0, "start point, as a fraction of the track from the start line (0..1)",
                       ros_node.between(0.0, 1.0)),
    "reverse": (False, "drive the track in the reverse direction"),
    "frame_prefix": ("", "prefix of the car's TF frames (e.g. car_1) when several cars share a map"),
    "publish_clock": (True, "publish /clock; with several simulator nodes only one should"),
    "path_every_steps": (5, "publish the driven path every this many control periods", ros_node.positive, True),
    "path_max_poses": (3000, "longest path kept (oldest poses dropped)", ros_node.positive, True),
    "max_step_periods": (150, "most control periods one step_simulation call may ask for", ros_node.positive),
    # the race: racer_core.objects.RaceObjects' keys (a count of -1: the race type's own)
    **{f.name: (-1 if f.default is None else f.default, KEY_HELP[f.name]) for f in dataclasses.fields(RaceObjects)},
}
WARN_EVERY_S = 2.0
LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL, reliability=ReliabilityPolicy.RELIABLE)
# Lock-step clients must see every picture: reliable, and a short queue of the newest ones.
STATE = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)


class SimNode(Node):
    def __init__(self, **kwargs):
        super().__init__("racer_sim", **kwargs)
        self.p = ros_node.declare(self, PARAMETERS)
        self.track = load_track(self.p["track"])
        self.camera = camera_from(self.p["camera"], grayscale=bool(self.p["grayscale"]))
        self.sim = Simulator(self.track, 1, self.camera, VehicleParams(control_hz=float(self.p["control_hz"])))
        self.vehicle = self.sim.vehicle
        self.frames = sim_messages.Frames().prefixed(self.p["frame_prefix"])
        self.encoding = sim_messages.encoding_for(self.camera)
        self.rng = np.random.default_rng(int(self.p["seed"]))
        self.step_count = 0
        self.command = commands.Drive(0.0, 0.0)
        self.command_time = time.monotonic()
        self.poses: list[tuple[float, float, float]] = []  # (x, y, yaw) in map, this episode
        self.odom_frame = OdomFrame()
        self.mount = self.camera  # the camera mount that takes the pictures (randomised per episode)
        race = {f.name: self.p[f.name] for f in dataclasses.fields(RaceObjects)}
        race = RaceObjects.from_dict({k: (None if v == -1 else v) for k, v in race.items()})
        self.objects = ObjectsOnTrack(race, self.track) if race.any else None  # checks it fits the track
        self.reverse = bool(self.p["reverse"])
        self.crashed = False

        self.image_pub = self.create_publisher(Image, "camera/image_raw", STATE)
        self.info_pub = self.create_publisher(CameraInfo, "camera/camera_info", STATE)
        self.odom_pub = self.create_publisher(Odometry, "odom", STATE)
        self.tf_pub = self.create_publisher(TFMessage, "/tf", 10)
        self.clock_pub = self.create_publisher(Clock, "/clock", 10)
        self.markers_pub = self.create_publisher(MarkerArray, "track/markers", LATCHED)
        self.car_pub = self.create_publisher(Marker, "car_marker", 10)
        self.path_pub = self.create_publisher(Path, "path", 10)
        self.objects_pub = self.create_publisher(MarkerArray, "objects/markers", 10)
        self.object_poses_pub = self.create_publisher(PoseArray, "objects/poses", 10)
        self.create_subscription(AckermannDriveStamped, "cmd_drive", self._on_drive, 10)
        self.create_subscription(Twist, "cmd_vel", self._on_twist, 10)
        self.create_service(StepSimulation, "step_simulation", self._on_step)
        self.create_service(ResetCar, "reset_car", self._on_reset)

        self.camera_info = sim_messages.camera_info(self.camera, Header(frame_id=self.frames.optical))
        self.markers_pub.publish(sim_messages.track_markers(self.track, Header(frame_id=self.frames.map)))
        self._reset_to_start(float(self.p["start_fraction"]), self.reverse)
        if not self.p["lockstep"]:
            rtf = float(self.p["real_time_factor"])
            # A steady clock, never /clock: this timer is what publishes /clock, so with use_sim_time
            # a ROS-time timer would wait for itself.
            steady = RosClock(clock_type=ClockType.STEADY_TIME)
            self.create_timer(self.vehicle.dt / rtf if rtf > 0 else 0.0, self._on_timer, clock=steady)
        mode = "lock-step" if self.p["lockstep"] else f"free-running x{self.p['real_time_factor']}"
        objects = f", {race.race_type}: {race.obstacles} obstacles, {race.bots} bots" if race.any else ""
        self.get_logger().info(f"track {self.track.name} ({self.track.length:.1f} m), camera {self.p['camera']}, "
                               f"{mode}{objects}")

    # ----------------------------------------------------------------------------- commands
    def _on_drive(self, msg: AckermannDriveStamped) -> None:
        self._command(msg.drive.speed, msg.drive.steering_angle)

    def _on_twist(self, msg: Twist) -> None:
        self._command(*commands.from_twist(msg.linear.x, msg.angular.z, self.vehicle))

    def _command(self, speed: float, steer: float) -> bool:
        drive, problem = commands.checked(speed, steer, self.vehicle)
        if drive is None:  # one throttle per kind of problem: a flood of one does not hide the other
            self.get_logger().warning(problem, throttle_duration_sec=WARN_EVERY_S)
            return False
        if problem:
            self.get_logger().warning(problem, throttle_duration_sec=WARN_EVERY_S)
        self.command, self.command_time = drive, time.monotonic()
        return True

    # -------------------------------------------------------------------------------- clock
    def _on_timer(self) -> None:
        timeout = float(self.p["command_timeout_s"])
        if timeout > 0 and time.monotonic() - self.command_time > timeout:
            self.command = commands.Drive(0.0, 0.0)  # the driver went quiet: stop, do not coast on its last word
        self._advance(1)

    def _on_step(self, request: StepSimulation.Request, response: StepSimulation.Response):
        if not self.p["lockstep"]:
            response.success, response.message = False, "the simulator is free-running; start it with lockstep:=true"
            return response
        if not 1 <= request.periods <= self.p["max_step_periods"]:
            response.success = False
            response.message = f"periods {request.periods} not in 1..{self.p['max_step_periods']} (max_step_periods)"
            return response
        if request.has_drive and not self._command(request.speed, request.steering_angle):
            response.message = "non-finite drive command ignored; kept the previous one"
        self._advance(int(request.periods))
        response.success, response.stamp, response.step = True, self._stamp(), self.step_count
        response.state = sim_messages.car_state(self.sim.state[0])
        response.crashed = self.crashed
        return response

    def _on_reset(self, request: ResetCar.Request, response: ResetCar.Response):
        if request.mode == ResetCar.Request.START:
            if not 0.0 <= request.progress_fraction <= 1.0:
                response.success, response.message = False, f"progress_fraction {request.progress_fraction} not in 0..1"
                return response
            self._reset_to_start(request.progress_fraction, request.reverse)
        elif request.mode == ResetCar.Request.POSE:
            pose = (request.x, request.y, request.yaw)
            if not np.all(np.isfinite(pose)):
                response.success, response.message = False, f"non-finite pose {pose}"
                return response
            self._reset_to(*pose)
        else:
            response.success, response.message = False, f"unknown mode {request.mode} (START=0, POSE=1)"
            return response
        response.success, response.stamp = True, self._stamp()
        response.state = sim_messages.car_state(self.sim.state[0])
        return response

    # ------------------------------------------------------------------------------ physics
    def _reset_to_start(self, fraction: float, reverse: bool) -> None:
        """A new episode from a start point: the objects laid out anew (they may be randomised), the
        car on the centre line, or on the other lane when an object stands near its start."""
        self.reverse = reverse
        start = fraction * self.track.length
        if self.objects is None:
            self._reset_to(*self.track.pose_at(start, reverse))
            return
        self.objects.reset(self.rng, reverse)
        lateral = self.objects.start_lateral(start)
        if lateral:
            x, y, yaw = self.objects.lanes[reverse].poses(np.array([start]), np.array([lateral]))[0]
            self._reset_to(float(x), float(y), float(yaw))
        else:
            self._reset_to(*self.track.pose_at(start, reverse))

    def _reset_to(self, x: float, y: float, yaw: float) -> None:
        """A teleport: the map pose jumps, odometry stays continuous (map -> odom takes the jump)."""
        before = sim_messages.map_pose(self.sim.state[0])
        self.sim.place(0, x, y, yaw)
        self.crashed = False
        if self.objects is not None:
            self.sim.set_objects(0, self.objects.boxes())
        if self.step_count > 0:
            self.odom_frame.teleport(before, (x, y, yaw))
        if self.p["randomize"]:
            look = Look.random(self.rng)
            self.mount = self.camera.jittered(self.rng)
            self.sim.set_look(0, look, self.mount)
        self.command = commands.Drive(0.0, 0.0)
        self.poses = []
        self.step_count += 1  # a reset is a control period of its own: its picture gets a new stamp
        self.sim.render()
        self._publish(path_now=True)

    def _advance(self, periods: int) -> None:
        drive = np.array([[self.command.steer, self.command.speed]])
        for _ in range(periods):
            self.sim.move(drive)
            self.step_count += 1
            if self.objects is not None:
                self._move_objects()
        self.sim.render()
        self._publish(path_now=self.step_count % int(self.p["path_every_steps"]) == 0)

    def _move_objects(self) -> None:
        """The bots drive on; a crash is judged where the car now stands (the front point's place
        along the track decides who ran into whom)."""
        self.objects.advance(self.vehicle.dt)
        self.sim.set_objects(0, self.objects.boxes())
        along = self.track.along_in_direction(float(self.sim.measure(0)[DIST_ALONG]), self.reverse)
        self.crashed = self.crashed or self.objects.collide(self.sim.state[0, :3], along) >= 0

    def _stamp(self):
        return messages.stamp_from_ns(round(self.step_count * 1e9 / self.vehicle.control_hz))

    def _publish(self, path_now: bool) -> None:
        """Everything a state has, under one stamp; the image last so that its arrival means the rest was sent.

        Topics nobody listens to are not built (lazy publishing, as image_transport does): a lock-step
        trainer reads only the image (the state comes in the service's answer), and the rest would
        cost it much of its rate.
        """
        stamp, f, state = self._stamp(), self.frames, self.sim.state[0]
        map_header = Header(stamp=stamp, frame_id=f.map)
        odom_pose = self.odom_frame.to_odom(sim_messages.map_pose(state))
        self.poses.append((float(state[0]), float(state[1]), float(state[2])))
        del self.poses[: -int(self.p["path_max_poses"])]
        if self.p["publish_clock"] and _listened(self.clock_pub):
            self.clock_pub.publish(Clock(clock=stamp))
        if _listened(self.tf_pub):
            self.tf_pub.publish(sim_messages.transforms(odom_pose, self.odom_frame.map_to_odom, stamp, f, self.mount))
        if _listened(self.odom_pub):
            self.odom_pub.publish(sim_messages.odometry(state, odom_pose, stamp, f, self.vehicle.wheelbase))
        if _listened(self.car_pub):
            self.car_pub.publish(sim_messages.car_marker(state, map_header, self.vehicle))
        if path_now and _listened(self.path_pub):
            self.path_pub.publish(sim_messages.path(self.poses, map_header))
        boxes = self.objects.boxes() if self.objects is not None else np.zeros((0, BOX_COLUMNS))
        if _listened(self.objects_pub):
            self.objects_pub.publish(sim_messages.object_markers(boxes, map_header))
        if _listened(self.object_poses_pub):
            self.object_poses_pub.publish(sim_messages.object_poses(boxes, map_header))
        camera_header = Header(stamp=stamp, frame_id=f.optical)
        if _listened(self.info_pub):
            self.camera_info.header = camera_header
            self.info_pub.publish(self.camera_info)
        if _listened(self.image_pub):
            self.image_pub.publish(messages.image(self.sim.frames[0], camera_header, self.encoding))


def _listened(publisher) -> bool:
    return publisher.get_subscription_count() > 0


def main(args: list[str] | None = None) -> int:
    return ros_node.spin_main(SimNode, args, "racer_sim_node", (TrackError, ValueError, OSError))


if __name__ == "__main__":
    sys.exit(main())
