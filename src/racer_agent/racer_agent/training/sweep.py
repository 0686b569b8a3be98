"""`racer sweep SPEC.yaml`: many trainings compared, with Ray Tune deciding which to run and stop.

A DeepRacer user tries reward functions, action spaces and hyperparameters; the sweep runs each
combination as a normal training run (its own run directory under OUT/trials, evaluable and
exportable like any other), reports every greedy evaluation to Tune, and lets ASHA stop the trials
that are clearly behind. The comparison at the end is read back from the run directories, not
from Tune's bookkeeping, so a trial that ASHA stopped is reported from what it had written.

The spec (YAML):

    base:                 # a racer config (the keys of `racer train --config`); or base_config: FILE
      track: oval
      minutes: 2
    search: grid          # grid: every combination of the lists; random: num_samples draws
    num_samples: 1        # grid: repeats of the whole grid; random: trials
    parameters:           # config keys or DeepRacer hyperparameter names
      reward: [rewards/centre.py, rewards/speed.py]      # grid: a list of values
      lr: {loguniform: [1.0e-4, 1.0e-3]}                 # random: uniform, loguniform, choice, randint
    scheduler: {grace_period: 2, reduction_factor: 2}   # ASHA, in evaluations; `scheduler: none` runs all
    max_concurrent: 2     # trials at once (each takes one CPU; default: the cluster's CPUs)

Paths in the spec (reward files, action spaces, tracks, base_config) are relative to the spec file.
Each trial's score, which ASHA minimises, is lap time / reference when every evaluation lap
completed, otherwise 10 + the share of the lap not driven: any lapping trial beats any that does
not, and among those that do not, the one that gets further wins.
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from racer_agent.training import config as train_config
from racer_agent.training.run_directory import RunDirectory, read_values

NOT_LAPPING = 10.0  # score floor of a trial that has not completed every evaluation lap
DISTRIBUTIONS = ("uniform", "loguniform", "choice", "randint")
PATH_KEYS = ("reward", "actions", "track", "base_config")


class SweepError(ValueError):
    """A sweep spec that cannot be run."""


@dataclass
class SweepSpec:
    base: dict
    search: str
    num_samples: int
    parameters: dict
    scheduler: dict | None
    max_concurrent: int | None

    @classmethod
    def load(cls, path: str | Path) -> SweepSpec:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise SweepError(f"{path}: cannot read the sweep spec ({exc})") from exc
        if not isinstance(data, dict):
            raise SweepError(f"{path}: a sweep spec is a mapping (base, search, parameters, ...)")
        unknown = set(data) - {"base", "base_config", "search", "num_samples", "parameters", "scheduler",
                               "max_concurrent"}
        if unknown:
            raise SweepError(f"{path}: unknown keys {sorted(unknown)}")
        here = path.resolve().parent
        base = dict(data.get("base") or {})
        if data.get("base_config"):
            base = {**train_config._read(_resolve(data["base_config"], here)), **base}
        base = {k: _resolve(v, here) if k in PATH_KEYS else v for k, v in base.items()}
        parameters = data.get("parameters") or {}
        if not isinstance(parameters, dict) or not parameters:
            raise SweepError(f"{path}: parameters must map config keys to values to try")
        search = data.get("search", "grid")
        if search not in ("grid", "random"):
            raise SweepError(f"{path}: search must be grid or random, got {search!r}")
        scheduler = data.get("scheduler", {})
        spec = cls(base, search, int(data.get("num_samples", 1)),
                   {k: _resolve_values(k, v, here) for k, v in parameters.items()},
                   None if scheduler in (None, "none") else dict(scheduler), data.get("max_concurrent"))
        spec.check()
        return spec

    def check(self) -> None:
        """Every trial's config must load: a typo fails here, before any trial starts."""
        for key, values in self.parameters.items():
            if self.search == "grid" and not isinstance(values, list):
                raise SweepError(f"grid search: parameter {key!r} needs a list of values, got {values!r}")
            if self.search == "random" and not (isinstance(values, list) or _distribution(values)):
                raise SweepError(f"random search: parameter {key!r} needs a list or one of {DISTRIBUTIONS}")
            first = values[0] if isinstance(values, list) else None
            try:
                train_config.load(**{**self.base, **({key: first} if first is not None else {})})
            except train_config.ConfigError as exc:
                raise SweepError(f"parameter {key!r}: {exc}") from exc

    def param_space(self) -> dict:
        from ray import tune

        space = {}
        for key, values in self.parameters.items():
            if isinstance(values, list):
                space[key] = tune.grid_search(values) if self.search == "grid" else tune.choice(values)
            else:
                (kind, args), = values.items()
                space[key] = getattr(tune, kind)(*args) if kind != "choice" else tune.choice(args)
        return space


