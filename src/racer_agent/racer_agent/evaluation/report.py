"""`racer evaluate`: a model's laps as the DeepRacer console reports them, plus pictures.

On a loop the laps are one continuous run from the start line, as the console drives them: the
first from standing, the others flying, each timed as the car crosses the line. Writes
`evaluation.json`, `driven_lines.png` (paths coloured by speed) and, on request, an MP4 of the
run's camera view beside the top-down view.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

from racer_agent.env.race import Race, RaceConfig
from racer_agent.evaluation import model_metadata, policy
from racer_agent.evaluation.laps import drive_laps, summarise
from racer_agent.training.run_directory import RunDirectory
from racer_core.builtin_tracks import load as load_track
from racer_core.plotting import save_driven_lines
from racer_core.racing_line import ReferenceLapError, reference_lap

DEFAULT_PENALTY_S = 2.0  # the community simulator's off-track penalty (DRfC uses 5 s, DRoA races 1 s)


def evaluate(source: str | Path, track: str | None = None, laps: int = 3,
             penalty_seconds: float = DEFAULT_PENALTY_S, out_dir: str | Path | None = None,
             video: str | Path | None = None) -> dict:
    source = Path(source)
    driver = policy.load(source)
    meta = driver.metadata
    run_config = RunDirectory(source).load_config() if (source / "config.json").is_file() else {}
    trained_on = run_config.get("track") or "circuit"
    track = load_track(track or (trained_on[0] if isinstance(trained_on, list) else trained_on))
    reward = source / "reward_function.py"
    race = Race(RaceConfig(track=track, reward_function=reward if reward.is_file() else None,
                           action_space=meta, camera=model_metadata.camera_of(meta), start="start_line"),
                num_cars=1 if track.closed else laps)  # an open track: one run per lap
    consecutive = laps if race.num_cars == 1 else 1
    results, top_down = drive_laps(race, driver, [0.0] * race.num_cars, penalty_seconds,
                                   record_frames=video is not None, record_top_down=video is not None,
                                   consecutive=consecutive)
    try:
        reference = reference_lap(race.track, race.actions.max_speed)
    except ReferenceLapError as exc:  # the laps stand without a yardstick; say why it is missing
        reference = None
        print(f"racer: warning: no reference lap for {race.track.name}: {exc}", file=sys.stderr)
    summary = {"model": str(source), "track": race.track.name, "penalty_seconds": penalty_seconds,
               **summarise(results, reference)}
    out_dir = Path(out_dir) if out_dir else (source / "evaluation")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "evaluation.json").write_text(json.dumps(summary, indent=2) + "\n")
    title = (f"{race.track.name}: {summary['completed_laps']}/{laps} laps, mean "
             f"{summary['mean_lap_time_s'] or '-'} s (reference {summary['reference_lap_time_s'] or '-'} s)")
    lines = [(lap.path, lap.speeds) for lap in results]
    summary["driven_lines"] = str(save_driven_lines(race.track, lines, out_dir / "driven_lines.png", title,
                                                    vmax=race.actions.max_speed))
    if video is not None:
        camera = [frame for lap in results for frame in (lap.frames or [])]
        summary["video"] = str(write_video(camera, top_down, Path(video)))
    return summary


def write_video(camera: list[np.ndarray], top_down: list[np.ndarray], path: Path, fps: int = 15) -> Path:
    """Camera view (scaled up to the top-down height) beside the top-down view, one frame per step."""
    if not top_down:
        raise ValueError("nothing to put in the video: the lap had no steps")
    height = top_down[0].shape[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = None
    try:
        for i, view in enumerate(top_down):
            cam = camera[min(i, len(camera) - 1)] if camera else np.zeros((120, 160, 1), np.uint8)
            cam = np.repeat(cam, 3, axis=2) if cam.shape[2] == 1 else cam
            scale = height / cam.shape[0]
            cam = cv2.resize(cam, (int(cam.shape[1] * scale), height), interpolation=cv2.INTER_NEAREST)
            frame = np.ascontiguousarray(np.concatenate([cam, view], axis=1)[:, :, ::-1])  # RGB -> BGR
            if writer is None:
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                         (frame.shape[1], frame.shape[0]))
                if not writer.isOpened():
                    raise OSError(f"cannot write video {path} (no MP4 encoder in this OpenCV build)")
            writer.write(frame)
    finally:
        if writer is not None:
            writer.release()
    return path
