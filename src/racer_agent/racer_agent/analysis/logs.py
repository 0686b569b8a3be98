"""One run's logs as tables, whoever wrote them: a racer run directory, or a DeepRacer model folder
(console export, deepracer-for-cloud) or its .tar.gz.

The step tables come through deepracer-utils' loader, which knows every DeepRacer folder layout and
reads a racer run as deepracer-for-cloud's single-worker layout (env/simtrace.py), so one code path
serves both. racer's own files (iterations.csv, episodes.csv, evaluation.json, config.json) add
what DeepRacer's logs lack (losses, entropy, the speed curriculum, the greedy evaluations, lineage);
for a DeepRacer folder the per-iteration table is derived from its steps.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from racer_agent.env import episode
from racer_agent.env.simtrace import EVALUATION_FOLDER
from racer_core import builtin_tracks
from racer_core.track import Track, TrackError

logging.getLogger("deepracer").setLevel(logging.ERROR)  # it warns about side files racer keeps elsewhere


class LogsError(ValueError):
    """A folder that holds no logs this analysis can read."""


@dataclass
class RunLogs:
    name: str
    source: Path
    steps: pd.DataFrame  # training steps: sim-trace columns as deepracer-utils names them
    episodes: pd.DataFrame  # one row per training episode: iteration, episode, progress, reward, status, time...
    iterations: pd.DataFrame  # one row per iteration (racer's iterations.csv, or derived from the steps)
    eval_steps: pd.DataFrame | None = None
    evaluations: list[dict] = field(default_factory=list)  # racer's evaluation.json files, newest last
    track: Track | None = None
    config: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    lineage: list[str] = field(default_factory=list)  # this run, its parent, the parent's parent...
    is_racer: bool = True

    @property
    def best_iteration(self) -> int | None:
        """The iteration of the best greedy evaluation (progress first, then lap time), as training
        chose best.pt; None without evaluations."""
        if "eval_progress" not in self.iterations or self.iterations["eval_progress"].isna().all():
            return None
        evals = self.iterations.dropna(subset=["eval_progress"])
        key = evals["eval_progress"] * 1e6 - evals["eval_lap_time_s"].fillna(1e5)
        return int(evals.loc[key.idxmax(), "iteration"])


def load(source: str | Path, track: str | None = None) -> RunLogs:
    """A racer run directory, a DeepRacer model folder, or a .tar.gz of either."""
    path = Path(source)
    if not path.exists():
        raise LogsError(f"{path}: no such run directory or archive")
    if path.is_file():
        if not tarfile.is_tarfile(path):
            raise LogsError(f"{path}: not a run directory or a .tar.gz of one")
        folder = Path(tempfile.mkdtemp(prefix="racer-analyze-"))
        with tarfile.open(path) as archive:
            archive.extractall(folder, filter="data")
        inner = [d for d in folder.iterdir() if d.is_dir()]
        return load(inner[0] if len(inner) == 1 and not (folder / "config.json").exists() else folder, track)
    steps = _trace(path, evaluation=False)
    if steps is None:
        raise LogsError(f"{path}: no training-simtrace found (a racer run trained with simtrace on, or a "
                        "DeepRacer console / deepracer-for-cloud model folder)")
    racer = (path / "config.json").is_file() and (path / "metrics" / "iterations.csv").is_file()
    config = json.loads((path / "config.json").read_text()) if racer else {}
    eval_steps = _racer_evaluation_trace(path) if racer else _trace(path, evaluation=True)
    episodes = _episodes(steps)
    logs = RunLogs(name=path.name, source=path, steps=steps, episodes=episodes,
                   iterations=_iterations(path, episodes, racer), eval_steps=eval_steps,
                   evaluations=_evaluations(path), track=_track(track or config.get("track"), path),
                   config=config, metadata=_json(path / "model_metadata.json", path / "model" / "model_metadata.json"),
                   lineage=_lineage(path), is_racer=racer)
    return logs


def _trace(path: Path, evaluation: bool) -> pd.DataFrame | None:
    from deepracer.logs import DeepRacerLog  # pandas, scikit-learn: only when analysing

    try:
        log = DeepRacerLog(str(path))
    except Exception:  # deepracer-utils raises bare Exceptions for "nothing here"
        return None
    # console exports keep the steps in the simulation log, which `load` finds
    loaders = [log.load_evaluation_trace] if evaluation else [log.load_training_trace, log.load]
    for loader in loaders:
        try:
            loader(force=True, ignore_metadata=True)
        except Exception:
            continue
        return _in_order(log.dataframe())
    return None


def _in_order(df: pd.DataFrame) -> pd.DataFrame | None:
    """Rows episode by episode, each in step order. deepracer-utils numbers episodes across
    iterations assuming each has as many as the first; racer's iterations end at
    num_episodes_between_training episodes or a few more (cars finishing in the same step), so
    (iteration, episode) names an episode here, and `unique_episode` is made from it."""
    if not len(df):
        return None
    df = df.sort_values(["iteration", "episode", "steps"], kind="stable").reset_index(drop=True)
    df["unique_episode"] = df.groupby(["iteration", "episode"], sort=False).ngroup()
    return df


def _racer_evaluation_trace(path: Path) -> pd.DataFrame | None:
    """Each `racer evaluate`'s steps (RUN/evaluation/<folder>/evaluation-simtrace/0-iteration.csv),
    named as deepracer-utils names an evaluation's, its folder as the `stream`."""
    from deepracer.logs import DeepRacerLog

    frames = []
    for csv_path in sorted(path.glob(f"evaluation/*/{EVALUATION_FOLDER}/0-iteration.csv")):
        frame = pd.read_csv(csv_path).rename(columns=DeepRacerLog._CSV_TO_INTERNAL_COLUMNS)
        frame["stream"], frame["iteration"] = csv_path.parent.parent.name, 0
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else None


