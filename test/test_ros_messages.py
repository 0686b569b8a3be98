"""Pure pieces under the nodes: command checking and the message conversions (no rclpy running)."""

import math

import numpy as np
import pytest

from racer_core import commands
from racer_core.camera import camera_from
from racer_core.vehicle import VehicleParams

messages = pytest.importorskip("racer_inference.messages")
images = pytest.importorskip("racer_inference.images")
sim_messages = pytest.importorskip("racer_sim.sim_messages")
CAR = VehicleParams()


def test_commands_are_clamped_or_ignored_with_a_reason():
    ok, problem = commands.checked(1.5, 0.2, CAR)
    assert ok == commands.Drive(1.5, 0.2) and problem is None
    clamped, problem = commands.checked(9.0, -2.0, CAR)
    assert clamped == commands.Drive(CAR.max_speed, -math.radians(CAR.max_steer_deg)) and "clamped" in problem
    backwards, _ = commands.checked(-1.0, 0.0, CAR)
    assert backwards.speed == 0.0  # a DeepRacer does not reverse
    for bad in [(math.nan, 0.0), (1.0, math.inf)]:
        drive, problem = commands.checked(*bad, CAR)
        assert drive is None and "non-finite" in problem
    # float32 message round-off at the steering limit is not a problem worth a warning
    assert commands.checked(1.0, float(np.float32(math.radians(30))), CAR)[1] is None


def test_twist_becomes_the_bicycle_steering_angle():
    speed, steer = commands.from_twist(2.0, 1.0, CAR)
    assert speed == 2.0 and math.tan(steer) * speed / CAR.wheelbase == pytest.approx(1.0)
    assert commands.from_twist(0.0, 1.0, CAR) == (0.0, 0.0)
    assert all(math.isnan(v) for v in commands.from_twist(math.nan, 0.0, CAR))


def test_pose_image_and_camera_conversions_round_trip():
    for yaw in np.linspace(-math.pi + 1e-9, math.pi - 1e-9, 13):
        assert messages.quaternion_yaw(messages.yaw_quaternion(float(yaw))) == pytest.approx(yaw, abs=1e-12)
    assert messages.ns_from_stamp(messages.stamp_from_ns(123_456_789_012)) == 123_456_789_012
    from std_msgs.msg import Header

    frame = np.random.default_rng(0).integers(0, 256, (120, 160, 1), dtype=np.uint8)
    msg = messages.image(frame, Header(frame_id="camera_optical_frame"), "mono8")
    assert msg.step == 160 and np.array_equal(images.image_array(msg), frame)
    info = sim_messages.camera_info(camera_from("deepracer_sim"), Header())
    fx = info.k[0]
    assert 2 * math.degrees(math.atan(80 / fx)) == pytest.approx(math.degrees(1.13))  # the preset's field of view
    frames = sim_messages.Frames().prefixed("car_1")
    assert (frames.map, frames.odom, frames.base) == ("map", "car_1/odom", "car_1/base_link")


def test_image_rows_with_padding_and_images_racer_cannot_read():
    from sensor_msgs.msg import Image

    frame = np.arange(4 * 3 * 3, dtype=np.uint8).reshape(4, 3, 3)
    padded = np.zeros((4, 16), np.uint8)
    padded[:, :9] = frame.reshape(4, 9)  # step 16 > width 3 x 3 channels
    msg = Image(height=4, width=3, encoding="bgr8", step=16, data=padded.tobytes())
    assert np.array_equal(images.image_array(msg), frame)
    for bad, says in [(Image(height=4, width=3, encoding="yuv422", step=6, data=bytes(24)), "unsupported"),
                      (Image(height=4, width=3, encoding="rgb8", step=9, data=bytes(20)), "malformed"),
                      (Image(height=4, width=3, encoding="rgb8", step=4, data=bytes(48)), "malformed")]:
        with pytest.raises(images.ImageError, match=says):
            images.image_array(bad)


def test_odom_stays_continuous_across_teleports():
    from racer_sim.odom_frame import OdomFrame, compose

    frame = OdomFrame()
    driven = (2.0, 1.0, 0.3)
    assert frame.to_odom(driven) == pytest.approx(driven)  # map and odom coincide until the first reset
    frame.teleport(driven, (-4.0, 5.0, -2.5))
    assert frame.to_odom((-4.0, 5.0, -2.5)) == pytest.approx(driven)  # no jump in odom
    assert compose(frame.map_to_odom, frame.to_odom((-3.0, 4.0, 1.0))) == pytest.approx((-3.0, 4.0, 1.0))


def test_lap_counter_times_laps_and_reports_leaving_the_road():
    from racer_core.builtin_tracks import build
    from racer_sim.drive import OFF_TRACK, LapCounter

    track = build("oval")
    laps, events = LapCounter(track), []
    step = 0.05  # m per pose, one pose per 0.1 s of sim time
    for k in range(int(2.2 * track.length / step)):
        x, y, yaw = track.pose_at((k * step) % track.length)
        events.append(laps.update(x, y, yaw, 0.1 * k))
    lap_times = [e for e in events if isinstance(e, float)]
    assert len(lap_times) == 2 and lap_times[0] == pytest.approx(0.1 * track.length / step, abs=0.3)
    assert OFF_TRACK not in events
    x, y, yaw = track.pose_at(1.0)
    assert laps.update(x + 5.0, y + 5.0, yaw, 1e3) == OFF_TRACK  # all four wheels far off the road
    assert laps.update(x + 5.1, y + 5.0, yaw, 1e3) is None  # said once per excursion


def test_the_simulator_side_never_imports_the_learner():
    """The simulator node, its messages and the process/launch helpers stand below racer_agent: a
    simulator machine needs no torch, and the learner's bridge shares racer_inference.messages instead."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    vendor = Path(__file__).resolve().parents[2] / "shared" / "vendor" / "ros2_launch_jazzy"
    modules = ["racer_sim.sim_node", "racer_sim.sim_messages", "racer_sim.node_processes"]
    if vendor.is_dir():
        modules.append("racer_sim.launch_support")
    code = (f"import sys; import {', '.join(modules)}; "
            "print(sorted(m for m in sys.modules if m.startswith('racer_agent')))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(vendor / "launch"), str(vendor / "launch_ros")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
