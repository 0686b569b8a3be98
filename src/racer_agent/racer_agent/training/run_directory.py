"""The files of one training run, where users (and `racer evaluate`/`export`) expect them.

    RUN/config.json                 resolved configuration of the latest session (re-runnable with --config)
    RUN/reward_function.py          copy of the reward function the latest session trained with
    RUN/model_metadata.json         DeepRacer schema + racer's preprocessing block
    RUN/sessions/<n>/               what each session (the first run, then each --resume) trained with:
                                    config.json, reward_function.py and session.json (from which
                                    iteration, and what changed from the session before)
    RUN/checkpoints/latest.pt       last iteration (resume from here)
    RUN/checkpoints/best.pt         best greedy evaluation (progress, then lap time)
    RUN/checkpoints/cars.pkl        the training cars' simulator state at latest.pt (an exact resume)
    RUN/metrics/episodes.csv        one row per episode (columns: EPISODE_COLUMNS)
    RUN/metrics/iterations.csv      one row per PPO iteration (columns: ITERATION_COLUMNS)
    RUN/training-simtrace/<k>-iteration.csv
                                    every training step of the episodes that ended in iteration k + 1,
                                    in DeepRacer's sim-trace format (env/simtrace.py; DeepRacer counts
                                    iterations from 0)
    RUN/tensorboard/                TensorBoard events
    RUN/plots/*.png                 reward and progress per episode and per iteration
    RUN/evaluation/final/           the training's final evaluation (JSON, driven lines; a folder per
                                    track and direction when there are several)
    RUN/evaluation/<date>-<track>/  each `racer evaluate` (never overwritten)
    RUN/model/                      exported model.onnx + model_metadata.json
"""

from __future__ import annotations

import csv
import json
import shutil
import time
from pathlib import Path

from racer_agent.env.simtrace import TRAINING_FOLDER
from racer_agent.training import checkpoint

EPISODE_COLUMNS = ("iteration", "episode", "phase", "car", "track", "reward", "progress", "status", "steps",
                   "lap_time_s", "samples", "wall_s")
ITERATION_COLUMNS = ("iteration", "samples", "wall_s", "episodes", "mean_reward", "mean_progress",
                     "completion_rate", "crashes", "off_track", "speed_cap", "policy_loss", "value_loss",
                     "entropy", "approx_kl",
                     "clip_fraction", "samples_per_s", "eval_progress", "eval_completed", "eval_lap_time_s",
                     "eval_lap_over_reference")


class RunDirectory:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.config = self.root / "config.json"
        self.reward = self.root / "reward_function.py"
        self.metadata = self.root / "model_metadata.json"
        self.checkpoints = self.root / "checkpoints"
        self.latest = self.checkpoints / "latest.pt"
        self.best = self.checkpoints / "best.pt"
        self.car_state = self.checkpoints / "cars.pkl"
        self.metrics = self.root / "metrics"
        self.episodes_csv = self.metrics / "episodes.csv"
        self.iterations_csv = self.metrics / "iterations.csv"
        self.tensorboard = self.root / "tensorboard"
        self.training_simtrace = self.root / TRAINING_FOLDER
        self.plots = self.root / "plots"
        self.evaluation = self.root / "evaluation"
        self.final_evaluation = self.evaluation / "final"  # the training's own; `racer evaluate` adds dated ones
        self.model = self.root / "model"
        self.sessions = self.root / "sessions"

    def create(self, config: dict, reward_source: Path, metadata: dict) -> None:
        for d in (self.root, self.checkpoints, self.metrics, self.plots):
            d.mkdir(parents=True, exist_ok=True)
        self.record_session(config, reward_source, metadata, iteration=0, samples=0)

    def record_session(self, config: dict, reward_source: Path, metadata: dict, iteration: int,
                       samples: int) -> dict:
        """Keep what this session trains with, so a resume that changes the reward, track or config
        leaves a true record: RUN/sessions/<n>/ holds each session's files and what changed, and the
        top-level config.json, reward_function.py and model_metadata.json become this session's."""
        if not self.sessions.is_dir() and self.config.is_file():  # a run from before sessions were kept
            self._keep_session(1, self.reward, {"session": 1, "from_iteration": 0, "changed": []})
        numbers = sorted(int(d.name) for d in self.sessions.glob("*") if d.name.isdigit())
        number = numbers[-1] + 1 if numbers else 1
        previous = self.sessions / str(number - 1)
        changed = _changes(previous, config, reward_source) if numbers else []
        record = {"session": number, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                  "from_iteration": iteration, "from_samples": samples, "changed": changed}
        self.config.write_text(json.dumps(config, indent=2) + "\n")
        self._keep_session(number, reward_source, record)
        if reward_source.resolve() != self.reward.resolve():
            shutil.copyfile(reward_source, self.reward)
        self.metadata.write_text(json.dumps(metadata, indent=2) + "\n")
        return record

    def _keep_session(self, number: int, reward_source: Path, record: dict) -> None:
        folder = self.sessions / str(number)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.config, folder / "config.json")
        shutil.copyfile(reward_source, folder / "reward_function.py")
        (folder / "session.json").write_text(json.dumps(record, indent=2) + "\n")

    def session_records(self) -> list[dict]:
        folders = sorted((d for d in self.sessions.glob("*") if d.name.isdigit()), key=lambda d: int(d.name))
        return [json.loads((d / "session.json").read_text()) for d in folders]

    def load_config(self) -> dict:
        try:
            return json.loads(self.config.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{self.root} is not a racer run directory ({exc})") from exc

    def checkpoint_for_driving(self) -> Path:
        """best.pt when an evaluation has produced one, else latest.pt."""
        for path in (self.best, self.latest):
            if path.is_file():
                return path
        raise checkpoint.CheckpointError(f"{self.root} has no checkpoint (looked for {self.best} and {self.latest})")


def _changes(previous: Path, config: dict, reward_source: Path) -> list[str]:
    """The config keys (and "reward_function", compared by content) that differ from a session's."""
    before = json.loads((previous / "config.json").read_text())
    changed = sorted(k for k in set(before) | set(config) if k != "reward" and before.get(k) != config.get(k))
    if (previous / "reward_function.py").read_bytes() != reward_source.read_bytes():
        changed.insert(0, "reward_function")
    return changed


class CsvLog:
    """Append-only CSV with a fixed header; flushed per row so a killed run keeps its metrics."""

    def __init__(self, path: Path, columns: tuple[str, ...]):
        new = not path.is_file() or path.stat().st_size == 0
        if not new:  # a resumed run written by an older racer keeps its file's columns
            with path.open(newline="") as f:
                columns = tuple(next(csv.reader(f), columns))
        self.columns = columns
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", newline="")
        self._writer = csv.DictWriter(self._file, fieldnames=columns, extrasaction="ignore")
        if new:
            self._writer.writeheader()

    def write(self, row: dict) -> None:
        self._writer.writerow({k: _fmt(row.get(k)) for k in self.columns})
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_csv(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def read_values(path: Path) -> list[dict]:
    """`read_csv` with numbers as int or float and empty cells as None."""
    return [{k: _value(v) for k, v in row.items()} for row in read_csv(path)]


def _value(text: str):
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
