"""`racer analyze`: the report of a real training run and of a clone beside it, opened in headless
Chromium (every section rendered, no broken image or script error), its numbers checked against the
run's own files, re-scoring checked against the reward function run by hand."""

import json
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import needs_chromium, run_watched

from racer_agent.analysis import logs as analysis_logs
from racer_agent.analysis.report import SECTIONS
from racer_agent.analysis.rescore import rebuild_params, rescore
from racer_agent.env import episode, simtrace
from racer_agent.training.run_directory import read_values

ROOT = Path(__file__).resolve().parents[1]
RACER = [sys.executable, "-m", "racer_sim.cli"]
CHROMIUM = shutil.which("chromium")
REWARD = ROOT / "examples" / "centre_line_reward.py"


def racer(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    out = subprocess.run(RACER + list(args), capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    return out


pytestmark = pytest.mark.xdist_group("lapping_run")  # one worker with test_deepracer.py: one lapping run


@pytest.fixture(scope="module")
def runs(lapping_run, tmp_path_factory):
    """The run that laps the oval (conftest), and a clone of it trained a little further."""
    clone = tmp_path_factory.mktemp("analysis") / "clone"
    racer("train", "--clone", str(lapping_run), "--steps", "3000", "--out", str(clone), "--quiet")
    return lapping_run, clone


@pytest.fixture(scope="module")
def report(runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    printed = racer("analyze", *map(str, runs), "--reward", str(REWARD), "--out", str(out), "--json")
    return out, json.loads(printed.stdout)


def _section(page: str, table_id: str) -> str:
    match = re.search(rf'<div class="table" id="{table_id}">(.*?)</div>', page, re.S)
    assert match, table_id
    return match.group(1)


def test_report_numbers_are_the_runs_own(runs, report):
    out, printed = report
    page = (out / "report.html").read_text()
    for key in SECTIONS:
        assert f'<section id="{key}">' in page, key
    parent, clone = runs
    episodes = [e for e in read_values(parent / "metrics" / "episodes.csv") if e["phase"] == "train"]
    laps = sorted(e["lap_time_s"] for e in episodes if e["status"] == episode.LAP_COMPLETE)
    assert laps, "the parent run must lap for this test to mean anything"
    fastest = _section(page, "run0-fastest")
    assert f"<td>{laps[0]:.4g}</td>" in fastest  # deepracer-utils' episode time is racer's lap time
    summary = printed["runs"][0]
    assert summary["training laps completed"] == len(laps)
    assert summary["episodes"] == len(episodes)
    assert summary["fastest training lap (s)"] == pytest.approx(laps[0], abs=1e-4)  # episodes.csv: 6 digits
    assert printed["runs"][1]["cloned from"] == parent.name
    assert f"lineage: clone &larr; {parent.name}" in page
    evaluation = json.loads((parent / "evaluation" / "final" / "evaluation.json").read_text())
    shown = _section(page, "run0-evaluations")
    for lap in evaluation["laps"]:
        assert f"<td>{lap['lap_time_s']:.4g}</td>" in shown


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium (scripts/setup.sh --test installs it)")
def test_report_renders_in_headless_chromium(report, tmp_path):
    out, _ = report
    browser = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}",
               "--virtual-time-budget=10000"]
    dom = subprocess.run([*browser, "--dump-dom", (out / "report.html").as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    status = re.search(r'id="report-status"([^>]*)>', dom)
    assert status, dom[-500:]
    values = dict(re.findall(r'data-(\w+)="(-?\d+)"', status.group(1)))
    assert int(values["images"]) >= 12 and values["broken"] == "0" and values["errors"] == "0", values
    shot = tmp_path / "report.png"
    subprocess.run([*browser, "--window-size=1300,2000", f"--screenshot={shot}", (out / "report.html").as_uri()],
                   capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rescoring_rebuilds_the_params_training_saw(runs):
    """The rebuilt params put the car where the log says and score it as the reward function does."""
    logs = analysis_logs.load(runs[0])
    steps = logs.steps.head(400)
    rebuilt = rebuild_params(steps, logs.track)
    # the probe's front point from the car origin is where the log put the car (FRONT_OFFSET along yaw)
    assert np.allclose([p["x"] for p in rebuilt], steps["x"], atol=1e-6)
    assert np.allclose([p["y"] for p in rebuilt], steps["y"], atol=1e-6)
    # measured from the pose again, as training measured it
    assert all(p["all_wheels_on_track"] == bool(on) for p, on in zip(rebuilt, steps["on_track"], strict=True))
    nearest = [simtrace._closest(p["waypoints"], p["closest_waypoints"], p["x"], p["y"]) for p in rebuilt]
    assert nearest == list(steps["closest_waypoint"])
    # the default reward re-scored from the log is the reward the log holds
    again = rescore(steps, logs.track, str(runs[0] / "reward_function.py"))
    assert np.allclose(again, steps["reward"], atol=1e-4)


def test_evaluation_steps_are_logged_and_time_each_lap(runs, tmp_path):
    """`racer evaluate` (run by `racer train` at its end) logs every step, a lap an episode;
    deepracer-utils, given the folder in deepracer-for-cloud's layout, times each lap as
    evaluation.json does (the first from standing, the others flying from the line)."""
    from deepracer.logs import AnalysisUtils, DeepRacerLog

    final = runs[0] / "evaluation" / "final"
    evaluation = json.loads((final / "evaluation.json").read_text())
    drfc = tmp_path / "model" / "evaluation-20261206000000" / "evaluation-simtrace"
    drfc.mkdir(parents=True)
    (tmp_path / "model" / "training-simtrace").mkdir()  # what makes it the single-worker layout
    shutil.copy(final / "evaluation-simtrace" / "0-iteration.csv", drfc)
    log = DeepRacerLog(str(tmp_path / "model"))
    log.load_evaluation_trace(ignore_metadata=True)
    agg = AnalysisUtils.simulation_agg(log.dataframe(), "stream", is_eval=True)
    laps = evaluation["laps"]
    assert len(agg) == len(laps) and list(agg["episode"]) == list(range(len(laps)))
    for (_, row), lap in zip(agg.iterrows(), laps, strict=True):
        assert row["progress"] == pytest.approx(lap["progress"], abs=0.01)
        if lap["completed"] and not lap["off_track"] and not lap["crashed"]:  # no penalty in its time
            assert row["time"] == pytest.approx(lap["lap_time_s"], abs=1e-3)
    assert analysis_logs.load(runs[0]).eval_steps["stream"].eq("final").all()


def test_evaluate_records_ros2_messages_that_rosbags_reads_back(runs, tmp_path):
    """`racer evaluate --record`: an MCAP file of ROS 2 messages, one of each per judged step, whose
    poses and commands are those of the evaluation's own sim-trace."""
    from rosbags.highlevel import AnyReader

    from racer_core.simulator import FRONT_OFFSET

    recording, out = tmp_path / "eval.mcap", tmp_path / "evaluation"
    racer("evaluate", str(runs[0]), "--laps", "1", "--record", str(recording), "--out", str(out))
    steps = pd.read_csv(out / "evaluation-simtrace" / "0-iteration.csv")
    got: dict[str, list] = {}
    with AnyReader([recording]) as reader:
        types = {c.topic: c.msgtype for c in reader.connections}
        for connection, _, raw in reader.messages():
            got.setdefault(connection.topic, []).append(reader.deserialize(raw, connection.msgtype))
    assert types == {"/track/markers": "visualization_msgs/msg/MarkerArray", "/tf": "tf2_msgs/msg/TFMessage",
                     "/odom": "nav_msgs/msg/Odometry", "/camera/camera_info": "sensor_msgs/msg/CameraInfo",
                     "/camera/image_raw": "sensor_msgs/msg/Image",
                     "/cmd_drive": "ackermann_msgs/msg/AckermannDriveStamped"}
    assert all(len(got[t]) == len(steps) for t in types if t != "/track/markers")
    yaw = np.radians(steps["yaw"].to_numpy())
    x = np.array([m.pose.pose.position.x for m in got["/odom"]])
    y = np.array([m.pose.pose.position.y for m in got["/odom"]])
    before = (steps["pause_duration"] == 0).to_numpy()  # odom is map until a penalty puts the car back
    assert before[:50].all()
    assert np.allclose(x[before], (steps["X"] - FRONT_OFFSET * np.cos(yaw))[before], atol=1e-6)
    assert np.allclose(y[before], (steps["Y"] - FRONT_OFFSET * np.sin(yaw))[before], atol=1e-6)
    assert np.allclose([m.drive.speed for m in got["/cmd_drive"]], steps["throttle"], atol=1e-6)
    assert np.allclose(np.degrees([m.drive.steering_angle for m in got["/cmd_drive"]]), steps["steer"], atol=1e-4)
    stamps = [m.header.stamp.sec + 1e-9 * m.header.stamp.nanosec for m in got["/camera/image_raw"]]
    assert np.allclose(stamps, steps["tstamp"], atol=1e-6)
    images = [np.frombuffer(bytes(m.data), np.uint8).reshape(m.height, m.width) for m in got["/camera/image_raw"]]
    assert got["/camera/image_raw"][0].encoding == "mono8" and images[0].shape == (120, 160)
    assert not np.array_equal(images[0], images[len(images) // 2])  # the car moved: the picture changed


def test_a_deepracer_archive_and_bad_input(runs, tmp_path):
    """A model folder packed as .tar.gz reads as the folder does; a folder without logs says so."""
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(runs[1], arcname="model")
    rows = sum(len(f.read_text().splitlines()) - 1 for f in (runs[1] / "training-simtrace").glob("*.csv"))
    assert len(analysis_logs.load(archive).steps) == rows
    (tmp_path / "empty").mkdir()
    bad = subprocess.run([*RACER, "analyze", str(tmp_path / "empty")], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "no training-simtrace found" in bad.stderr


@needs_chromium
def test_evaluate_shows_its_laps_live_at_the_pace_asked_for(runs, tmp_path):
    """`racer evaluate --monitor`: the car on racer's live page while it laps, paced to
    --real-time-factor (the embedded simulator alone would be done before a page could open)."""
    from racer_agent.monitor import free_port_pair

    port, out = free_port_pair(), tmp_path / "evaluation"
    started = time.monotonic()
    done = run_watched([*RACER, "evaluate", str(runs[0]), "--laps", "1", "--monitor", str(port),
                        "--real-time-factor", "2", "--out", str(out)], port, page_timeout=30, run_timeout=120)
    wall = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    lap = json.loads((out / "evaluation.json").read_text())["laps"][0]
    assert lap["completed"] and wall >= lap["lap_time_s"] / 2  # not faster than twice real time