def _episodes(steps: pd.DataFrame) -> pd.DataFrame:
    """Per episode, as deepracer-utils aggregates them, plus how it ended and its lap time."""
    from deepracer.logs import AnalysisUtils

    steps = steps.copy()
    with contextlib.redirect_stdout(io.StringIO()):  # it prints notes; the report is the output here
        agg = AnalysisUtils.simulation_agg(steps)
    last = steps.groupby(["iteration", "episode"]).tail(1).set_index(["iteration", "episode"])
    agg = agg.set_index(["iteration", "episode"])
    agg["status"] = last["episode_status"]
    agg["complete"] = agg["status"] == episode.LAP_COMPLETE
    agg["lap_time_s"] = agg["time"].where(agg["complete"])
    if "car" in last:
        agg["car"] = last["car"]
    return agg.reset_index()


def _iterations(path: Path, per_episode: pd.DataFrame, racer: bool) -> pd.DataFrame:
    if racer:
        table = pd.read_csv(path / "metrics" / "iterations.csv")
        table["iteration"] = table["iteration"] - 1  # the sim-trace's numbering, from 0
        return table
    grouped = per_episode.groupby("iteration")
    return pd.DataFrame({"iteration": grouped.size().index, "episodes": grouped.size().values,
                         "mean_reward": grouped["reward"].mean().values,
                         "mean_progress": grouped["progress"].mean().values,
                         "completion_rate": grouped["complete"].mean().values})


def _evaluations(path: Path) -> list[dict]:
    files = sorted(path.glob("evaluation/*/evaluation.json"), key=lambda p: p.stat().st_mtime)
    out = []
    for f in files:
        data = json.loads(f.read_text())
        data["folder"] = str(f.parent)
        out.append(data)
    return out


def _track(track: str | list | None, path: Path) -> Track | None:
    if isinstance(track, list):
        track = track[0]
    if not track:
        return None
    try:
        return builtin_tracks.load(track)
    except TrackError:
        return None


def _json(*paths: Path) -> dict:
    for p in paths:
        if p.is_file():
            return json.loads(p.read_text())
    return {}


def _lineage(path: Path) -> list[str]:
    """This run and its clone parents, as far as their run directories are still there."""
    chain, seen = [str(path)], {path.resolve()}
    while True:
        config = _json(Path(chain[-1]) / "config.json")
        parent = config.get("clone")
        if not parent or Path(parent).resolve() in seen:
            return chain
        chain.append(parent)
        seen.add(Path(parent).resolve())
        if not (Path(parent) / "config.json").is_file():
            return chain


def step_seconds(steps: pd.DataFrame) -> np.ndarray:
    """Wall seconds between a car's consecutive steps within an episode (the simulator's health)."""
    keys = ["iteration", "episode"]
    wall = steps.groupby(keys)["wall_clock"].diff().dropna()
    return wall.to_numpy(float)
