"""DeepRacer-style PPO training on the embedded simulator, in one readable loop.

An iteration (DeepRacer's "policy training iteration"): the N training cars drive with the
stochastic policy until `num_episodes_between_training` episodes have ended (at most
`max_samples_per_iteration` samples), then PPO runs `num_epochs` over the rollout. The cars are
one batched env in this process, or shares of them on Ray actors (`workers`, rollout.py and
distributed.py): the loop is the same. Every
`eval_every_samples` samples the greedy policy drives `eval_laps` laps from evenly spaced starts;
the best evaluation is kept as `best.pt`. Every decision that shapes a run is counted in samples
and evaluations, never in wall seconds, so a run repeats on a busy machine; the wall-clock budget
only ends it.
"""

from __future__ import annotations

import dataclasses
import math
import signal
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from racer_agent.env import episode, simtrace
from racer_agent.env.actions import ActionSpace
from racer_agent.env.reward_function import DEFAULT_REWARD_FILE, RewardFunctionError
from racer_agent.evaluation import model_metadata
from racer_agent.evaluation.policy import TorchPolicy, build_model
from racer_agent.training import checkpoint, ppo
from racer_agent.training.config import TrainConfig, threads_allowed
from racer_agent.training.curriculum import SpeedCurriculum
from racer_agent.training.greedy_eval import EvalState, GreedyEvaluation
from racer_agent.training.rollout import RolloutWorker, Share
from racer_agent.training.run_directory import EPISODE_COLUMNS, ITERATION_COLUMNS, CsvLog, RunDirectory
from racer_core.simulator_errors import SimulatorUnavailable

CHECKPOINT_FORMAT = 2
LR_FLOOR = 0.1  # lr_decay_samples: the share of lr left at the end of the decay


@dataclass
class Progress:
    """Counters that survive a resume (stored in the checkpoint)."""

    iteration: int = 0
    samples: int = 0
    episodes: int = 0
    wall_s: float = 0.0  # training wall time over all sessions of this run
    last_eval_samples: int = 0
    speed_cap: float = 0.0  # the speed curriculum's cap on the training cars (0: not started)
    eval: EvalState = field(default_factory=EvalState)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Progress:
        return cls(**{**d, "eval": EvalState(**d["eval"])})


@dataclass
class Outcome:
    reason: str  # time budget, step budget, converged, interrupted
    progress: Progress
    run: RunDirectory
    last_eval: dict = field(default_factory=dict)


def _completion_rate(finished: list[dict]) -> float:
    return sum(r["status"] == episode.LAP_COMPLETE for r in finished) / len(finished) if finished else 0.0


def _action_shape(metadata: dict) -> tuple[str, str]:
    kind = metadata.get("action_space_type", "discrete")
    return kind, f"{len(metadata['action_space'])} actions" if kind == "discrete" else "steering and speed"


