"""`racer analyze`: the report of a real training run and of a clone beside it, opened in headless
Chromium (every section rendered, no broken image or script error), its numbers checked against the
run's own files, re-scoring checked against the reward function run by hand."""

import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from racer_agent.analysis import logs as analysis_logs
from racer_agent.analysis.report import SECTIONS
from racer_agent.analysis.rescore import rebuild_params, rescore
from racer_agent.env import episode
from racer_agent.training.run_directory import read_values

ROOT = Path(__file__).resolve().parents[1]
RACER = [sys.executable, "-m", "racer_sim.cli"]
CHROMIUM = shutil.which("chromium")
REWARD = ROOT / "examples" / "centre_line_reward.py"


def racer(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    out = subprocess.run(RACER + list(args), capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A run that laps the oval, evaluated and exported as `racer train` leaves it, and its clone."""
    root = tmp_path_factory.mktemp("analysis")
    parent, clone = root / "parent", root / "clone"
    racer("train", "--track", "oval", "--cars", "8", "--steps", "40000", "--seed", "1", "--out", str(parent),
          "--quiet")
    racer("train", "--clone", str(parent), "--steps", "3000", "--out", str(clone), "--quiet")
    return parent, clone


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
    assert summary["fastest training lap (s)"] == pytest.approx(laps[0], abs=1e-6)
    assert printed["runs"][1]["cloned from"] == parent.name
    assert "lineage: clone &larr; parent" in page
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
    assert np.allclose([p["x"] for p in rebuilt], steps["x"], atol=1e-6)
    assert np.allclose([p["heading"] for p in rebuilt], steps["yaw"], atol=1e-6)
    assert [p["progress"] for p in rebuilt] == list(steps["progress"])
    assert all(p["all_wheels_on_track"] == bool(on) for p, on in zip(rebuilt, steps["on_track"], strict=True))
    # the default reward re-scored from the log is the reward the log holds
    again = rescore(steps, logs.track, str(runs[0] / "reward_function.py"))
    assert np.allclose(again, steps["reward"], atol=1e-4)


def test_a_deepracer_archive_and_bad_input(runs, tmp_path):
    """A model folder packed as .tar.gz reads as the folder does; a folder without logs says so."""
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(runs[1], arcname="model")
    assert len(analysis_logs.load(archive).steps) == len(analysis_logs.load(runs[1]).steps)
    (tmp_path / "empty").mkdir()
    bad = subprocess.run([*RACER, "analyze", str(tmp_path / "empty")], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "no training-simtrace found" in bad.stderr
