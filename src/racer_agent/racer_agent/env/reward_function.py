"""Loading a DeepRacer `reward_function(params)` and calling it safely.

A broken reward function must stop training with a message that lets the user fix it: which
function, at which step, with which params, and what was wrong with what it returned.
"""

from __future__ import annotations

import copy
import importlib.util
import math
import pprint
import types
from collections.abc import Callable
from pathlib import Path

REWARD_LIMIT = 1e5  # DeepRacer stops a job whose reward leaves +-1e5
DEFAULT_REWARD_FILE = Path(__file__).parent / "rewards" / "default.py"


class RewardFunctionError(RuntimeError):
    """The reward function raised, or returned something that is not a usable reward."""


class RewardFunction:
    """A user's reward function with DeepRacer's checks on what it returns."""

    def __init__(self, fn: Callable[[dict], float], name: str, source: Path | None = None):
        self.fn = fn
        self.name = name
        self.source = source

    @classmethod
    def load(cls, spec: str | Path | Callable | RewardFunction | None = None) -> RewardFunction:
        """A callable as is, or the `reward_function` defined in a Python file; None = racer's default."""
        if isinstance(spec, RewardFunction):
            return spec
        if callable(spec):
            return cls(spec, getattr(spec, "__qualname__", repr(spec)))
        path = Path(spec) if spec is not None else DEFAULT_REWARD_FILE
        if not path.is_file():
            raise RewardFunctionError(f"reward function file {path} does not exist")
        module_spec = importlib.util.spec_from_file_location(f"racer_reward_{path.stem}", path)
        module = importlib.util.module_from_spec(module_spec)
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            raise RewardFunctionError(f"{path}: loading failed: {type(exc).__name__}: {exc}") from exc
        fn = getattr(module, "reward_function", None)
        if not callable(fn):
            raise RewardFunctionError(f"{path}: defines no function named reward_function(params)")
        return cls(fn, f"reward_function in {path}", path)

    def for_one_car(self) -> RewardFunction:
        """A private instance for one car: a file is loaded again, so module-level state (a common
        DeepRacer idiom, e.g. remembering the last progress) belongs to one car as it does in
        DeepRacer, where each car runs in its own process. A plain callable is shared as given."""
        return RewardFunction.load(self.source) if self.source is not None else self

    def state_dict(self) -> dict:
        """The module-level data a reward function file keeps between calls (the DeepRacer idiom of
        remembering the last progress): saved with a run so a resume scores the next step as the
        uninterrupted run would. Functions, classes and modules are code, not state."""
        if self.source is None:
            return {}
        return {k: copy.deepcopy(v) for k, v in self.fn.__globals__.items()
                if not k.startswith("__") and not callable(v) and not isinstance(v, types.ModuleType)}

    def load_state_dict(self, state: dict) -> None:
        if self.source is not None:
            self.fn.__globals__.update(copy.deepcopy(state))

    def __call__(self, params: dict) -> float:
        try:
            value = self.fn(params)
        except Exception as exc:
            raise self._error(params, f"raised {type(exc).__name__}: {exc}") from exc
        if isinstance(value, bool) or (not isinstance(value, (int, float)) and not hasattr(value, "__float__")):
            raise self._error(params, f"returned {type(value).__name__} {value!r}, not a number")
        value = float(value)
        if not math.isfinite(value) or abs(value) > REWARD_LIMIT:
            raise self._error(params, f"returned {value}, outside the finite range +-{REWARD_LIMIT:g}")
        return value

    def _error(self, params: dict, what: str) -> RewardFunctionError:
        shown = {k: v for k, v in params.items() if k != "waypoints"}
        shown["waypoints"] = f"<{len(params.get('waypoints', []))} points>"
        return RewardFunctionError(
            f"{self.name} {what} at step {params.get('steps')}; params were:\n{pprint.pformat(shown, sort_dicts=True)}")