class Trainer:
    def __init__(self, config: TrainConfig, out: str | Path, resume: bool = False, show_progress: bool = True,
                 on_evaluation: Callable[[Progress, dict], None] | None = None, monitor=None):
        """`on_evaluation(progress, summary)` hears every greedy evaluation (a sweep reports it to Tune);
        `monitor` (monitor.Monitor) shows the run live: the cars of this process every step (Ray
        workers' cars are not shown), every episode and iteration."""
        config.check()
        self.on_evaluation = on_evaluation
        self.config = config
        self.hp = config.hyperparameters
        self.run = RunDirectory(out)
        self.show_progress = show_progress
        torch.set_num_threads(threads_allowed(config.torch_threads))
        torch.manual_seed(config.seed)
        self.generator = torch.Generator().manual_seed(config.seed)

        self.evaluation = GreedyEvaluation.for_config(config)
        self.eval_race = self.evaluation.races[0]
        self.actions: ActionSpace = self.eval_race.actions
        camera = self.eval_race.camera
        self.model = build_model(config.network, camera.shape, self.actions)
        self.rollouts = self._rollouts()
        self.monitor = monitor
        if monitor is not None and isinstance(self.rollouts, RolloutWorker):
            self.rollouts.monitor = monitor
        self.optimizer = ppo.make_optimizer(self.model, self.hp)
        self.metadata = model_metadata.build(self.actions, config.network, camera, config.tracks, config.direction,
                                             config.race)
        self.progress = Progress()
        self._saved_cars = None  # the cars' state a resume continues from
        reward = Path(self.eval_race.reward_function.source or DEFAULT_REWARD_FILE)
        if resume:
            self._restore()
            session = self.run.record_session(config.to_dict(), reward, self.metadata, self.progress.iteration,
                                              self.progress.samples)
            if session["changed"]:
                print(f"racer: session {session['session']} of {self.run.root} trains with changed "
                      f"{', '.join(session['changed'])} (each session's files: {self.run.sessions})",
                      file=sys.stderr)
        else:
            if config.clone:
                self._clone(Path(config.clone))
            self.run.create(config.to_dict(), reward, self.metadata)
        self.curriculum = SpeedCurriculum.start(self.actions.max_speed, config.speed_curriculum)
        if self.progress.speed_cap:  # a resumed run goes on at the stage it had reached
            self.curriculum.cap = self.progress.speed_cap
        self._apply_speed_cap()
        self.episodes_log = CsvLog(self.run.episodes_csv, EPISODE_COLUMNS)
        self.iterations_log = CsvLog(self.run.iterations_csv, ITERATION_COLUMNS)
        self._stop_signal: str | None = None
        self._writer = None
        self.update_seconds: list[float] = []  # PPO update time per iteration of this session (bench scale)

    # ----------------------------------------------------------------------------- the loop
    def train(self) -> Outcome:
        cfg, p = self.config, self.progress
        session_start = time.perf_counter()
        wall_at_start, samples_at_start = p.wall_s, p.samples
        budget_s = cfg.minutes * 60.0
        if self._saved_cars is not None:  # a resume: the cars go on from where the run stopped
            self.rollouts.load_state(self._saved_cars)
        else:
            self.rollouts.start(cfg.seed + p.iteration)
        eval_summary: dict = {}
        reason = "time budget"
        bar = tqdm(total=int(budget_s), unit="s", disable=not self.show_progress, dynamic_ncols=True,
                   bar_format="{desc} {percentage:3.0f}%|{bar}| {n}/{total} s {postfix}")
        previous = self._install_signal_handlers()
        try:
            while True:
                iteration_start = time.perf_counter()
                rollout = self.rollouts.collect(self.hp.discount_factor, stop=lambda: self._stop_signal is not None)
                batch, finished = rollout.batch, rollout.finished
                if self._stop_signal:
                    reason = "interrupted"
                    break
                self._set_learning_rate()
                update_start = time.perf_counter()
                losses = ppo.update(self.model, self.optimizer, batch, self.hp, self.generator)
                self.update_seconds.append(time.perf_counter() - update_start)
                p.iteration += 1
                p.samples += len(batch)
                p.episodes += len(finished)
                p.wall_s = wall_at_start + time.perf_counter() - session_start
                self._log_episodes(finished)

                eval_row: dict = {}
                if p.samples - p.last_eval_samples >= cfg.eval_every_samples:
                    eval_summary = self._evaluate()
                    p.last_eval_samples = p.samples
                    eval_row = {"eval_progress": eval_summary["mean_progress"],
                                "eval_completed": eval_summary["completed_laps"],
                                "eval_lap_time_s": eval_summary["mean_lap_time_s"],
                                "eval_lap_over_reference": eval_summary["lap_time_over_reference"]}
                p.wall_s = wall_at_start + time.perf_counter() - session_start
                self._log_iteration(finished, losses, len(batch), time.perf_counter() - iteration_start, eval_row)
                if self.curriculum.update(_completion_rate(finished)):  # the next iteration drives faster
                    self._apply_speed_cap()
                if eval_row:  # the iteration is complete: what a resume continues from
                    self._save_latest()
                    if self.on_evaluation is not None:  # last: a sweep may stop the run here
                        self.on_evaluation(p, eval_summary)
                bar.n = min(int(p.wall_s - wall_at_start), bar.total)
                bar.set_postfix_str(self._postfix(finished))

                if p.wall_s - wall_at_start >= budget_s:
                    reason = "time budget"
                    break
                if cfg.steps is not None and p.samples - samples_at_start >= cfg.steps:
                    reason = "step budget"
                    break
                if self.evaluation.converged(p.eval, cfg.patience_evals):
                    reason = "converged"
                    break
            self._save_latest(mid_iteration=reason == "interrupted")
        except (RewardFunctionError, SimulatorUnavailable):
            self._save_latest(mid_iteration=True)  # the model is fine, the reward function or simulator is not
            raise
        finally:
            self.rollouts.close()
            self._restore_signal_handlers(previous)
            bar.close()
            self.episodes_log.close()
            self.iterations_log.close()
            if self._writer is not None:
                self._writer.close()
        self._save(self.run.latest)
        return Outcome(reason, p, self.run, eval_summary)

    def _rollouts(self):
        """The cars in this process (one worker sharing the learner's network), or on Ray actors."""
        if self.config.workers:
            from racer_agent.training import ray_cluster

            ray_cluster.prepare(self.config.ray_address)  # a bad address fails here, before Ray starts
            from racer_agent.training.distributed import RayRollouts

            return RayRollouts(self.config, self.model, self.config.workers, self.config.ray_address)
        return RolloutWorker(self.config, Share.split(self.config, 1)[0], self.model)

    def _set_learning_rate(self) -> None:
        """lr_decay_samples: a linear fall to a tenth, counted in samples (so a run repeats)."""
        if self.config.lr_decay_samples is None:
            return
        left = max(0.0, 1.0 - self.progress.samples / self.config.lr_decay_samples)
        for group in self.optimizer.param_groups:
            group["lr"] = self.hp.lr * (LR_FLOOR + (1.0 - LR_FLOOR) * left)

    def _apply_speed_cap(self) -> None:
        self.progress.speed_cap = self.curriculum.cap
        self.rollouts.limit_speed(None if self.curriculum.done else self.curriculum.cap)

    # ---------------------------------------------------------------------------- evaluation
    def _evaluate(self) -> dict:
        """The greedy check on every track; keeps best.pt and feeds the early-stop counters."""
        p = self.progress
        verdict = self.evaluation.run(TorchPolicy(self.model, self.metadata), p.eval, p.samples, p.wall_s)
        for car, (track, lap) in enumerate(verdict.laps):
            self.episodes_log.write({"iteration": p.iteration, "episode": "", "phase": "eval", "car": car,
                                     "track": track, "reward": "", "progress": lap.progress, "status": lap.status,
                                     "steps": len(lap.path) - 1,
                                     "lap_time_s": lap.lap_time_s if lap.completed else None,
                                     "samples": p.samples, "wall_s": p.wall_s})
        if verdict.best:
            self._save(self.run.best)
        summary = verdict.summary
        self._tensorboard({"eval/progress": summary["mean_progress"], "eval/completed_laps": summary["completed_laps"],
                           **({"eval/lap_time_s": summary["mean_lap_time_s"],
                               "eval/lap_time_over_reference": summary["lap_time_over_reference"]}
                              if summary["mean_lap_time_s"] else {})})
        return summary

    # ------------------------------------------------------------------------- bookkeeping
    def _log_episodes(self, finished: list[dict]) -> None:
        """episodes.csv's rows and, unless turned off, the iteration's sim-trace under the same numbers."""
        p = self.progress
        first = p.episodes - len(finished)
        for i, row in enumerate(finished):
            row = {**row, "episode": first + i, "iteration": p.iteration, "samples": p.samples, "wall_s": p.wall_s}
            self.episodes_log.write(row)
            if self.monitor is not None:
                self.monitor.episode(row)
        if self.config.simtrace:
            simtrace.write_iteration(self.run.training_simtrace, p.iteration - 1,
                                     [(first + i, row.pop("trace") or []) for i, row in enumerate(finished)])

    def _log_iteration(self, finished: list[dict], losses: dict, samples: int, seconds: float, eval_row: dict):
        p = self.progress
        row = {"iteration": p.iteration, "samples": p.samples, "wall_s": p.wall_s, "episodes": len(finished),
               "mean_reward": float(np.mean([r["reward"] for r in finished])) if finished else None,
               "mean_progress": float(np.mean([r["progress"] for r in finished])) if finished else None,
               "completion_rate": _completion_rate(finished) if finished else None,
               # the console's "crash incidents" and off-track count: training episodes that ended so
               "crashes": sum(r["status"] == episode.CRASHED for r in finished),
               "off_track": sum(r["status"] == episode.OFF_TRACK for r in finished), "speed_cap": p.speed_cap,
               "samples_per_s": samples / max(seconds, 1e-9), **losses, **eval_row}
        self.iterations_log.write(row)
        if self.monitor is not None:
            self.monitor.iteration(row)
        self._tensorboard({f"train/{k}": v for k, v in row.items()
                           if k not in ("iteration", "samples", "eval_progress", "eval_completed",
                                        "eval_lap_time_s") and v is not None})

    def _tensorboard(self, scalars: dict) -> None:
        if self._writer is None:
            # TensorBoard's own switch (a module named tensorboard.compat.notf) for its stub instead of
            # TensorFlow: scalars need no TensorFlow, and where the deepracer-export extra installed it,
            # importing it would cost every run seconds and hundreds of MB
            sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.run.tensorboard))
        for key, value in scalars.items():
            self._writer.add_scalar(key, value, self.progress.samples)

    def _postfix(self, finished: list[dict]) -> str:
        p = self.progress
        prog = np.mean([r["progress"] for r in finished]) if finished else 0.0
        done = np.mean([r["status"] == episode.LAP_COMPLETE for r in finished]) if finished else 0.0
        best = f"{p.eval.best_lap_time_s:.2f}s" if math.isfinite(p.eval.best_lap_time_s) else "-"
        return f"it {p.iteration} progress {prog:.0f}% laps {100 * done:.0f}% top {p.speed_cap:.1f} m/s best lap {best}"

    def _save(self, path: Path) -> None:
        checkpoint.save({
            "format": CHECKPOINT_FORMAT,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "metadata": self.metadata,
            "progress": self.progress.to_dict(),
            "torch_rng": torch.get_rng_state(),
            "ppo_rng": self.generator.get_state(),
        }, path)

    def _save_latest(self, mid_iteration: bool = False) -> None:
        """latest.pt and the cars' state at the end of the last whole iteration: stopped in the middle
        of a rollout, the run saves the cars as that rollout began (the model has not moved since),
        so a resume collects the same rollout again and goes on as if never stopped."""
        self._save(self.run.latest)
        cars = self.rollouts.state(at_iteration_start=mid_iteration)
        if cars is not None:
            checkpoint.save_state({"workers": self.config.workers, "cars": cars}, self.run.car_state)

    def _restore(self) -> None:
        if not self.run.latest.is_file():
            raise checkpoint.CheckpointError(f"cannot resume: {self.run.latest} does not exist")
        state = checkpoint.load(self.run.latest)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise checkpoint.CheckpointError(f"{self.run.latest}: unknown checkpoint format {state.get('format')}")
        self._check_outputs(state["metadata"], self.run.latest, "a resume")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.progress = Progress.from_dict(state["progress"])
        torch.set_rng_state(state["torch_rng"])
        if "ppo_rng" in state:
            self.generator.set_state(state["ppo_rng"])
        if self.run.car_state.is_file():
            saved = checkpoint.load_state(self.run.car_state)
            if saved["workers"] == self.config.workers:
                self._saved_cars = saved["cars"]
            else:  # the cars were split otherwise: they start new episodes, the model goes on
                print(f"racer: the run was saved with workers={saved['workers']}, resumed with "
                      f"{self.config.workers}: the cars start new episodes", file=sys.stderr)

    def _check_outputs(self, saved: dict, source: Path, what: str) -> None:
        """The network and its outputs must match the checkpoint's; the speeds behind them may change."""
        if saved["neural_network"] != self.config.network:
            raise checkpoint.CheckpointError(
                f"{source} holds a {saved['neural_network']} network, the config asks for {self.config.network}")
        have, asked = _action_shape(saved), _action_shape(self.metadata)
        if have != asked:
            raise checkpoint.CheckpointError(
                f"{source} was trained with a {have[0]} action space of {have[1]}, the config asks for "
                f"{asked[0]} of {asked[1]}: {what} keeps the network's outputs (speeds may change)")

    def _clone(self, parent: Path) -> None:
        """Start from the parent's best weights (its latest without an evaluation) and at the speed
        stage it reached; the optimiser, counters and evaluations start anew, as a console clone does."""
        source = RunDirectory(parent).checkpoint_for_driving()
        state = checkpoint.load(source)
        self._check_outputs(state["metadata"], source, "a clone")
        self.model.load_state_dict(state["model"])
        self.progress.speed_cap = state["progress"].get("speed_cap", 0.0)

    def _install_signal_handlers(self) -> dict:
        def handler(signum, _frame):
            self._stop_signal = signal.Signals(signum).name

        previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                previous[sig] = signal.signal(sig, handler)
            except ValueError:  # not the main thread: the caller handles signals
                pass
        return previous

    @staticmethod
    def _restore_signal_handlers(previous: dict) -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)
