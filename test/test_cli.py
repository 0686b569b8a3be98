import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_bench_learn_reports_every_seed_and_true_medians(tmp_path):
    out = run("bench", "learn", "--json", "--tracks", "oval", "--seeds", "2", "--minutes", "0.1",
              "--peer-minutes", "0.05", "--peer-ent-coefs", "0.0")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["seeds"] == [0, 1]
    oval = result["tracks"]["oval"]
    reference = oval["reference_lap_time_s"]
    assert 2.0 < reference < 10.0  # oval's bound at the default top speed
    peer = "sb3 ent_coef 0"
    settings = result["peer_settings"][peer]
    assert settings["ent_coef"] == 0.0 and settings["n_envs"] == result["racer_settings"]["num_cars"]
    assert settings["policy_kwargs"]["network"] == result["racer_settings"]["network"]
    for learner, budget_s in (("racer", 6.0), (peer, 3.0)):
        runs = oval["runs"][learner]
        assert len(runs) == 2
        for r in runs:
            assert r["samples"] > 500 and budget_s <= r["wall_s"] < budget_s + 60
            assert r["final_laps"] == 3 and 0 <= r["final_completed"] <= 3
            if r["final_completed"]:
                assert abs(r["lap_time_over_reference"] - r["mean_lap_time_s"] / reference) < 0.01
                assert r["lap_time_over_reference"] > 0.9  # no driver beats the bound (spread starts differ a little)
            if r["all_laps_samples"] is not None:
                assert r["first_lap_samples"] <= r["all_laps_samples"]
        for key, field in (("median_first_lap_s", "first_lap_s"), ("median_mean_lap_time_s", "mean_lap_time_s")):
            values = sorted(r[field] if r[field] is not None else math.inf for r in runs)
            median = (values[0] + values[1]) / 2
            assert oval[learner][key] == (round(median, 3) if math.isfinite(median) else None)
        assert oval[learner]["every_seed_all_laps"] == all(r["final_completed"] == 3 for r in runs)


def test_bench_generalize_evaluates_only_unseen_routes(tmp_path, route_files):
    from racer_agent.bench import generalize

    folder = route_files[0].parent
    trained = [str(folder / f"{name}.npy") for name in generalize.RECIPE_TRACKS]
    unseen = generalize.unseen_routes(folder, trained)
    stems = {p.stem for p in unseen}
    assert not stems & set(generalize.RECIPE_TRACKS)
    assert "reinvent_base" not in stems and "2022_april_open" in stems
    assert len(unseen) + len(generalize.RECIPE_TRACKS) <= len(route_files)
    rows = [{"track": "a", "completed_laps": 3, "off_track": 1, "mean_lap_time_s": 9.0, "lap_time_over_reference": 1.5},
            {"track": "b", "completed_laps": 2, "off_track": 4, "mean_lap_time_s": 9.0, "lap_time_over_reference": 1.9},
            {"track": "c", "error": "route refused"}]
    assert generalize.summarise(rows) == {"routes": 2, "refused": 1, "completed_routes": 1, "completed_share": 0.5,
                                          "median_lap_time_over_reference": 1.5, "off_track_total": 5}

    with pytest.raises(ValueError, match="missing from .*racer tracks fetch reinvent_base Bowtie_track"):
        generalize.run(tmp_path, minutes=0.05)  # an empty folder, as a fresh clone's track library is
    out = run("bench", "generalize", "--json", "--routes", str(folder), "--minutes", "0.05", "--limit", "1",
              timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["unseen_routes"] == 1 and result["train_tracks"] == list(generalize.RECIPE_TRACKS)
    for key in ("plain", "randomized"):
        (route,) = result[key]["per_route"]
        assert route["track"] == unseen[0].stem and 0 <= route["completed_laps"] <= 3
        assert result[key]["completed_share"] == (1.0 if route["completed_laps"] == 3 else 0.0)
