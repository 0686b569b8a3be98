"""`racer sweep`: Ray Tune runs a tiny grid as normal training runs and compares them."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_training import LEFT_REWARD

from racer_agent.training.sweep import SweepError, SweepSpec, score

pytest.importorskip("ray")

# Ray's clusters, one at a time: both xdist workers' tests would share this machine's Ray ports.
pytestmark = pytest.mark.xdist_group("ray")

SPEC = """
base:
  track: oval
  num_cars: 2
  steps: 900
  eval_every_samples: 300
  eval_laps: 1
  hyperparameters: {num_episodes_between_training: 2, batch_size: 64}
search: grid
parameters:
  lr: [1.0e-4, 1.0e-3]
  reward: [left.py, null]
scheduler: {grace_period: 1, reduction_factor: 2}
max_concurrent: 2
"""


def test_a_tiny_grid_runs_as_training_runs_and_is_compared(tmp_path):
    (tmp_path / "left.py").write_text(LEFT_REWARD)
    (tmp_path / "spec.yaml").write_text(SPEC)
    out = tmp_path / "sweep"
    done = subprocess.run([sys.executable, "-m", "racer_sim.cli", "sweep", str(tmp_path / "spec.yaml"), "--out",
                           str(out)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads((out / "sweep.json").read_text())
    assert len(rows) == 4  # 2 x 2 grid
    assert sorted((r["params"]["lr"], r["params"]["reward"] is None) for r in rows) == \
        [(1e-4, False), (1e-4, True), (1e-3, False), (1e-3, True)]
    for row in rows:
        run = Path(row["run"])
        cfg = json.loads((run / "config.json").read_text())  # a normal run directory, with the trial's values
        assert cfg["hyperparameters"]["lr"] == row["params"]["lr"]
        assert (cfg["reward"] == str(tmp_path / "left.py")) == (row["params"]["reward"] is not None)
        assert (run / "checkpoints" / "latest.pt").is_file() and (run / "model_metadata.json").is_file()
        assert row["stop"] in ("step budget", "stopped early (ASHA)")
        assert row["evaluations"] >= 1 and 0.0 <= row["best_progress"] <= 100.0
        if row["stop"] == "step budget":
            assert row["samples"] >= 900 and row["evaluations"] >= 2
    with open(out / "sweep.csv") as f:
        table = list(csv.DictReader(f))
    assert [r["trial"] for r in table] == [r["trial"] for r in rows]
    assert (out / "sweep.png").stat().st_size > 10_000
    for row in rows:
        assert row["trial"] in done.stdout


def test_a_spec_with_a_bad_key_fails_before_any_trial(tmp_path):
    (tmp_path / "spec.yaml").write_text("base: {track: oval}\nparameters:\n  learning_rate: [0.001]\n")
    with pytest.raises(SweepError, match="learning_rate"):
        SweepSpec.load(tmp_path / "spec.yaml")
    (tmp_path / "spec.yaml").write_text("parameters:\n  lr: {loguniform: [1.0e-4, 1.0e-3]}\n")
    with pytest.raises(SweepError, match="grid search: parameter 'lr' needs a list"):
        SweepSpec.load(tmp_path / "spec.yaml")
    (tmp_path / "spec.yaml").write_text("search: random\nnum_samples: 3\nparameters:\n"
                                        "  lr: {loguniform: [1.0e-4, 1.0e-3]}\n  num_cars: [2, 4]\n")
    spec = SweepSpec.load(tmp_path / "spec.yaml")
    assert spec.num_samples == 3 and set(spec.param_space()) == {"lr", "num_cars"}


def test_the_score_puts_every_lapping_trial_before_every_other():
    lapping = {"completed_laps": 3, "laps": [0, 1, 2], "lap_time_over_reference": 1.9, "mean_progress": 100.0}
    nearly = {"completed_laps": 2, "laps": [0, 1, 2], "lap_time_over_reference": 1.2, "mean_progress": 99.0}
    far = {**nearly, "mean_progress": 40.0}
    assert score(lapping) == 1.9 < score(nearly) < score(far)
