"""Export to ONNX (parity, versions, metadata) and evaluation (laps, penalties, reference, pictures)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from racer_agent.env.actions import DEFAULT_ACTIONS
from racer_agent.env.race import Race, RaceConfig
from racer_agent.evaluation import model_metadata
from racer_agent.evaluation.export import export
from racer_agent.evaluation.laps import drive_laps
from racer_agent.evaluation.model_metadata import MetadataError
from racer_agent.evaluation.onnx_policy import OnnxPolicy
from racer_agent.evaluation.policy import TorchPolicy
from racer_agent.training import config
from racer_agent.training.run_directory import RunDirectory
from racer_agent.training.trainer import Trainer

# one xdist worker: the module's trained run is made once.
pytestmark = pytest.mark.xdist_group("export")

RACER = [sys.executable, "-m", "racer_sim.cli"]
ROOT = Path(__file__).resolve().parent.parent


STRAIGHT = [{"steering_angle": 0.0, "speed": 1.0}]  # straight on at 1 m/s: off the road at every corner


@pytest.fixture(scope="session")  # session: kept while xdist interleaves other modules
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    # trained the other way round: evaluation, export and drive must keep to it
    cfg = config.load(track="oval", direction="reverse", num_cars=4, eval_laps=1, eval_every_samples=0, steps=600,
                      torch_threads=1,
                      hyperparameters={"num_episodes_between_training": 4, "batch_size": 128})
    Trainer(cfg, out, show_progress=False).train()
    return out


def test_export_is_checked_and_matches_torch(run_dir, tmp_path):
    result = export(run_dir, tmp_path)
    model = onnx.load(str(tmp_path / "model.onnx"))
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version <= 9
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) <= 17
    meta = json.loads((tmp_path / "model_metadata.json").read_text())
    assert meta["action_space_type"] == "discrete" and len(meta["action_space"]) == len(DEFAULT_ACTIONS)
    assert meta["sensor"] == ["FRONT_FACING_CAMERA"] and meta["training_algorithm"] == "clipped_ppo"
    assert meta["neural_network"] == "RACER_SMALL" and meta["version"] == "5"
    assert meta["racer"]["input"]["shape"] == [1, 120, 160, 1]
    assert meta["racer"]["camera"]["hfov_deg"] == 120.0

    torch_policy = TorchPolicy.from_checkpoint(RunDirectory(run_dir).checkpoint_for_driving())  # what export used
    onnx_policy = OnnxPolicy(tmp_path)
    frames = np.random.default_rng(1).integers(0, 256, (16, 120, 160, 1), dtype=np.uint8)
    with torch.no_grad():
        expected = torch.softmax(torch_policy.model.actor(torch.from_numpy(frames)), -1).numpy()
    got = onnx_policy.probabilities_or_means(frames.astype(np.float32))
    assert got.shape == (16, len(DEFAULT_ACTIONS))
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert result["max_abs_diff_vs_torch"] < 1e-4
    np.testing.assert_array_equal(onnx_policy(frames), torch_policy(frames))


def test_model_with_wrong_input_shape_is_refused(run_dir, tmp_path):
    export(run_dir, tmp_path)
    meta = json.loads((tmp_path / "model_metadata.json").read_text())
    meta["racer"]["input"]["shape"] = [1, 60, 80, 1]
    (tmp_path / "model_metadata.json").write_text(json.dumps(meta))
    with pytest.raises(MetadataError, match="input shape .* does not match model_metadata.json"):
        OnnxPolicy(tmp_path)
    meta["racer"]["input"]["shape"] = [1, 120, 160, 1]
    meta["action_space"] = meta["action_space"][:4]
    (tmp_path / "model_metadata.json").write_text(json.dumps(meta))
    with pytest.raises(MetadataError, match="output shape"):
        OnnxPolicy(tmp_path)
    (tmp_path / "model_metadata.json").write_text("{not json")
    with pytest.raises(MetadataError, match="cannot read model metadata"):
        model_metadata.read(tmp_path)


def test_penalty_resets_keep_the_lap_going():
    """Always straight on: each corner puts the car off the road; with penalties the lap still ends."""
    race = Race(RaceConfig(track="oval", start="start_line", action_space=STRAIGHT), num_cars=2)
    straight = 0

    def policy(frames):
        return np.full(len(frames), straight)

    laps, _ = drive_laps(race, policy, [0.0, 0.0], penalty_seconds=2.0)
    lap = laps[0]
    assert lap.completed and lap.off_track >= 2
    driving_time = (len(lap.path) - 1) / 15.0
    assert lap.lap_time_s == pytest.approx(driving_time + 2.0 * lap.off_track, abs=1e-6)
    no_resets, _ = drive_laps(race, policy, [0.0, 0.0], penalty_seconds=None)
    assert not no_resets[0].completed and no_resets[0].status == "off_track" and no_resets[0].off_track == 1


def test_consecutive_laps_are_one_run_timed_at_the_line():
    race = Race(RaceConfig(track="oval", start="start_line", action_space=STRAIGHT), num_cars=1)
    straight = 0
    laps, _ = drive_laps(race, lambda frames: np.full(len(frames), straight), [0.0], penalty_seconds=2.0,
                         consecutive=3)
    assert [lap.completed for lap in laps] == [True] * 3 and [lap.flying for lap in laps] == [False, True, True]
    for lap in laps:
        assert lap.lap_time_s == pytest.approx((len(lap.path) - 1) / 15.0 + 2.0 * lap.off_track, abs=1e-6)
        assert lap.off_track >= 2
    assert race.episodes[0] == 1  # one run: the car was placed on the start line once


def test_off_track_reset_puts_the_car_on_the_nearer_lane():
    race = Race(RaceConfig(track="oval", start="start_line"), num_cars=1)
    race.reset_car(0, 0.0, False)
    x, y, yaw = race.track.pose_at(3.0)
    for side in (1.0, -1.0):
        race.sim.place(0, x - side * 0.8 * np.sin(yaw), y + side * 0.8 * np.cos(yaw), yaw)  # off to one side
        race.trackers[0].covered = 3.0
        race.recover_car(0)
        p = race.track.project(*race.sim.state[0, :2])
        assert p.distance_from_center == pytest.approx(p.track_width / 4, abs=0.02)
        assert p.is_left_of_center == (side > 0)


def test_evaluate_cli_json_pictures_and_video(run_dir, tmp_path):
    video = tmp_path / "lap.mp4"
    out = subprocess.run([*RACER, "evaluate", str(run_dir), "--laps", "2", "--json", "--out", str(tmp_path),
                          "--video", str(video)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    [report] = json.loads(out.stdout)["evaluations"]
    assert (report["track"], report["direction"]) == ("oval", "reverse")  # as it was trained
    for key in ("laps", "completed_laps", "mean_lap_time_s", "best_lap_time_s", "off_track_count",
                "reference_lap_time_s"):
        assert key in report
    assert 1 <= len(report["laps"]) <= 2 and report["reference_lap_time_s"] > 0
    assert report["reference_flying_lap_time_s"] < report["reference_lap_time_s"]
    # no driver beats the bound; the second lap of the continuous run is a flying one
    assert report["lap_time_over_reference"] is None or report["lap_time_over_reference"] >= 1.0
    assert {"completed", "lap_time_s", "off_track", "crashed", "reversed", "immobilized"} <= set(report["laps"][0])
    assert (tmp_path / "driven_lines.png").read_bytes()[:4] == b"\x89PNG"
    assert video.stat().st_size > 1000
    exported = tmp_path / "model"
    assert subprocess.run([*RACER, "export", str(run_dir), "--out", str(exported)], timeout=300).returncode == 0
    assert json.loads((exported / "model_metadata.json").read_text())["racer"]["trained_on"] == \
        {"tracks": ["oval"], "direction": "reverse", "race": {}}  # a time trial
    onnx_eval = subprocess.run([*RACER, "evaluate", str(exported), "--laps", "1", "--json"],  # no config.json here
                               capture_output=True, text=True, timeout=300)
    assert onnx_eval.returncode == 0, onnx_eval.stderr
    [onnx_report] = json.loads(onnx_eval.stdout)["evaluations"]
    assert (onnx_report["track"], onnx_report["direction"]) == ("oval", "reverse")
    assert onnx_report["laps"][0]["progress"] == pytest.approx(report["laps"][0]["progress"], abs=0.5)


def test_each_evaluation_keeps_its_own_folder_and_alternate_is_both_ways(run_dir):
    """The training's final evaluation stays; every `racer evaluate` adds a folder, never overwrites."""
    from racer_agent.evaluation.report import evaluate_as_trained

    evaluate_as_trained(run_dir, laps=1, out_dir=RunDirectory(run_dir).final_evaluation)  # as training ends
    final = (run_dir / "evaluation" / "final" / "evaluation.json").read_bytes()
    runs = [subprocess.run([*RACER, "evaluate", str(run_dir), "--laps", "1", "--json", *extra], capture_output=True,
                           text=True, timeout=300) for extra in ([], ["--direction", "alternate"])]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    reports = [rep for r in runs for rep in json.loads(r.stdout)["evaluations"]]
    assert [rep["direction"] for rep in reports] == ["reverse", "forward", "reverse"]
    folders = {Path(rep["folder"]) for rep in reports}
    assert len(folders) == 3 and all(f.parent == run_dir / "evaluation" and f.is_dir() for f in folders)
    assert (run_dir / "evaluation" / "final" / "evaluation.json").read_bytes() == final


def test_make_pictures_remakes_every_documented_picture_from_a_run(run_dir, tmp_path):
    """scripts/make_pictures.py writes every image the docs show; the run's own come from the run."""
    from racer_agent.evaluation.report import evaluate_as_trained
    from racer_agent.training.curves import save_training_curves

    run = RunDirectory(run_dir)
    save_training_curves(run)
    if not (run.final_evaluation / "driven_lines.png").is_file():
        evaluate_as_trained(run_dir, laps=1, out_dir=run.final_evaluation)
    images = tmp_path / "images"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_pictures.py"), "--run", str(run_dir),
                           "--images", str(images)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    shown = {m for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
             for m in re.findall(r"images/([\w.-]+\.png)", doc.read_text())}
    assert shown and shown == {p.name for p in images.glob("*.png")}  # every picture shown, and only those
    driven = run.final_evaluation / "driven_lines.png"
    assert (images / "evaluation_driven_lines.png").read_bytes() == driven.read_bytes()
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in images.glob("*.png"))
