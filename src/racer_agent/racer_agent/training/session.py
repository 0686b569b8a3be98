"""One training session as `racer train` and the trainer node run it: train, then evaluate the best
model, export it and draw the curves, printing where everything went."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from racer_agent.evaluation.export import export
from racer_agent.evaluation.report import evaluate_as_trained, new_evaluation_folder
from racer_agent.training import config as train_config
from racer_agent.training.curves import save_training_curves
from racer_agent.training.trainer import Trainer


def report_error(exc: BaseException) -> int:
    print(f"racer: error: {exc}", file=sys.stderr)
    return 2


def _monitor(address: str | None, cfg):
    """The live view at `address`, its page's address printed (None: no live view)."""
    if not address:
        return None
    from racer_agent.monitor import TRAINING_HZ, open_monitor
    from racer_core.builtin_tracks import load as load_track

    return open_monitor(address, load_track(cfg.tracks[0]), hz=TRAINING_HZ)


def clone_arguments(parent: Path, config_file, overrides: dict) -> tuple[dict, Path]:
    """A clone trains with its parent's config and reward_function.py unless told otherwise; the
    parent is recorded by its absolute path (config.json's `clone`), so the lineage can be followed."""
    if not (parent / "config.json").is_file():
        raise ValueError(f"--clone {parent}: not a racer run directory (no config.json)")
    overrides = {**overrides, "clone": str(parent.resolve())}
    if overrides.get("reward") is None and config_file is None and (parent / "reward_function.py").is_file():
        overrides["reward"] = str(parent / "reward_function.py")
    return overrides, config_file or parent / "config.json"


def train_and_report(config_file, overrides: dict, out, resume, quiet: bool, monitor: str | None = None) -> int:
    """Train, then (unless interrupted) evaluate the best model, export it and draw the curves."""
    if resume:
        out = Path(resume)
        if overrides.get("reward") is None and config_file is None and (out / "reward_function.py").is_file():
            # the run's own copy, not the file it was copied from, which may have changed since
            overrides = {**overrides, "reward": str(out / "reward_function.py")}
        cfg = train_config.load(config_file or out / "config.json", **overrides)
    else:
        out = Path(out or f"runs/{time.strftime('%Y%m%d-%H%M%S')}")
        if (out / "config.json").exists():
            raise ValueError(f"{out} already holds a run; use --resume {out} or another --out")
        if overrides.get("clone"):  # the parent's config and reward, unless given anew
            overrides, config_file = clone_arguments(Path(overrides["clone"]), config_file, overrides)
        cfg = train_config.load(config_file, **overrides)
    live = _monitor(monitor, cfg)
    trainer = Trainer(cfg, out, resume=bool(resume), show_progress=not quiet, monitor=live)
    try:
        outcome = trainer.train()
    except (ValueError, RuntimeError, OSError) as exc:
        kept = trainer.run.latest if trainer.run.latest.is_file() else "none yet"
        raise RuntimeError(f"{exc}\nlast good checkpoint: {kept}") from exc
    finally:
        save_training_curves(trainer.run)
        if live is not None:
            live.close()
    p = outcome.progress
    run = outcome.run
    print(f"stopped: {outcome.reason} after {p.iteration} iterations, {p.samples} samples, {p.wall_s:.0f} s")
    if outcome.reason == "interrupted":
        print(f"checkpoint: {run.latest}\nresume with: racer train --resume {run.root}")
        return 0
    # every track, in the run's direction (both for alternate); `racer evaluate` adds folders beside it
    if run.final_evaluation.exists():  # a resumed run: the earlier session's final evaluation is kept
        run.final_evaluation.rename(new_evaluation_folder(run.root, "final"))
    for report in evaluate_as_trained(run.root, laps=3, out_dir=run.final_evaluation):
        print(f"evaluation ({report['track']} {report['direction']}): {report['completed_laps']}/3 laps, "
              f"mean lap {report['mean_lap_time_s']} s, reference {report['reference_lap_time_s']} s, "
              f"lap / reference {report['lap_time_over_reference']}, off track {report['off_track_count']}, "
              f"crashes {report['crash_count']}")
    exported = export(run.root, run.model)
    print(f"run directory: {run.root}\n  model (ONNX):  {exported['model']}\n"
          f"  checkpoints:   {run.checkpoints}\n  plots:         {run.plots}\n"
          f"  evaluation:    {run.final_evaluation}\n  metrics:       {run.metrics} (TensorBoard: {run.tensorboard})")
    return 0
