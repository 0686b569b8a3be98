"""An exported model driving through onnxruntime (no torch), for evaluation; and the checks an export
must pass for the car's onnxruntime.

Loading and the model-against-metadata checks are racer_inference's (what runs on the car), so a
model that evaluates here loads there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from racer_agent.env.actions import ActionSpace
from racer_agent.evaluation.model_metadata import MetadataError
from racer_inference.model import Model


class OnnxPolicy(Model):
    """The car's model loader (racer_inference.model) with racer's full action-space checks, acting
    on batches of frames for evaluation."""

    def __init__(self, directory: str | Path, threads: int = 1):
        super().__init__(directory, threads)
        self.actions = ActionSpace.from_spec(self.metadata)

    def probabilities_or_means(self, frames: np.ndarray) -> np.ndarray:
        return self.outputs(frames)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        out = self.probabilities_or_means(frames)
        return out.argmax(-1) if self.actions.kind == "discrete" else out


def check_file(path: str | Path) -> onnx.ModelProto:
    """onnx's checker plus the versions the car's onnxruntime 1.19 reads (IR <= 9, opset <= 17)."""
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if model.ir_version > 9 or opset > 17:
        raise MetadataError(f"{path}: IR version {model.ir_version} / opset {opset} is newer than the car reads (9/17)")
    return model
