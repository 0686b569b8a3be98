import json
import subprocess
import sys
from pathlib import Path

RACER = [sys.executable, "-m", "racer_sim.cli"]


def run(*args, timeout=300):
    return subprocess.run([*RACER, *args], capture_output=True, text=True, timeout=timeout)


def test_tracks_list_and_show(tmp_path):
    out = run("tracks", "list")
    assert out.returncode == 0 and "circuit" in out.stdout and "technical" in out.stdout
    png = tmp_path / "t.png"
    assert run("tracks", "show", "technical", "--out", str(png)).returncode == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = run("tracks", "show", "nowhere.npy")
    assert bad.returncode == 2 and "no such route file" in bad.stderr


def test_drive_writes_pictures(tmp_path):
    out = run("drive", "--scripted", "--track", "oval", "--speed", "2", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "lap_complete" in out.stdout
    assert (tmp_path / "driven_line.png").stat().st_size > 1000
    assert list(Path(tmp_path).glob("camera_*.png"))


def test_bench_sim_prints_one_json_object():
    out = run("bench", "sim", "--json", "--seconds", "0.3", "--cars", "4")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["steps_per_s"] > 0 and result["carracing_steps_per_s"] > 0
    ratio = result["steps_per_s"] / result["carracing_steps_per_s"]
    assert abs(result["ratio_vs_carracing"] - ratio) < 0.02 * ratio + 0.01


def test_bench_learn_reports_both_learners(tmp_path):
    """Structure only (the learning targets are benchmark figures, not test assertions)."""
    out = run("bench", "learn", "--json", "--tracks", "oval", "--seeds", "1", "--minutes", "0.1",
              "--peer-minutes", "0.05")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    oval = result["tracks"]["oval"]
    assert oval["reference_lap_time_s"] > 0
    for learner in ("racer", "sb3"):
        assert set(oval[learner]) >= {"median_first_lap_s", "median_all_laps_s", "median_final_completion",
                                      "median_mean_lap_time_s", "median_lap_time_over_reference"}
        assert oval["runs"][learner][0]["samples"] > 0
