"""Driving policies behind one call: frames (B, H, W, C) uint8 -> greedy actions.

A trained torch checkpoint and an exported ONNX model both drive through this face, so evaluation,
video and the inference node do not care which one they hold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from racer_agent.env.actions import ActionSpace
from racer_agent.evaluation import model_metadata
from racer_agent.training import checkpoint
from racer_agent.training.networks import ARCHITECTURES, ActorCritic
from racer_agent.training.run_directory import RunDirectory


def build_model(network: str, frame_shape: tuple[int, int, int], actions: ActionSpace) -> ActorCritic:
    num_actions = len(actions.table) if actions.kind == "discrete" else None
    return ActorCritic(ARCHITECTURES[network], tuple(frame_shape), num_actions)


class TorchPolicy:
    def __init__(self, model: ActorCritic, metadata: dict):
        self.model = model  # no dropout or batch norm: train/eval mode makes no difference
        self.metadata = metadata
        self.actions = ActionSpace.from_spec(metadata)

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> TorchPolicy:
        state = checkpoint.load(path)
        meta = state["metadata"]
        model = build_model(meta["neural_network"], model_metadata.frame_shape(meta), ActionSpace.from_spec(meta))
        model.load_state_dict(state["model"])
        return cls(model, meta)

    @torch.no_grad()
    def __call__(self, frames: np.ndarray) -> np.ndarray:
        return self.model.greedy(self.model.actor(torch.from_numpy(frames))).numpy()


def load(path: str | Path):
    """A run directory (best, else latest checkpoint), a checkpoint file, or an exported model directory."""
    path = Path(path)
    if path.is_file() and path.suffix == ".pt":
        return TorchPolicy.from_checkpoint(path)
    if (path / "model.onnx").is_file():
        from racer_agent.evaluation.onnx_policy import OnnxPolicy

        return OnnxPolicy(path)
    if (path / "config.json").is_file():
        return TorchPolicy.from_checkpoint(RunDirectory(path).checkpoint_for_driving())
    raise ValueError(f"{path} is neither a run directory, a .pt checkpoint nor a directory with model.onnx")
