"""An exported model driving through onnxruntime (no torch): what runs on the car.

Loading checks the model against its model_metadata.json and refuses a mismatch up front, since a
wrong input shape would otherwise fail at the first frame, with the car already moving.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from racer_agent.env.actions import ActionSpace
from racer_agent.evaluation import model_metadata
from racer_agent.evaluation.model_metadata import MetadataError

MODEL_FILE = "model.onnx"


class OnnxPolicy:
    def __init__(self, directory: str | Path, threads: int = 1):
        directory = Path(directory)
        self.path = directory / MODEL_FILE
        self.metadata = model_metadata.read(directory)
        self.actions = ActionSpace.from_spec(self.metadata)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise MetadataError(f"{self.path}: onnxruntime cannot load the model ({exc})") from exc
        check_against_metadata(self.session, self.metadata, self.path)
        self.input_name = self.session.get_inputs()[0].name
        self.frame_shape = model_metadata.frame_shape(self.metadata)  # (H, W, C) of one camera picture

    def probabilities_or_means(self, frames: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: frames.astype(np.float32, copy=False)})[0]

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        out = self.probabilities_or_means(frames)
        return out.argmax(-1) if self.actions.kind == "discrete" else out


def check_against_metadata(session: ort.InferenceSession, meta: dict, path: Path) -> None:
    """Input (N, H, W, C) must match racer.input.shape and the output must fit the action space."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or len(outputs) < 1:
        raise MetadataError(f"{path}: expected one input and one output, got {len(inputs)} and {len(outputs)}")
    want = model_metadata.frame_shape(meta)
    got = tuple(inputs[0].shape[1:])
    if len(inputs[0].shape) != 4 or got != want:
        raise MetadataError(f"{path}: model input shape {inputs[0].shape} does not match model_metadata.json "
                            f"(N, {want[0]}, {want[1]}, {want[2]}); re-export the model or fix the metadata")
    actions = ActionSpace.from_spec(meta)
    width = len(actions.table) if actions.kind == "discrete" else 2
    out_shape = outputs[0].shape
    if len(out_shape) != 2 or out_shape[1] != width:
        raise MetadataError(f"{path}: model output shape {out_shape} does not fit the {actions.kind} action space "
                            f"of {width} in model_metadata.json")


def check_file(path: str | Path) -> onnx.ModelProto:
    """onnx's checker plus the versions the car's onnxruntime 1.19 reads (IR <= 9, opset <= 17)."""
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if model.ir_version > 9 or opset > 17:
        raise MetadataError(f"{path}: IR version {model.ir_version} / opset {opset} is newer than the car reads (9/17)")
    return model
