"""The ROS 2 workspace as a ROS user gets it: `scripts/colcon_build.sh` builds every package into an
install space, and each launch file is launched from it for real with Jazzy's own launch packages
(`scripts/ros2_launch.sh`), with real nodes over loopback DDS."""

from __future__ import annotations

import os
import signal
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

rclpy = pytest.importorskip("rclpy")

from ackermann_msgs.msg import AckermannDriveStamped  # noqa: E402
from nav_msgs.msg import Odometry  # noqa: E402
from ros_helpers import Probe  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT.parent / "shared" / "vendor" / "ros2_launch_jazzy"
PACKAGES = ["racer_core", "racer_interfaces", "racer_agent", "racer_inference", "racer_sim"]
EXECUTABLES = {"racer_sim": ["racer", "racer_sim_node", "racer_twist_node"], "racer_agent": ["racer_train_node"],
               "racer_inference": ["racer_inference_node"]}
SHARE_FILES = {"racer_sim": ["launch/train.launch.py", "launch/drive.launch.py", "launch/view.launch.py",
                             "rviz/racer.rviz", "config/sim.yaml", "config/gz_bridge.yaml", "package.xml",
                             *[f"worlds/{t}/{f}" for t in ("oval", "circuit", "technical")
                               for f in ("world.sdf", "track.png", "models/racer_car/model.sdf")]],
               "racer_agent": ["package.xml"]}

# one xdist worker: the colcon install space (a module fixture) is built once.
pytestmark = [pytest.mark.skipif(not (VENDOR / "launch").is_dir(), reason=f"Jazzy's launch packages not in {VENDOR}"),
              pytest.mark.xdist_group("workspace")]


