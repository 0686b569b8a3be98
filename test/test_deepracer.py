"""racer_inference_node driving the physical DeepRacer's stock software, proven against an emulator of
the car (test/deepracer_emulator.py: its ctrl node and camera node as separate processes) over
loopback DDS, with a model trained by `racer train`."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

rclpy = pytest.importorskip("rclpy")
pytest.importorskip("deepracer_interfaces_pkg")

from conftest import LAPPING_ACTIONS, needs_chromium, run_watched  # noqa: E402
from deepracer_interfaces_pkg.msg import ServoCtrlMsg  # noqa: E402
from ros_helpers import Probe, collect_lines, stop  # noqa: E402

# one xdist worker with test_analysis.py: the lapping run (conftest) is trained once.
pytestmark = pytest.mark.xdist_group("lapping_run")

BIN = Path(sys.executable).parent
EMULATOR = Path(__file__).with_name("deepracer_emulator.py")
MAX_THROTTLE = 0.5
TOP_SPEED = max(a["speed"] for a in LAPPING_ACTIONS)  # the car's interface is under test here, not the driver


class Process:
    """A node process whose output lines are collected as they come."""

    def __init__(self, cmd: list[str]):
        self.popen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = collect_lines(self.popen.stdout)

    def stop(self) -> str:
        stop(self.popen)
        return "".join(self.lines)


def emulator(*args: str) -> Process:
    return Process([sys.executable, str(EMULATOR), *args])


def driver(model_dir: Path, *params: str) -> Process:
    cmd = [str(BIN / "racer_inference_node"), "--ros-args", "-p", "target:=deepracer", "-p", f"model_dir:={model_dir}",
           "-p", f"max_throttle:={MAX_THROTTLE}"]
    for p in params:
        cmd += ["-p", p]
    return Process(cmd)


@pytest.fixture(scope="session")
def model_dir(lapping_run) -> Path:
    return lapping_run / "model"


def wait_for(predicate, probe: Probe, timeout: float) -> bool:
    return probe.spin_until(predicate, timeout=timeout)


def test_the_emulated_deepracer_laps_stops_on_a_stalled_camera_and_is_handed_back(model_dir):
    ctrl = emulator("ctrl")
    camera = emulator("camera", "oval", str(TOP_SPEED), str(MAX_THROTTLE))  # a car calibrated to the model's top speed
    node = driver(model_dir)
    probe = Probe()
    try:
        probe.listen(ServoCtrlMsg, "/ctrl_pkg/servo_msg")
        servo = probe.got["/ctrl_pkg/servo_msg"]
        assert wait_for(lambda: any(line.startswith("lap ") for line in camera.lines), probe, 120), \
            "".join(camera.lines[-20:]) + "".join(node.lines)
        assert "vehicle_state 1\n" in ctrl.lines and "enable_state True\n" in ctrl.lines
        assert any(m.throttle > 0 for m in servo)
        assert all(-1.0 <= m.angle <= 1.0 and 0.0 <= m.throttle <= MAX_THROTTLE + 1e-6 for m in servo)

        camera.popen.send_signal(signal.SIGKILL)  # the camera stalls
        stalled, seen = time.monotonic(), len(servo)
        assert wait_for(lambda: any(m.throttle == 0.0 for m in servo[seen:]), probe, 2.0)
        assert time.monotonic() - stalled < 0.25 + 0.5  # the watchdog period plus delivery
        node.popen.send_signal(signal.SIGINT)
        node.popen.wait(timeout=15)
        assert wait_for(lambda: "enable_state False\n" in ctrl.lines, probe, 5.0), "".join(node.lines)
        assert node.popen.returncode == 0
        assert servo[-1].throttle == 0.0 and servo[-1].angle == 0.0
    finally:
        probe.close()
        log = node.stop()
        camera.stop()
        ctrl.stop()
    assert "rejected" not in "".join(ctrl.lines), log


def test_a_model_that_disagrees_with_its_metadata_never_moves_the_car(model_dir, tmp_path):
    wrong = tmp_path / "wrong"
    shutil.copytree(model_dir, wrong)
    meta = json.loads((wrong / "model_metadata.json").read_text())
    meta["racer"]["input"]["shape"] = [1, 120, 160, 3]
    (wrong / "model_metadata.json").write_text(json.dumps(meta))
    ctrl = emulator("ctrl")
    camera = emulator("camera", "oval", str(TOP_SPEED), str(MAX_THROTTLE))  # a car calibrated to the model's top speed
    node = driver(wrong)
    probe = Probe()
    try:
        probe.listen(ServoCtrlMsg, "/deepracer_navigation_pkg/auto_drive",
                     rclpy.qos.QoSProfile(depth=10, reliability=rclpy.qos.ReliabilityPolicy.BEST_EFFORT))
        commands = probe.got["/deepracer_navigation_pkg/auto_drive"]
        assert wait_for(lambda: len(commands) >= 10, probe, 30), "".join(node.lines)  # it answers every frame
        assert all(m.throttle == 0.0 and m.angle == 0.0 for m in commands)
        assert node.popen.poll() is None
    finally:
        probe.close()
        log = node.stop()
        camera.stop()
        ctrl.stop()
    assert "does not match model_metadata.json" in log and "only be sent stop commands" in log


def test_a_car_that_refuses_autonomous_mode_is_reported_and_nothing_drives(model_dir):
    camera = emulator("camera", "oval", str(TOP_SPEED), str(MAX_THROTTLE))  # no ctrl node: its services never answer
    node = driver(model_dir, "service_timeout_s:=1.0")
    probe = Probe()
    try:
        probe.listen(ServoCtrlMsg, "/deepracer_navigation_pkg/auto_drive",
                     rclpy.qos.QoSProfile(depth=10, reliability=rclpy.qos.ReliabilityPolicy.BEST_EFFORT))
        commands = probe.got["/deepracer_navigation_pkg/auto_drive"]
        assert wait_for(lambda: any("not driving" in line for line in node.lines), probe, 20), "".join(node.lines)
        probe.spin_until(lambda: False, timeout=1.0)
        assert all(m.throttle == 0.0 for m in commands) and node.popen.poll() is None
    finally:
        probe.close()
        log = node.stop()
        camera.stop()
    assert "/ctrl_pkg/vehicle_state is not available" in log


@needs_chromium
def test_racer_drive_laps_the_simulated_car_with_the_same_model_records_it_and_shows_it(model_dir, tmp_path):
    """`racer drive --record --monitor`: the car on racer's live page while it drives; the lap it
    prints is the lap in the MCAP file its recorder node wrote from the wire, and the recorded
    commands are the model's actions."""
    import numpy as np
    from rosbags.highlevel import AnyReader

    from racer_agent.monitor import free_port_pair
    from racer_core.builtin_tracks import load
    from racer_sim.drive import LapCounter

    recording, port = tmp_path / "drive.mcap", free_port_pair()
    done = run_watched([str(BIN / "racer"), "drive", str(model_dir.parent), "--laps", "1", "--minutes", "3",
                        "--record", str(recording), "--monitor", str(port)], port)
    stdout = done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
    assert "lap 1: " in stdout and "driving" in stdout and "live view at" in stdout
    printed = float(stdout.split("lap 1: ")[1].split(" s")[0])
    got: dict[str, list] = {}
    with AnyReader([recording]) as reader:
        for connection, _, raw in reader.messages():
            got.setdefault(connection.topic, []).append(reader.deserialize(raw, connection.msgtype))
    assert {"/camera/image_raw", "/camera/camera_info", "/odom", "/tf", "/cmd_drive", "/track/markers"} <= set(got)

    # the lap it printed is in the file: the recorded poses go round the track, stamped up to its end
    counter, laps = LapCounter(load("oval")), []
    for m in got["/odom"]:
        p, q = m.pose.pose.position, m.pose.pose.orientation
        stamp = m.header.stamp.sec + 1e-9 * m.header.stamp.nanosec
        laps.append(counter.update(p.x, p.y, 2 * np.arctan2(q.z, q.w), stamp))
    assert any(isinstance(lap, float) for lap in laps) or counter.progress > 95.0, counter.progress
    assert stamp >= printed - 0.1
    allowed = {(round(np.radians(a["steering_angle"]), 4), a["speed"]) for a in LAPPING_ACTIONS}
    commands = [(round(m.drive.steering_angle, 4), round(m.drive.speed, 4)) for m in got["/cmd_drive"]]
    assert commands[-1] == (0.0, 0.0)  # the driver's stop as it was shut down, recorded too
    assert set(commands[:-1]) <= allowed and len(set(commands)) > 2
    first, middle = got["/camera/image_raw"][0], got["/camera/image_raw"][len(got["/camera/image_raw"]) // 2]
    assert (first.height, first.width) == (120, 160) and bytes(first.data) != bytes(middle.data)


def test_latency_benchmark_measures_both_networks():
    result = subprocess.run([str(BIN / "racer"), "bench", "inference", "--json", "--frames", "40"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    for name in ("default", "deepracer_shallow"):
        f = figures[name]
        assert 0 < f["inference_p50_ms"] <= f["inference_p99_ms"] < 1000
        assert 0 < f["end_to_end_p50_ms"] <= f["end_to_end_p99_ms"] < 1000
        assert f["end_to_end_p50_ms"] > f["inference_p50_ms"]  # DDS both ways on top of the same work
    assert figures["deepracer_shallow"]["inference_p50_ms"] > figures["default"]["inference_p50_ms"]


def test_deploy_bundle_for_the_car(model_dir, tmp_path):
    bundle = tmp_path / "bundle.tar.gz"
    result = subprocess.run([str(BIN / "racer"), "deploy", str(model_dir.parent), "--target", "deepracer",
                             "--out", str(bundle)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    import tarfile

    with tarfile.open(bundle) as tar:
        tar.extractall(tmp_path / "car")  # our own archive; `filter=` is not in every 3.11 release
    root = tmp_path / "car" / "racer-deepracer"
    names = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert {"model/model.onnx", "model/model_metadata.json", "install.sh", "start.sh", "README.txt",
            "launch/racer_deepracer.launch.py", "src/racer_inference/package.xml", "src/racer_inference/setup.py",
            "src/racer_inference/setup.cfg", "src/racer_inference/car-requirements.txt",
            "src/racer_inference/racer_inference/inference_node.py"} <= names, names
    assert not any("deepracer_interfaces_pkg" in n or "racer_agent" in n or "__pycache__" in n for n in names)
    source = Path(__file__).resolve().parents[1] / "src" / "racer_inference" / "racer_inference"
    for module in source.glob("*.py"):  # the car runs exactly this code
        assert (root / "src/racer_inference/racer_inference" / module.name).read_bytes() == module.read_bytes()
    for script in ("install.sh", "start.sh"):
        path = root / script
        assert path.stat().st_mode & 0o111, f"{script} is not executable"
        subprocess.run(["bash", "-n", str(path)], check=True)
        lint = subprocess.run(["shellcheck", "-S", "warning", str(path)], capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout
    vermin = shutil.which("vermin", path=str(BIN))
    check = subprocess.run([vermin, "--eval-annotations", "--no-tips", "--violations", "-t=3.8-",
                            str(root / "launch"), str(root / "src")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from racer_inference.model import Model; "
            "m = Model(sys.argv[2]); print(m.kind, m.input_shape)")
    loaded = subprocess.run([sys.executable, "-c", code, str(root / "src/racer_inference"), str(root / "model")],
                            capture_output=True, text=True, check=True)
    assert loaded.stdout.split()[0] == "discrete"
