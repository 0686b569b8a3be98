"""Checkpoints that survive a crash mid-write and load without running pickled code.

A checkpoint is written to a temporary file and renamed over the old one, so a full disk or a kill
during the write leaves the previous checkpoint intact. Loading uses `weights_only=True`: only
tensors, numbers, strings, lists and dicts come back, never arbitrary objects.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import torch


class CheckpointError(RuntimeError):
    """A checkpoint could not be written or read."""


def save(state: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CheckpointError(f"could not write checkpoint {path} ({exc}); the previous one is kept") from exc
    return path


def save_state(state: object, path: str | Path) -> Path:
    """The training cars' simulator state (pickled numpy arrays and small objects), written like a
    checkpoint. Read back only by a resume of the same run, which trusts its own run directory."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CheckpointError(f"could not write {path} ({exc}); the previous one is kept") from exc
    return path


def load_state(path: str | Path) -> object:
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError) as exc:
        raise CheckpointError(f"could not read the cars' state {path} ({exc})") from exc


def load(path: str | Path) -> dict:
    path = Path(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as exc:
        raise CheckpointError(f"could not read checkpoint {path} ({exc})") from exc
