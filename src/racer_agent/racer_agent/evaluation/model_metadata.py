"""model_metadata.json: DeepRacer's schema, plus a `racer` block that pins the preprocessing.

DeepRacer's keys (action_space, action_space_type, sensor, neural_network, training_algorithm,
version) let the console's tooling read racer models. The `racer` block says exactly what the
network expects, so an inference node on the car builds the same input as training did.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from racer_agent.env.actions import ActionSpace, ActionSpaceError
from racer_core.builtin_tracks import DEFAULT_TRACK
from racer_core.camera import CameraConfig
from racer_core.objects import RaceObjects
from racer_core.scenery import GRAY_WEIGHTS
from racer_inference.model import METADATA_FILE as FILENAME
from racer_inference.model import MetadataError, read_metadata  # one error type for both sides


def build(actions: ActionSpace, network: str, camera: CameraConfig, tracks: list[str] | None = None,
          direction: str = "forward", race: dict | None = None) -> dict:
    meta = {
        **actions.to_metadata(),
        "sensor": ["FRONT_FACING_CAMERA"],
        "neural_network": network,
        "training_algorithm": "clipped_ppo",
        "version": "5",
    }
    meta["racer"] = {
        "input": {"name": "observation", "layout": "NHWC", "dtype": "float32",
                  "shape": [1, camera.height, camera.width, camera.channels],
                  "normalisation": "raw pixel values 0-255; the model divides by 255 and downsamples itself"},
        "grayscale_weights": list(GRAY_WEIGHTS) if camera.grayscale else None,
        "resize": "INTER_AREA to width x height",
        "camera": dataclasses.asdict(camera),
        "output": {"name": "action", "meaning": "probabilities over action_space" if actions.kind == "discrete"
                   else "mean (steering, speed) in [-1, 1], rescaled linearly to the ranges"},
        "control_hz": 15,
        # what the model was trained on: `racer evaluate` and `racer drive` judge it there by default
        "trained_on": {"tracks": [_portable(t) for t in tracks or [DEFAULT_TRACK]], "direction": direction,
                       "race": RaceObjects.from_dict(race).to_dict()},
    }
    return meta


def trained_on(meta: dict, run_config: dict | None = None) -> tuple[list[str], str]:
    """The tracks and direction a model was trained on: its metadata's record, else the run's
    config.json (runs from before the record), else racer's default track, forward."""
    record = meta.get("racer", {}).get("trained_on")
    if record:
        return list(record["tracks"]), record["direction"]
    config = run_config or {}
    track = config.get("track") or DEFAULT_TRACK
    return (list(track) if isinstance(track, list) else [track]), config.get("direction", "forward")


def trained_race(meta: dict, run_config: dict | None = None) -> dict:
    """The race type and objects a model was trained with ({}: a time trial), as `trained_on`."""
    record = meta.get("racer", {}).get("trained_on")
    if record and "race" in record:
        return dict(record["race"])
    return dict((run_config or {}).get("race") or {})


def _portable(track: str) -> str:
    """A built-in or library name as it is; a route file as an absolute path (the model moves)."""
    path = Path(track)
    return str(path.resolve()) if path.suffix == ".npy" and path.exists() else track


def write(meta: dict, directory: str | Path) -> Path:
    path = Path(directory) / FILENAME
    path.write_text(json.dumps(meta, indent=2) + "\n")
    return path


def read(path: str | Path) -> dict:
    """Read and check a racer model_metadata.json (file or the directory holding it): the car's checks
    (racer_inference), plus racer's full action-space rules."""
    meta = read_metadata(path)
    try:
        ActionSpace.from_spec(meta)
    except ActionSpaceError as exc:
        raise MetadataError(f"{path}: {exc}") from exc
    return meta


def camera_of(meta: dict) -> CameraConfig:
    fields = {f.name for f in dataclasses.fields(CameraConfig)}
    return CameraConfig(**{k: v for k, v in meta["racer"]["camera"].items() if k in fields})


def frame_shape(meta: dict) -> tuple[int, int, int]:
    _, h, w, c = meta["racer"]["input"]["shape"]
    return (h, w, c)


def stock_mapping_of(source: str | Path) -> dict:
    """The largest steering angle and top speed of a model's action space: what the stock car's
    navigation node scales its actions by (racer_core.sim_to_real.stock_command)."""
    from racer_agent.evaluation.policy import load

    actions = ActionSpace.from_spec(load(source).metadata)
    table = np.asarray(actions.table)
    if actions.kind == "discrete":
        return {"max_steering_deg": float(np.abs(table[:, 0]).max()), "max_speed": float(table[:, 1].max())}
    return {"max_steering_deg": float(np.abs(table[0]).max()), "max_speed": float(table[1, 1])}
