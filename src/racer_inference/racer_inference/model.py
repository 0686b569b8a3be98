"""An exported racer model (model.onnx + model_metadata.json) run with onnxruntime: what drives the car.

Python 3.8, numpy and onnxruntime only. Loading checks the model against its metadata and refuses a
mismatch up front, since a wrong shape would otherwise fail at the first frame with the car moving.
The output becomes a command here too: argmax over a discrete action space, or the mean in
[-1, 1]^2 rescaled to continuous ranges; anything not finite becomes no command at all.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np
import onnxruntime as ort

from racer_inference.actions import action_table, command

MODEL_FILE = "model.onnx"
METADATA_FILE = "model_metadata.json"


class MetadataError(ValueError):
    """A model or model_metadata.json that is missing, unreadable or inconsistent with the other."""


def read_metadata(path: str | Path) -> dict:
    """The metadata (file or the directory holding it), with the keys a driver needs checked."""
    path = Path(path)
    if path.is_dir():
        path = path / METADATA_FILE
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise MetadataError(f"{path}: cannot read model metadata ({exc})") from exc
    if not isinstance(meta, dict):
        raise MetadataError(f"{path}: model metadata must be a JSON object")
    try:
        shape = meta["racer"]["input"]["shape"]
        if len(shape) != 4 or not all(isinstance(v, int) and v > 0 for v in shape[1:]):
            raise ValueError(shape)
    except (KeyError, TypeError, ValueError) as exc:
        raise MetadataError(f"{path}: racer.input.shape must be [1, height, width, channels] ({exc!r})") from exc
    try:
        action_table(meta)
    except (KeyError, TypeError, ValueError) as exc:
        raise MetadataError(f"{path}: unreadable action_space ({exc!r})") from exc
    return meta


class Model:
    """The session, the metadata and the action space of one exported model."""

    def __init__(self, directory: str | Path, threads: int = 1):
        directory = Path(directory)
        self.path = directory / MODEL_FILE
        self.metadata = read_metadata(directory)
        self.kind, self.table = action_table(self.metadata)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise MetadataError(f"{self.path}: onnxruntime cannot load the model ({exc})") from exc
        self._check()
        self.input_name = self.session.get_inputs()[0].name
        self.input_shape = tuple(self.metadata["racer"]["input"]["shape"])  # (1, H, W, C)
        self.grey_weights: Optional[List[float]] = self.metadata["racer"].get("grayscale_weights")
        self.max_steer_deg = float(np.abs(self.table[:, 0]).max())
        self.max_speed = float(self.table[:, 1].max())

    @property
    def frame_shape(self) -> Tuple[int, int, int]:
        return tuple(self.input_shape[1:])

    def _check(self) -> None:
        """Input (N, H, W, C) must match racer.input.shape and the output must fit the action space."""
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) < 1:
            raise MetadataError(f"{self.path}: expected one input and one output, got {len(inputs)} and {len(outputs)}")
        want = tuple(self.metadata["racer"]["input"]["shape"][1:])
        if len(inputs[0].shape) != 4 or tuple(inputs[0].shape[1:]) != want:
            raise MetadataError("{}: model input shape {} does not match model_metadata.json (N, {}, {}, {}); "
                                "re-export the model or fix the metadata".format(self.path, inputs[0].shape, *want))
        width = len(self.table) if self.kind == "discrete" else 2
        out_shape = outputs[0].shape
        if len(out_shape) != 2 or out_shape[1] != width:
            raise MetadataError(f"{self.path}: model output shape {out_shape} does not fit the {self.kind} action "
                                f"space of {width} in model_metadata.json")

    def outputs(self, inputs: np.ndarray) -> np.ndarray:
        """Probabilities (discrete) or means (continuous), (N, K) or (N, 2)."""
        return self.session.run(None, {self.input_name: inputs.astype(np.float32, copy=False)})[0]

    def drive(self, inputs: np.ndarray) -> Optional[Tuple[float, float]]:
        """(steering rad, + = left; speed m/s) for one input, or None when the output is not finite."""
        out = self.outputs(inputs)[0]
        if not np.isfinite(out).all():
            return None
        action = int(out.argmax()) if self.kind == "discrete" else out
        steer_deg, speed = command(self.kind, self.table, action)
        return math.radians(steer_deg), speed