@pytest.fixture(scope="session")  # session: kept while xdist interleaves other modules
def install(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("colcon")
    build = subprocess.run(["bash", str(ROOT / "scripts" / "colcon_build.sh"), str(out)], capture_output=True,
                           text=True, timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    return out / "install"


@pytest.fixture(scope="session")  # session: kept while xdist interleaves other modules
def workspace_env(install) -> dict[str, str]:
    """The environment of a shell that sourced the install space (as after `. install/setup.bash`)."""
    dump = subprocess.run(["bash", "-c", f". '{install}/setup.bash' && env -0"], capture_output=True, check=True)
    env = dict(line.split("=", 1) for line in dump.stdout.decode().split("\0") if "=" in line)
    env["ROS_LOG_DIR"] = str(install.parent / "ros_log")
    return env


def launch(env: dict, *args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "scripts" / "ros2_launch.sh"), *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def assert_no_deprecation(output: str) -> None:
    assert "deprecat" not in output.lower(), output


def test_install_space_is_what_ros2_run_and_launch_need(install):
    for package, names in EXECUTABLES.items():
        for name in names:
            exe = install / package / "lib" / package / name
            assert exe.is_file() and os.access(exe, os.X_OK), f"{exe} missing"
        assert not (install / package / "bin").exists(), f"{package} installs executables into bin/"
    for package, files in SHARE_FILES.items():
        for f in files:
            assert (install / package / "share" / package / f).is_file(), f"share/{package}/{f} missing"
    for package in PACKAGES:
        index = install / package / "share" / "ament_index" / "resource_index" / "packages" / package
        assert index.is_file(), f"no ament index entry for {package}"
    assert list((install / "racer_interfaces").rglob("racer_interfaces/srv/_step_simulation.py"))


def test_package_graph_has_no_cycle_and_racer_sim_is_on_top():
    """colcon refuses cycles; racer_sim starts everyone's executables, so nothing may depend on it."""
    depends = {}
    for package in PACKAGES:
        tree = ET.parse(ROOT / "src" / package / "package.xml")
        depends[package] = {e.text for e in tree.iter() if e.tag.endswith("depend") and e.text in PACKAGES}
    assert not any("racer_sim" in d for d in depends.values())
    assert depends["racer_sim"] >= {"racer_core", "racer_agent", "racer_inference", "racer_interfaces"}
    done: set[str] = set()
    while len(done) < len(PACKAGES):
        ready = {p for p in PACKAGES if p not in done and depends[p] <= done}
        assert ready, f"dependency cycle among {set(PACKAGES) - done}"
        done |= ready


@pytest.fixture(scope="session")  # session: kept while xdist interleaves other modules
def trained(install, workspace_env, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    cwd = tmp_path_factory.mktemp("train")
    run = launch(workspace_env, "racer_sim", "train.launch.py", "track:=oval", "minutes:=0.3",
                 f"out:={cwd / 'run'}", cwd=cwd)
    return cwd / "run", run


def test_train_launch_trains_and_ends_by_itself(trained):
    run_dir, result = trained
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert (run_dir / "model" / "model.onnx").is_file(), output
    assert "process has finished cleanly" in output
    assert_no_deprecation(output)


def test_launch_arguments_stay_strings_and_a_failed_trainer_fails_the_launch(workspace_env, tmp_path):
    for word in ("1", "on"):
        result = launch(workspace_env, "racer_sim", "train.launch.py", f"track:={word}", "steps:=10",
                        f"out:={tmp_path / word}", cwd=tmp_path, timeout=120)
        output = result.stdout + result.stderr
        assert f"'{word}' is neither a built-in track" in output, output  # the trainer saw the string
        assert result.returncode != 0


@pytest.mark.parametrize("launch_file", ["train.launch.py", "drive.launch.py"])
def test_sim_gazebo_without_gazebo_is_one_clear_line(workspace_env, tmp_path, launch_file):
    """Here Gazebo and ros_gz are missing: the launch description is built (world found, processes
    planned) and stops at that, in one line that says what to install."""
    args = ["sim:=gazebo"] + (["model_dir:=/nonexistent"] if launch_file == "drive.launch.py" else [])
    result = launch(workspace_env, "racer_sim", launch_file, *args, cwd=tmp_path, timeout=60)
    errors = [line for line in (result.stdout + result.stderr).splitlines() if "ERROR" in line]
    assert result.returncode != 0 and len(errors) == 1, errors
    assert "ros_gz_sim" in errors[0] and "ros-jazzy-ros-gz" in errors[0], errors


def test_view_launch_without_rviz_fails_with_one_clear_line(workspace_env, tmp_path):
    result = launch(workspace_env, "racer_sim", "view.launch.py", cwd=tmp_path, timeout=60)
    output = result.stdout + result.stderr
    errors = [line for line in output.splitlines() if "ERROR" in line]
    assert result.returncode != 0, output
    assert len(errors) == 1 and "rviz2 is not installed" in errors[0], output
    assert "Traceback" not in output


def test_drive_launch_drives_the_simulated_car(trained, workspace_env, tmp_path):
    run_dir, _ = trained
    process = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "ros2_launch.sh"), "racer_sim", "drive.launch.py",
         f"model_dir:={run_dir / 'model'}", "track:=oval", f"record:={tmp_path / 'drive.mcap'}"],
        env=workspace_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    probe = Probe()
    try:
        probe.listen(AckermannDriveStamped, "cmd_drive")
        probe.listen(Odometry, "odom")

        def moved() -> float:
            odom = probe.got["odom"]
            if len(odom) < 2:
                return 0.0
            a, b = odom[0].pose.pose.position, odom[-1].pose.pose.position
            return ((a.x - b.x) ** 2 + (a.y - b.y) ** 2) ** 0.5

        driving = probe.spin_until(
            lambda: any(m.drive.speed > 0 for m in probe.got["cmd_drive"]) and moved() > 0.5, timeout=60)
        seen = len(probe.got["cmd_drive"])  # a few seconds more: the recorder (record:=) may have started later
        probe.spin_until(lambda: len(probe.got["cmd_drive"]) >= seen + 60, timeout=20)
    finally:
        probe.close()
        os.killpg(process.pid, signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
    assert driving, output
    assert process.returncode == 0, output
    assert_no_deprecation(output)
    from rosbags.highlevel import AnyReader  # record:= started the install space's racer_recorder_node

    with AnyReader([tmp_path / "drive.mcap"]) as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
    assert counts.get("/odom", 0) > 5 and counts.get("/cmd_drive", 0) > 5 and counts.get("/track/markers") == 1, counts


def test_launch_reports_a_missing_package_or_file(workspace_env, tmp_path):
    result = launch(workspace_env, "racer_sim", "nope.launch.py", cwd=tmp_path, timeout=60)
    assert result.returncode != 0 and "nope.launch.py" in result.stderr
