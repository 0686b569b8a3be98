"""`racer evaluate`: a model's laps as the DeepRacer console reports them, plus pictures.

Judged where the model was trained (its metadata's `trained_on`: tracks and direction) unless told
otherwise. On a loop the laps are one continuous run from the start line, as the console drives them: the
first from standing, the others flying, each timed as the car crosses the line. Writes
`evaluation.json`, `driven_lines.png` (paths coloured by speed), every step in DeepRacer's
sim-trace format (`evaluation-simtrace/0-iteration.csv`, a lap an episode) and, on request, an MP4
of the run's camera view beside the top-down view.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from racer_agent.env import simtrace
from racer_agent.env.episode import evaluated_reversals
from racer_agent.env.race import Race, RaceConfig
from racer_agent.evaluation import model_metadata, policy
from racer_agent.evaluation.laps import StepRecorder, drive_laps, summarise
from racer_agent.training.run_directory import RunDirectory
from racer_core.builtin_tracks import load as load_track
from racer_core.objects import COLLISION_PENALTY, RaceObjects
from racer_core.plotting import save_driven_lines
from racer_core.racing_line import ReferenceLapError, reference_lap

if TYPE_CHECKING:
    from racer_agent.monitor import LiveLaps

DEFAULT_PENALTY_S = 2.0  # the community simulator's off-track penalty (DRfC uses 5 s, DRoA races 1 s)


def evaluate_as_trained(source: str | Path, tracks: list[str] | None = None, direction: str | None = None,
                        laps: int = 3, penalty_seconds: float = DEFAULT_PENALTY_S, out_dir: str | Path | None = None,
                        video: str | Path | None = None, race: dict | None = None,
                        crash_penalty_seconds: float = COLLISION_PENALTY,
                        record: Callable[[str, int], StepRecorder] | None = None,
                        watch: LiveLaps | None = None, sim_to_real: dict | None = None) -> list[dict]:
    """An evaluation per track and direction, by default those the model was trained on (its
    metadata's `trained_on`; alternate: both ways round). Each is written to a folder of its own:
    under `out_dir` (named for its track and direction when there are several), else a new one in
    the model's `evaluation/`, so no evaluation overwrites another. The race (type, obstacles, bots)
    is the one it trained in, with `race`'s keys over it. `record(name, cars)` opens a recorder
    for each evaluation (racer_sim's MCAP recording; `name` is "" when there is one evaluation);
    `watch` (monitor.LiveLaps) hears every step of every evaluation; `sim_to_real` (SimToReal keys:
    latency, actuation error) makes the simulated car as late and as miscalibrated as a real one."""
    source = Path(source)
    trained_tracks, trained_direction = model_metadata.trained_on(policy.load(source).metadata, _run_config(source))
    judged = [(t, reverse) for t in (tracks or trained_tracks)
              for reverse in evaluated_reversals(direction or trained_direction)]
    reports = []
    for track, reverse in judged:
        name = _folder_name(track, reverse)
        folder = (Path(out_dir) / name if len(judged) > 1 else Path(out_dir)) if out_dir else None
        clip = Path(video).with_name(f"{Path(video).stem}-{name}{Path(video).suffix}") \
            if video and len(judged) > 1 else video
        opener = (lambda cars, name=name: record(name if len(judged) > 1 else "", cars)) if record else None
        reports.append(evaluate(source, track, laps, penalty_seconds, folder, clip, reverse, race,
                                crash_penalty_seconds, opener, watch, sim_to_real))
    return reports


def evaluate(source: str | Path, track: str | None = None, laps: int = 3,
             penalty_seconds: float = DEFAULT_PENALTY_S, out_dir: str | Path | None = None,
             video: str | Path | None = None, reverse: bool | None = None, race: dict | None = None,
             crash_penalty_seconds: float = COLLISION_PENALTY,
             record: Callable[[int], StepRecorder] | None = None, watch: LiveLaps | None = None,
             sim_to_real: dict | None = None) -> dict:
    """One evaluation: `laps` laps of one track one way round (by default the model's first
    trained track, in its trained direction; alternate: forward first)."""
    source = Path(source)
    driver = policy.load(source)
    meta = driver.metadata
    trained_tracks, trained_direction = model_metadata.trained_on(meta, _run_config(source))
    reverse = evaluated_reversals(trained_direction)[0] if reverse is None else reverse
    track = load_track(track or trained_tracks[0])
    objects = RaceObjects.from_dict({**model_metadata.trained_race(meta, _run_config(source)), **(race or {})})
    reward = source / "reward_function.py"
    race = Race(RaceConfig(track=track, reward_function=reward if reward.is_file() else None,
                           action_space=meta, camera=model_metadata.camera_of(meta), start="start_line",
                           objects=objects, sim_to_real=sim_to_real or {}),
                num_cars=1 if track.closed else laps)  # an open track: one run per lap
    race.seed(0)  # randomised obstacles: the same layouts every time this model is evaluated
    consecutive = laps if race.num_cars == 1 else 1
    trace = simtrace.EpisodeSteps(list(range(race.num_cars)), [race.track.name] * race.num_cars)
    recorder = record(race.num_cars) if record else None
    results, top_down = drive_laps(race, driver, [0.0] * race.num_cars, penalty_seconds,
                                   record_frames=video is not None, record_top_down=video is not None,
                                   consecutive=consecutive, reverse=reverse,
                                   crash_penalty_seconds=crash_penalty_seconds, trace=trace,
                                   listeners=[x for x in (recorder, watch) if x is not None])
    if recorder is not None:
        recorder.close()
    try:
        reference = reference_lap(race.track.reversed() if reverse else race.track, race.actions.max_speed)
    except ReferenceLapError as exc:  # the laps stand without a yardstick; say why it is missing
        reference = None
        print(f"racer: warning: no reference lap for {race.track.name}: {exc}", file=sys.stderr)
    direction = "reverse" if reverse else "forward"
    summary = {"model": str(source), "track": race.track.name, "direction": direction,
               "race": objects.to_dict(), "penalty_seconds": penalty_seconds,
               "crash_penalty_seconds": crash_penalty_seconds, "sim_to_real": race.config.sim_to_real_spec().to_dict(),
               **summarise(results, reference)}
    out_dir = Path(out_dir) if out_dir else new_evaluation_folder(source, _folder_name(race.track.name, reverse))
    out_dir.mkdir(parents=True, exist_ok=True)
    summary["folder"] = str(out_dir)
    (out_dir / "evaluation.json").write_text(json.dumps(summary, indent=2) + "\n")
    simtrace.write_iteration(out_dir / simtrace.EVALUATION_FOLDER, 0,
                             [(k, lap.steps or []) for k, lap in enumerate(results)])  # a lap an episode
    title = (f"{race.track.name} {direction}: {summary['completed_laps']}/{laps} laps, mean "
             f"{summary['mean_lap_time_s'] or '-'} s (reference {summary['reference_lap_time_s'] or '-'} s)")
    lines = [(lap.path, lap.speeds) for lap in results]
    boxes = race.objects[0].boxes() if race.objects else None
    summary["driven_lines"] = str(save_driven_lines(race.track, lines, out_dir / "driven_lines.png", title,
                                                    vmax=race.actions.max_speed, boxes=boxes))
    if recorder is not None:
        summary["recording"] = str(recorder.path)
    if watch is not None:
        watch.evaluated(summary)
    if video is not None:
        camera = [frame for lap in results for frame in (lap.frames or [])]
        summary["video"] = str(write_video(camera, top_down, Path(video)))
    return summary


def new_evaluation_folder(source: Path, name: str) -> Path:
    """`<model>/evaluation/<date-time>-<track>[-reverse]`, never one that exists."""
    base = (source if source.is_dir() else source.parent) / "evaluation"
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
    folder, n = base / stem, 1
    while folder.exists():
        n += 1
        folder = base / f"{stem}-{n}"
    return folder


def _folder_name(track: str, reverse: bool) -> str:
    return Path(track).stem + ("-reverse" if reverse else "")


def _run_config(source: Path) -> dict:
    return RunDirectory(source).load_config() if (source / "config.json").is_file() else {}


def write_video(camera: list[np.ndarray], top_down: list[np.ndarray], path: Path, fps: int = 15) -> Path:
    """Camera view (scaled up to the top-down height) beside the top-down view, one frame per step."""
    if not top_down:
        raise ValueError("nothing to put in the video: the lap had no steps")
    height = top_down[0].shape[0]

    def frames():
        for i, view in enumerate(top_down):
            cam = camera[min(i, len(camera) - 1)] if camera else np.zeros((120, 160, 1), np.uint8)
            cam = np.repeat(cam, 3, axis=2) if cam.shape[2] == 1 else cam
            scale = height / cam.shape[0]
            cam = cv2.resize(cam, (int(cam.shape[1] * scale), height), interpolation=cv2.INTER_NEAREST)
            yield np.concatenate([cam, view], axis=1)

    return write_mp4(frames(), path, fps)


def write_mp4(frames, path: Path, fps: int = 15) -> Path:
    """RGB frames (an iterable of equal-sized (H, W, 3) uint8) as an MP4."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = None
    try:
        for frame in frames:
            bgr = np.ascontiguousarray(frame[:, :, ::-1])
            if writer is None:
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (bgr.shape[1], bgr.shape[0]))
                if not writer.isOpened():
                    raise OSError(f"cannot write video {path} (no MP4 encoder in this OpenCV build)")
            writer.write(bgr)
    finally:
        if writer is not None:
            writer.release()
    if writer is None:
        raise ValueError(f"nothing to put in {path}: no frames")
    return path