def _distribution(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in DISTRIBUTIONS


def _resolve(value: Any, here: Path) -> Any:
    """A relative path that exists next to the spec becomes absolute (trials run in other folders)."""
    if isinstance(value, str) and value and (here / value).exists():
        return str((here / value).resolve())
    if isinstance(value, list):
        return [_resolve(v, here) for v in value]
    return value


def _resolve_values(key: str, values: Any, here: Path) -> Any:
    if key in PATH_KEYS and isinstance(values, list):
        return [_resolve(v, here) for v in values]
    return values


def score(summary: dict) -> float:
    """Lower is better; see the module docstring."""
    ratio = summary.get("lap_time_over_reference")
    if summary["completed_laps"] == len(summary["laps"]) and ratio:
        return float(ratio)
    return NOT_LAPPING + 1.0 - summary["mean_progress"] / 100.0


def _trial(params: dict, base: dict, trials_dir: str) -> None:
    """One Tune trial: a normal training run that reports every evaluation."""
    from ray import tune

    from racer_agent.training.trainer import Trainer

    cfg = train_config.load(**{**base, "torch_threads": 1, **params})
    out = Path(trials_dir) / f"trial-{tune.get_context().get_trial_id()}"
    (out.parent / f"{out.name}.params.json").write_text(json.dumps(params, default=str))

    def report(progress, summary: dict) -> None:
        tune.report({"score": score(summary), "samples": progress.samples, "wall_s": progress.wall_s,
                     "completed_laps": summary["completed_laps"]})

    outcome = Trainer(cfg, out, show_progress=False, on_evaluation=report).train()
    # a trial ASHA stops is killed inside train(): only a trial that ran out its budget gets here
    (out.parent / f"{out.name}.stopped.txt").write_text(outcome.reason)


def run(spec_path: str | Path, out: str | Path, address: str = "") -> list[dict]:
    """Run the sweep; returns the comparison rows (also OUT/sweep.csv, OUT/sweep.json, OUT/sweep.png)."""
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    from racer_agent.training.distributed import connect

    spec = SweepSpec.load(spec_path)
    out = Path(out).resolve()
    trials_dir = out / "trials"
    trials_dir.mkdir(parents=True, exist_ok=True)
    owns = connect(address, num_cpus=os.cpu_count())
    try:
        scheduler = (ASHAScheduler(max_t=10**6, **spec.scheduler) if spec.scheduler is not None else FIFOScheduler())
        tuner = tune.Tuner(
            tune.with_parameters(_trial, base=spec.base, trials_dir=str(trials_dir)),
            param_space=spec.param_space(),
            tune_config=tune.TuneConfig(metric="score", mode="min", scheduler=scheduler, num_samples=spec.num_samples,
                                        max_concurrent_trials=spec.max_concurrent),
            run_config=tune.RunConfig(name="tune", storage_path=str(out), verbose=0),
        )
        results = tuner.fit()
        errors = [str(r.error) for r in results if r.error]
    finally:
        if owns:
            ray.shutdown()
    rows = compare(trials_dir)
    write_report(rows, out)
    if errors and not rows:
        raise RuntimeError(f"every trial failed; the first: {errors[0]}")
    return rows


def compare(trials_dir: Path) -> list[dict]:
    """One row per trial, from its run directory: completion, best lap / reference, time to first lap."""
    rows = []
    for params_file in sorted(trials_dir.glob("*.params.json")):
        run = RunDirectory(params_file.with_name(params_file.name.removesuffix(".params.json")))
        if not run.iterations_csv.exists():
            continue
        evals = [r for r in read_values(run.iterations_csv) if r["eval_completed"] is not None]
        laps = [r for r in read_values(run.episodes_csv) if r["phase"] == "eval"]
        config = run.load_config()
        eval_laps = int(config["eval_laps"]) * int(config.get("eval_consecutive") or 1) * len(_tracks(config))
        complete = [r for r in evals if r["eval_completed"] >= eval_laps and r["eval_lap_over_reference"]]
        first = next((r for r in laps if r["status"] == "lap_complete"), None)
        last = evals[-1] if evals else None
        stopped = run.root.with_name(f"{run.root.name}.stopped.txt")
        rows.append({
            "trial": run.root.name,
            "params": json.loads(params_file.read_text()),
            "stop": stopped.read_text() if stopped.exists() else "stopped early (ASHA)",
            "evaluations": len(evals),
            "samples": read_values(run.iterations_csv)[-1]["samples"],
            "completion": (last["eval_completed"] / eval_laps) if last else 0.0,
            "best_progress": max((r["eval_progress"] for r in evals), default=0.0),
            "best_lap_over_reference": min(r["eval_lap_over_reference"] for r in complete) if complete else None,
            "first_lap_wall_s": first["wall_s"] if first else None,
            "first_lap_samples": first["samples"] if first else None,
            "run": str(run.root),
        })
    rows.sort(key=lambda r: (r["best_lap_over_reference"] is None, r["best_lap_over_reference"] or math.inf,
                             -r["completion"]))
    return rows


def _tracks(config: dict) -> list:
    return [config["track"]] if isinstance(config["track"], str) else config["track"]


def write_report(rows: list[dict], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(json.dumps(rows, indent=2) + "\n")
    keys = sorted({k for r in rows for k in r["params"]})
    with open(out / "sweep.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["trial", *keys, "completion", "best_progress", "best_lap_over_reference", "first_lap_wall_s",
                         "first_lap_samples", "evaluations", "samples", "stop", "run"])
        for r in rows:
            writer.writerow([r["trial"], *(r["params"].get(k) for k in keys), r["completion"], r["best_progress"],
                             r["best_lap_over_reference"], r["first_lap_wall_s"], r["first_lap_samples"],
                             r["evaluations"], r["samples"], r["stop"], r["run"]])
    plot_sweep(rows, out / "sweep.png")


def label(row: dict) -> str:
    """Parameters as a short text: files by name, null (the config's default) as `default`."""
    def short(v: Any) -> str:
        return "default" if v is None else Path(v).stem if isinstance(v, str) and os.sep in v else str(v)

    return ", ".join(f"{k}={short(v)}" for k, v in sorted(row["params"].items()))


def plot_sweep(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [label(r) for r in rows]
    panels = [("laps completed (last evaluation)", [100 * r["completion"] for r in rows], "%"),
              ("best evaluation progress", [r["best_progress"] for r in rows], "%"),
              ("best lap / reference", [r["best_lap_over_reference"] or 0.0 for r in rows], "x"),
              ("time to first lap", [r["first_lap_wall_s"] or 0.0 for r in rows], "s")]
    fig, axes = plt.subplots(1, 4, figsize=(18, 1.2 + 0.45 * max(len(rows), 2)), sharey=True)
    for ax, (title, values, unit) in zip(axes, panels, strict=True):
        ax.barh(range(len(rows)), values, color="tab:blue")
        ax.set_title(title)
        ax.set_xlabel(unit)
        ax.set_xlim(left=0)
        never = unit != "%"  # a missing lap time is "none"; a 0 % share is 0
        for i, v in enumerate(values):
            ax.text(v, i, f" {v:.3g}" if v or not never else " none", va="center", fontsize=8)
    axes[0].set_yticks(range(len(rows)), names, fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle("racer sweep: trials best first (lap / reference; none = never lapped)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def format_table(rows: list[dict]) -> str:
    lines = [f"{'trial':<20} {'completion':>10} {'lap/ref':>8} {'first lap s':>11} {'evals':>5}  {'stop':<21} "
             "parameters"]
    for r in rows:
        ratio = f"{r['best_lap_over_reference']:.3f}" if r["best_lap_over_reference"] else "-"
        first = f"{r['first_lap_wall_s']:.1f}" if r["first_lap_wall_s"] is not None else "-"
        lines.append(f"{r['trial']:<20} {100 * r['completion']:>9.0f}% {ratio:>8} {first:>11} {r['evaluations']:>5}  "
                     f"{r['stop']:<21} {label(r)}")
    return "\n".join(lines)
