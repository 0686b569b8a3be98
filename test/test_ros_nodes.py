"""The simulator node and the Gymnasium bridge as separate processes over loopback DDS (conftest
sets ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and this run's own ROS_DOMAIN_ID)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

rclpy = pytest.importorskip("rclpy")

from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402
from ros_helpers import Probe, collect_lines, stop, wait_until  # noqa: E402

from racer_agent.env.actions import DEFAULT_ACTIONS  # noqa: E402

# one xdist worker: the module's trained model is made once.
pytestmark = pytest.mark.xdist_group("ros_nodes")

BIN = Path(sys.executable).parent
DT_NS = round(1e9 / 15)


def start_sim(*params: str, namespace: str = "") -> subprocess.Popen:
    cmd = [str(BIN / "racer_sim_node"), "--ros-args", "-p", "lockstep:=true"]
    for p in params:
        cmd += ["-p", p]
    if namespace:
        cmd += ["-r", f"__ns:=/{namespace}"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def ns(stamp) -> int:
    return stamp.sec * 1_000_000_000 + stamp.nanosec


def test_sim_node_topics_tf_markers_stepping_and_reset():
    from nav_msgs.msg import Odometry
    from nav_msgs.msg import Path as PathMsg
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import CameraInfo, Image
    from tf2_msgs.msg import TFMessage
    from visualization_msgs.msg import Marker, MarkerArray

    from racer_core.builtin_tracks import build
    from racer_interfaces.srv import ResetCar, StepSimulation

    sim = start_sim("path_every_steps:=1")
    probe = Probe()
    try:
        for msg_type, topic in [(Image, "camera/image_raw"), (CameraInfo, "camera/camera_info"), (Odometry, "odom"),
                                (TFMessage, "/tf"), (Clock, "/clock"), (PathMsg, "path"), (Marker, "car_marker")]:
            probe.listen(msg_type, topic)
        got = probe.got
        first = probe.call(StepSimulation, "step_simulation", StepSimulation.Request(periods=1))
        assert probe.spin_until(lambda: any(ns(m.header.stamp) == ns(first.stamp) for m in got["odom"]))
        before = next(m for m in got["odom"] if ns(m.header.stamp) == ns(first.stamp)).pose.pose
        reset = probe.call(ResetCar, "reset_car", ResetCar.Request(mode=ResetCar.Request.START, progress_fraction=0.25))
        assert reset.success
        t0 = ns(reset.stamp)
        track = build("circuit")
        x, y, yaw = track.pose_at(0.25 * track.length)
        assert (reset.state.x, reset.state.y, reset.state.yaw) == pytest.approx((x, y, yaw))  # where it was put
        # A reset is a teleport: odometry stays where it was (REP-105), map -> odom takes the jump.
        assert probe.spin_until(lambda: any(t.header.stamp == reset.stamp for m in got["/tf"] for t in m.transforms)
                                and any(ns(m.header.stamp) == t0 for m in got["odom"]))
        odom = next(m for m in got["odom"] if ns(m.header.stamp) == t0).pose.pose
        assert (odom.position.x, odom.position.y) == pytest.approx((before.position.x, before.position.y))
        tf = {t.child_frame_id: t for m in got["/tf"] for t in m.transforms if t.header.stamp == reset.stamp}
        anchor = tf["odom"].transform
        a_yaw = 2 * math.atan2(anchor.rotation.z, anchor.rotation.w)
        o_yaw = 2 * math.atan2(odom.orientation.z, odom.orientation.w)
        in_map = (anchor.translation.x + math.cos(a_yaw) * odom.position.x - math.sin(a_yaw) * odom.position.y,
                  anchor.translation.y + math.sin(a_yaw) * odom.position.x + math.cos(a_yaw) * odom.position.y)
        assert in_map == pytest.approx((x, y)) and math.remainder(a_yaw + o_yaw - yaw, math.tau) == pytest.approx(0)

        step = probe.call(StepSimulation, "step_simulation",
                          StepSimulation.Request(periods=3, has_drive=True, speed=1.5, steering_angle=0.0))
        assert step.success and abs(ns(step.stamp) - t0 - 3 * DT_NS) <= 1
        t1 = ns(step.stamp)
        assert probe.spin_until(lambda: any(ns(m.header.stamp) == t1 for m in got["camera/image_raw"])
                                and any(ns(m.clock) == t1 for m in got["/clock"]))
        image = next(m for m in got["camera/image_raw"] if ns(m.header.stamp) == t1)
        assert (image.width, image.height, image.encoding, image.header.frame_id) == (160, 120, "mono8",
                                                                                     "camera_optical_frame")
        assert len(image.data) == 160 * 120 and np.frombuffer(image.data, np.uint8).std() > 5  # a picture
        moved = next(m for m in got["odom"] if ns(m.header.stamp) == t1)
        here = moved.pose.pose.position
        travelled = math.hypot(here.x - odom.position.x, here.y - odom.position.y)
        assert 0.05 < travelled < 3 * 1.5 / 15 and moved.twist.twist.linear.x > 0
        assert math.hypot(step.state.x - x, step.state.y - y) == pytest.approx(travelled)

        info = got["camera/camera_info"][-1]
        assert info.k[0] == pytest.approx(80 / math.tan(math.radians(60)))  # 120 degree lens on 160 pixels
        parents = {t.child_frame_id: t.header.frame_id for m in got["/tf"] for t in m.transforms}
        assert parents == {"odom": "map", "base_link": "odom", "camera_link": "base_link",
                           "camera_optical_frame": "camera_link"}
        assert got["path"] and got["path"][-1].header.frame_id == "map" and len(got["path"][-1].poses) >= 2
        assert got["car_marker"][-1].type == Marker.CUBE

        # Joining late: the track markers are latched (transient local).
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL,
                             reliability=ReliabilityPolicy.RELIABLE)
        probe.listen(MarkerArray, "track/markers", latched)
        assert probe.spin_until(lambda: got["track/markers"])
        spaces = {m.ns for m in got["track/markers"][0].markers}
        assert spaces == {"border", "center_line", "start_line"}

        # Bad input: NaN is ignored, 100 m/s clamped to the car's limit, unknown reset refused; the node lives on.
        nan = probe.call(StepSimulation, "step_simulation",
                         StepSimulation.Request(periods=1, has_drive=True, speed=math.nan, steering_angle=0.0))
        assert nan.success and "ignored" in nan.message
        fast = probe.call(StepSimulation, "step_simulation",
                          StepSimulation.Request(periods=30, has_drive=True, speed=100.0, steering_angle=0.0))
        t2 = ns(fast.stamp)
        assert probe.spin_until(lambda: any(ns(m.header.stamp) == t2 for m in got["odom"]))
        assert 0 < next(m for m in got["odom"] if ns(m.header.stamp) == t2).twist.twist.linear.x <= 4.0
        bad = probe.call(ResetCar, "reset_car", ResetCar.Request(mode=7))
        assert not bad.success and "unknown mode" in bad.message
        for periods in (0, 151):  # max_step_periods bounds what one call may ask for
            refused = probe.call(StepSimulation, "step_simulation", StepSimulation.Request(periods=periods))
            assert not refused.success and "max_step_periods" in refused.message
        assert sim.poll() is None
    finally:
        probe.close()
        log = stop(sim)
    assert "clamped command" in log


def test_sim_node_races_among_objects_publishes_them_and_reports_a_crash():
    """The node takes the reference's race keys, shows the obstacles to rviz (markers) and as poses,
    lays them out again at a reset, and its step answer says when the car ran into one."""
    from geometry_msgs.msg import PoseArray
    from visualization_msgs.msg import Marker, MarkerArray

    from racer_core.builtin_tracks import build
    from racer_core.objects import RaceObjects
    from racer_core.objects_on_track import ObjectsOnTrack
    from racer_interfaces.srv import ResetCar, StepSimulation

    sim = start_sim("track:=oval", "race_type:=object_avoidance", "number_of_obstacles:=2")
    probe = Probe()
    try:
        probe.listen(MarkerArray, "objects/markers")
        probe.listen(PoseArray, "objects/poses")
        got = probe.got
        reset = probe.call(ResetCar, "reset_car", ResetCar.Request(mode=ResetCar.Request.START, progress_fraction=0.0))
        assert reset.success and not reset.crashed
        step = probe.call(StepSimulation, "step_simulation", StepSimulation.Request(periods=1))
        assert step.success and not step.crashed
        assert probe.spin_until(lambda: got["objects/poses"] and got["objects/markers"])
        expected = ObjectsOnTrack(RaceObjects(race_type="object_avoidance", number_of_obstacles=2), build("oval"))
        expected.reset(np.random.default_rng(0), False)
        poses = got["objects/poses"][-1].poses
        np.testing.assert_allclose([(p.position.x, p.position.y) for p in poses], expected.poses[:, :2], atol=1e-9)
        cubes = [m for m in got["objects/markers"][-1].markers if m.action == Marker.ADD]
        assert [(m.type, m.scale.x, m.scale.y, m.scale.z) for m in cubes] == [(Marker.CUBE, 0.4, 0.3, 0.25)] * 2
        # put the car on the first box's lane just before it and drive on: the answer reports the crash
        x, y, yaw = expected.lanes[False].poses(np.array([expected.along[0] - 0.6]), np.array([expected.lateral[0]]))[0]
        placed = probe.call(ResetCar, "reset_car", ResetCar.Request(mode=ResetCar.Request.POSE, x=x, y=y, yaw=yaw))
        assert placed.success
        crashed = False
        for _ in range(10):
            step = probe.call(StepSimulation, "step_simulation",
                              StepSimulation.Request(periods=1, has_drive=True, speed=1.0, steering_angle=0.0))
            crashed = crashed or step.crashed
        assert crashed
        again = probe.call(ResetCar, "reset_car", ResetCar.Request(mode=ResetCar.Request.START, progress_fraction=0.5))
        assert again.success and not again.crashed
        assert sim.poll() is None
    finally:
        probe.close()
        log = stop(sim)
    assert "object_avoidance: 2 obstacles" in log


def test_free_running_node_follows_cmd_vel():
    from geometry_msgs.msg import Twist
    from nav_msgs.msg import Odometry

    from racer_interfaces.srv import StepSimulation

    sim = subprocess.Popen([str(BIN / "racer_sim_node"), "--ros-args", "-p", "real_time_factor:=4.0"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    probe = Probe()
    try:
        probe.listen(Odometry, "odom")
        refused = probe.call(StepSimulation, "step_simulation", StepSimulation.Request(periods=1))
        assert not refused.success and "free-running" in refused.message
        pub = probe.node.create_publisher(Twist, "cmd_vel", 10)
        twist = Twist()
        twist.linear.x = 1.0
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            pub.publish(twist)
            probe.spin_until(lambda: False, timeout=0.1)
            if probe.got["odom"] and probe.got["odom"][-1].twist.twist.linear.x > 0.5:
                break
        stamps = [ns(m.header.stamp) for m in probe.got["odom"]]
        assert probe.got["odom"][-1].twist.twist.linear.x > 0.5
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    finally:
        probe.close()
        stop(sim)


def test_bridge_env_matches_direct_env():
    """Same seed and actions: identical observations, rewards and statuses through ROS and in process."""
    from racer_agent.env.time_trial import TimeTrialEnv
    from racer_agent.ros.simulator import RosSimulator

    sim = start_sim()
    try:
        bridge = TimeTrialEnv(simulator=RosSimulator, track="circuit")
        direct = TimeTrialEnv(track="circuit")
        try:
            obs_b, _ = bridge.reset(seed=3)
            obs_d, _ = direct.reset(seed=3)
            assert np.array_equal(obs_b, obs_d)
            rng = np.random.default_rng(3)
            statuses, episodes = set(), 0
            for _ in range(250):
                action = int(rng.integers(bridge.action_space.n))
                b, d = bridge.step(action), direct.step(action)
                assert np.array_equal(b[0], d[0])
                assert b[1] == d[1] and b[2:4] == d[2:4]
                assert b[4]["episode_status"] == d[4]["episode_status"]
                assert b[4]["progress"] == d[4]["progress"]
                assert b[4]["lap_time"] == pytest.approx(d[4]["lap_time"], abs=1e-8)
                statuses.add(b[4]["episode_status"])
                if b[2] or b[3]:
                    episodes += 1
                    assert np.array_equal(bridge.reset()[0], direct.reset()[0])
            assert episodes >= 2 and "off_track" in statuses  # resets and a real episode end were compared
        finally:
            bridge.close()
    finally:
        stop(sim)


def test_dead_simulator_is_a_clear_error_within_the_timeout():
    from racer_agent.env.time_trial import TimeTrialEnv
    from racer_agent.ros.simulator import RosSimulator
    from racer_core.simulator_errors import SimulatorUnavailable

    start = time.monotonic()
    with pytest.raises(SimulatorUnavailable, match="step_simulation.*not available"):
        TimeTrialEnv(simulator=lambda *a: RosSimulator(*a, namespaces=["nobody_here"], connect_timeout_s=1.0))
    assert time.monotonic() - start < 5

    sim = start_sim()
    env = TimeTrialEnv(simulator=lambda *a: RosSimulator(*a, timeout_s=1.0))
    try:
        env.reset(seed=0)
        env.step(2)
        sim.kill()
        sim.wait()
        start = time.monotonic()
        with pytest.raises(SimulatorUnavailable, match="step_simulation did not answer within 1 s"):
            env.step(2)
        assert time.monotonic() - start < 4
    finally:
        env.close()
        stop(sim)


def test_racer_train_sim_ros_completes(tmp_path):
    """The pip-install path: `racer train --sim ros` starts the sim node and the trainer node, and
    every option reaches the trainer (--direction was once dropped on the way)."""
    out = tmp_path / "run"
    result = subprocess.run([str(BIN / "racer"), "train", "--sim", "ros", "--steps", "600", "--minutes", "2",
                             "--direction", "reverse", "--seed", "3", "--out", str(out), "--quiet"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    config = json.loads((out / "config.json").read_text())
    assert (config["sim"], config["direction"], config["seed"], config["num_cars"]) == ("ros", "reverse", 3, 1)
    assert (out / "checkpoints" / "latest.pt").is_file() and (out / "model" / "model.onnx").is_file()
    rows = (out / "metrics" / "episodes.csv").read_text().splitlines()
    assert len(rows) > 5  # episodes driven through the bridge were logged


def test_trainer_keeps_its_checkpoint_when_the_simulator_dies(tmp_path):
    out = tmp_path / "run"
    sim = start_sim()
    often = tmp_path / "often.yaml"
    # a first checkpoint within seconds (short iterations, an evaluation after each), not 20,000 samples
    often.write_text("eval_every_samples: 300\nnum_episodes_between_training: 8\n")
    trainer = subprocess.Popen([str(BIN / "racer_train_node"), "--ros-args", "-p", f"out:={out}", "-p", "sim:=ros",
                                "-p", "timeout_s:=1.0", "-p", "minutes:=5.0", "-p", "quiet:=true",
                                "-p", f"config:={often}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoints" / "latest.pt").is_file():  # first evaluation done
            assert trainer.poll() is None and time.monotonic() < deadline, trainer.communicate()
            time.sleep(0.2)
        sim.kill()
        sim.wait()
        _, err = trainer.communicate(timeout=60)
    finally:
        if trainer.poll() is None:
            trainer.kill()
        stop(sim)
    assert trainer.returncode == 2
    assert "did not answer within 1 s" in err or "no message on" in err
    assert "last good checkpoint" in err and (out / "checkpoints" / "latest.pt").is_file()


@pytest.fixture(scope="session")  # session: kept while xdist interleaves other modules
def model_dir(tmp_path_factory) -> Path:
    from racer_agent.evaluation.export import export
    from racer_agent.training import config
    from racer_agent.training.trainer import Trainer

    tmp = tmp_path_factory.mktemp("model")
    cfg = config.load(track="oval", num_cars=4, eval_laps=1, eval_every_samples=0, steps=300, torch_threads=1,
                      hyperparameters={"num_episodes_between_training": 4, "batch_size": 128})
    Trainer(cfg, tmp / "run", show_progress=False).train()
    return Path(export(tmp / "run", tmp / "model")["model"]).parent


@contextlib.contextmanager
def driving(model_dir: Path, commands: int):
    """A free-running sim node and an inference node driving it, and a probe that has seen `commands`
    moving cmd_drive messages; yields (sim, driver, probe, the cmd_drive messages)."""
    from ackermann_msgs.msg import AckermannDriveStamped

    sim = subprocess.Popen([str(BIN / "racer_sim_node"), "--ros-args", "-p", "track:=oval"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    driver = subprocess.Popen([str(BIN / "racer_inference_node"), "--ros-args", "-p",
                               f"model_dir:={model_dir}", "-p", "image_timeout_s:=0.5"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    probe = Probe()
    try:
        probe.listen(AckermannDriveStamped, "cmd_drive")
        drives = probe.got["cmd_drive"]
        assert probe.spin_until(lambda: sum(m.drive.speed > 0 for m in drives) >= commands, timeout=30), driver.poll()
        yield sim, driver, probe, drives
    finally:
        probe.close()
        driver.log = stop(driver)
        stop(sim)


def test_inference_node_drives_and_stops_when_the_camera_stalls(model_dir):
    with driving(model_dir, commands=10) as (sim, _driver, probe, drives):
        speeds = {round(m.drive.speed, 3) for m in drives if m.drive.speed > 0}
        assert speeds <= {a["speed"] for a in DEFAULT_ACTIONS}  # the default action space's speeds, nothing else
        assert all(abs(m.drive.steering_angle) <= math.radians(30) + 1e-6 for m in drives)
        sim.kill()
        sim.wait()
        stalled = len(drives)
        assert probe.spin_until(lambda: any(m.drive.speed == 0.0 for m in drives[stalled:]), timeout=5)
        assert drives[-1].drive.speed == 0.0


def test_inference_node_stops_on_a_bad_image_and_when_killed(model_dir):
    """An image it cannot read gets a warning and a stop, never a crash; SIGTERM sends a last stop."""
    from sensor_msgs.msg import Image

    with driving(model_dir, commands=5) as (_sim, driver, probe, drives):
        camera = probe.node.create_publisher(Image, "camera/image_raw", 10)
        assert probe.spin_until(lambda: camera.get_subscription_count() > 0)
        before = len(drives)
        for _ in range(3):  # the driver keeps only the newest frame: the simulator's may replace one
            camera.publish(Image(encoding="yuv422", width=160, height=120, step=320, data=bytes(320 * 120)))
            probe.spin_until(lambda: False, timeout=0.05)
        assert probe.spin_until(lambda: any(m.drive.speed == 0.0 for m in drives[before:]), timeout=5)
        assert probe.spin_until(lambda: drives[-1].drive.speed > 0, timeout=5)  # driving again on good pictures
        driver.send_signal(signal.SIGTERM)
        driver.wait(timeout=10)
        assert probe.spin_until(lambda: drives[-1].drive.speed == 0.0, timeout=3), "no stop command on SIGTERM"
        assert driver.returncode == 0
    assert "unsupported image encoding 'yuv422'" in driver.log


def test_parameters_are_checked_at_start_and_when_set():
    from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
    from rcl_interfaces.srv import SetParameters

    for bad, says in [("control_hz:=0.0", "parameter control_hz must be > 0"),
                      ("trakc:=oval", "has no parameter trakc"),
                      ("start_fraction:=1.5", "parameter start_fraction must be in [0.0, 1.0]")]:
        result = subprocess.run([str(BIN / "racer_sim_node"), "--ros-args", "-p", bad], capture_output=True,
                                text=True, timeout=30)
        assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr, result.stderr

    sim = start_sim()
    probe = Probe()
    try:
        def set_one(name: str, value: ParameterValue):
            request = SetParameters.Request(parameters=[Parameter(name=name, value=value)])
            return probe.call(SetParameters, "/racer_sim/set_parameters", request).results[0]

        as_int = ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=0)
        refused = set_one("path_every_steps", as_int)
        assert not refused.successful and "must be > 0" in refused.reason
        as_int.integer_value = 2
        assert set_one("path_every_steps", as_int).successful
        read_only = set_one("control_hz", ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=30.0))
        assert not read_only.successful and "read-only" in read_only.reason
    finally:
        probe.close()
        stop(sim)


def test_the_camera_mount_on_tf_is_the_one_that_rendered_the_frame():
    """With domain randomisation each episode has its own mount; /tf says which."""
    from tf2_msgs.msg import TFMessage

    from racer_core.camera import camera_from
    from racer_core.scenery import Look
    from racer_interfaces.srv import ResetCar

    sim = start_sim("randomize:=true", "seed:=7")
    probe = Probe()
    try:
        probe.listen(TFMessage, "/tf")
        rng = np.random.default_rng(7)
        Look.random(rng), camera_from("deepracer_car").jittered(rng)  # the node's start-up reset drew these
        for _ in range(2):
            Look.random(rng)
            mount = camera_from("deepracer_car").jittered(rng)
            reset = probe.call(ResetCar, "reset_car", ResetCar.Request(mode=ResetCar.Request.START))

            def mount_tf(stamp=reset.stamp):
                return next((t.transform for m in probe.got["/tf"] for t in m.transforms
                             if t.header.stamp == stamp and t.child_frame_id == "camera_link"), None)

            assert probe.spin_until(lambda: mount_tf() is not None)
            tf = mount_tf()
            pitch = 2 * math.atan2(tf.rotation.y, tf.rotation.w)
            assert (tf.translation.x, tf.translation.z) == pytest.approx((mount.mount_x, mount.mount_z))
            assert math.degrees(pitch) == pytest.approx(mount.pitch_deg)
    finally:
        probe.close()
        stop(sim)


def test_ctrl_c_on_racer_train_through_ros_keeps_the_checkpoint_and_exits_0(tmp_path):
    """A terminal's Ctrl-C goes to the whole foreground process group; the simulator nodes must not
    die under the trainer (they have groups of their own and are stopped after it)."""
    out = tmp_path / "run"
    often = tmp_path / "often.yaml"
    often.write_text("eval_every_samples: 2000\n")  # a first checkpoint within seconds, not 20,000 samples
    racer = subprocess.Popen([str(BIN / "racer"), "train", "--sim", "ros", "--track", "oval", "--minutes", "5",
                              "--quiet", "--out", str(out), "--config", str(often)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoints" / "latest.pt").is_file():
            assert racer.poll() is None and time.monotonic() < deadline, racer.communicate()
            time.sleep(0.2)
        os.killpg(racer.pid, signal.SIGINT)
        stdout, stderr = racer.communicate(timeout=60)
    finally:
        if racer.poll() is None:
            os.killpg(racer.pid, signal.SIGKILL)
    assert racer.returncode == 0, stderr
    assert "interrupted" in stdout and "--resume" in stdout, stdout + stderr


def test_what_racer_starts_is_private_by_default_and_records_what_it_publishes(tmp_path):
    """`racer sim` without ROS_DOMAIN_ID picks a domain of its own: a listener elsewhere hears nothing.
    With --record, its recorder node (in that domain) writes the topics to an MCAP file, finished on
    Ctrl-C; with --monitor, its car is on the live page."""
    from conftest import chromium_missing
    from rosbags.highlevel import AnyReader
    from sensor_msgs.msg import Image

    from racer_agent import browser
    from racer_agent.monitor import free_port_pair
    from racer_sim.recorder_node import HEARD

    env = {k: v for k, v in os.environ.items() if k not in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE")}
    recording, port = tmp_path / "sim.mcap", free_port_pair()
    sim = subprocess.Popen([str(BIN / "racer"), "sim", "--track", "oval", "--record", str(recording),
                            "--monitor", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = sim.stderr.readline()
        assert "discovery LOCALHOST" in line and "private by default" in line, line
        domain = int(line.split("ROS_DOMAIN_ID=")[1].split(",")[0])
        if domain == int(os.environ["ROS_DOMAIN_ID"]):
            pytest.skip("racer sim drew this test run's own domain")
        log = collect_lines(sim.stderr)  # the recorder's log, which racer sim passes on
        heard = HEARD.format(topic="/camera/image_raw")  # its match with the camera can come seconds later
        assert wait_until(lambda: any(heard in line for line in log), 30), "".join(log)
        here, there = Probe(), Probe(domain_id=domain)
        try:
            for probe in (here, there):
                probe.listen(Image, "camera/image_raw")
            assert there.spin_until(lambda: there.got["camera/image_raw"], timeout=15)
            here.spin_until(lambda: False, timeout=2)
            assert not here.got["camera/image_raw"]
        finally:
            here.close()
            there.close()
        if not chromium_missing():  # --monitor: the car on the live page
            with browser.HeadlessChromium() as page:
                page.open(f"http://127.0.0.1:{port + 1}/")
                status = "document.getElementById('status').dataset"
                assert page.wait_for(f"Number({status}.frames) >= 2 && {status}.track === '1' && "
                                     f"{status}.cars === '1'", timeout=30), page.evaluate(f"JSON.stringify({status})")
    finally:
        stop(sim)
    with AnyReader([recording]) as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
        odom = [reader.deserialize(raw, c.msgtype) for c, _, raw in reader.messages() if c.topic == "/odom"]
    assert counts["/track/markers"] == 1 and counts["/camera/image_raw"] >= 10 and counts["/tf"] >= 10, counts
    stamps = [m.header.stamp.sec + 1e-9 * m.header.stamp.nanosec for m in odom]
    assert len(stamps) >= 10 and bool(np.all(np.diff(stamps) > 0))  # the free-running car's own clock


def test_free_running_simulator_on_sim_time_does_not_wait_for_itself():
    """Its loop runs on a steady clock: with use_sim_time it still publishes /clock and pictures, and
    keeps its pace (a timer on its own /clock would fire again at every tick it publishes)."""
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import Image

    sim = subprocess.Popen([str(BIN / "racer_sim_node"), "--ros-args", "-p", "use_sim_time:=true",
                            "-p", "real_time_factor:=2.0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    probe = Probe()
    try:
        probe.listen(Clock, "/clock")
        probe.listen(Image, "camera/image_raw")
        assert probe.spin_until(lambda: len(probe.got["/clock"]) >= 5 and len(probe.got["camera/image_raw"]) >= 5,
                                timeout=20)
        first, start = ns(probe.got["/clock"][-1].clock), time.monotonic()
        probe.spin_until(lambda: False, timeout=2.0)
        pace = (ns(probe.got["/clock"][-1].clock) - first) * 1e-9 / (time.monotonic() - start)
        assert 1.5 < pace < 2.5, f"sim seconds per wall second {pace:.1f}, real_time_factor 2"
    finally:
        probe.close()
        stop(sim)
