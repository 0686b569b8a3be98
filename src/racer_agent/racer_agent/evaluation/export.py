"""`racer export`: a trained policy as ONNX for the car (onnxruntime 1.19, Python 3.8, no torch).

Only the actor is exported. Its input is the camera frame as float32 NHWC raw pixel values, so the
car's preprocessing stays what the stock DeepRacer does (resize, grey, to float); division by 255
and the block-averaging live inside the graph, where they cannot drift from training.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from racer_agent.evaluation import model_metadata
from racer_agent.evaluation.onnx_policy import OnnxPolicy, check_file
from racer_agent.evaluation.policy import TorchPolicy, load
from racer_agent.training.networks import ActorCritic
from racer_inference.model import MODEL_FILE

OPSET = 17
PARITY_TOLERANCE = 1e-4


class _Actor(torch.nn.Module):
    def __init__(self, model: ActorCritic):
        super().__init__()
        self.model = model

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        out = self.model.actor(observation)
        return torch.softmax(out, dim=-1) if self.model.discrete else out


def export(source: str | Path | TorchPolicy, out_dir: str | Path) -> dict:
    """Write model.onnx and model_metadata.json; returns what was checked (versions, parity).

    `source`: a run directory or checkpoint, or a policy in memory (the latency benchmark exports
    untrained networks)."""
    policy = source if isinstance(source, TorchPolicy) else load(source)
    if not isinstance(policy, TorchPolicy):
        raise ValueError(f"{source} is already an exported model")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    h, w, c = model_metadata.frame_shape(policy.metadata)
    actor = _Actor(policy.model).eval()
    path = out_dir / MODEL_FILE
    with warnings.catch_warnings():  # the TorchScript exporter is the one that writes opset 17 without onnxscript
        warnings.simplefilter("ignore")
        torch.onnx.export(actor, (torch.zeros(1, h, w, c),), str(path), opset_version=OPSET, dynamo=False,
                          input_names=["observation"], output_names=["action"],
                          dynamic_axes={"observation": {0: "batch"}, "action": {0: "batch"}})
    model = check_file(path)
    model_metadata.write(policy.metadata, out_dir)
    onnx_policy = OnnxPolicy(out_dir)
    frames = np.random.default_rng(0).integers(0, 256, (8, h, w, c), dtype=np.uint8)
    with torch.no_grad():
        expected = actor(torch.from_numpy(frames).float()).numpy()
    got = onnx_policy.probabilities_or_means(frames.astype(np.float32))
    diff = float(np.abs(expected - got).max())
    if diff > PARITY_TOLERANCE:
        raise RuntimeError(f"onnxruntime and torch disagree by {diff:.2e} (> {PARITY_TOLERANCE}); model not usable")
    return {"model": str(path), "metadata": str(out_dir / model_metadata.FILENAME), "ir_version": model.ir_version,
            "opset": OPSET, "max_abs_diff_vs_torch": diff}
