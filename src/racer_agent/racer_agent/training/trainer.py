"""DeepRacer-style PPO training on the embedded simulator, in one readable loop.

An iteration (DeepRacer's "policy training iteration"): the N cars of one batched env drive with
the stochastic policy until `num_episodes_between_training` episodes have ended (at most
`max_samples_per_iteration` samples), then PPO runs `num_epochs` over the rollout. Every
`eval_every_samples` samples the greedy policy drives `eval_laps` laps from evenly spaced starts;
the best evaluation is kept as `best.pt`. Every decision that shapes a run is counted in samples
and evaluations, never in wall seconds, so a run repeats on a busy machine; the wall-clock budget
only ends it.

Shapes: T steps x N cars per rollout; frames (T, N, C, h, w) already prepared for the network
(downscaled once, not once per epoch); everything else (T, N).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from tqdm import tqdm

import racer_agent  # noqa: F401  (registers the env)
from racer_agent.env import episode
from racer_agent.env.actions import ActionSpace
from racer_agent.env.multi_track import MultiTrackVectorEnv, split_cars
from racer_agent.env.race import SimulatorFactory
from racer_agent.env.reward_function import DEFAULT_REWARD_FILE, RewardFunctionError
from racer_agent.evaluation import model_metadata
from racer_agent.evaluation.policy import TorchPolicy, build_model
from racer_agent.training import checkpoint, ppo
from racer_agent.training.advantage import gae
from racer_agent.training.config import TrainConfig
from racer_agent.training.curriculum import SpeedCurriculum
from racer_agent.training.greedy_eval import EvalState, GreedyEvaluation
from racer_agent.training.run_directory import EPISODE_COLUMNS, ITERATION_COLUMNS, CsvLog, RunDirectory
from racer_core.simulator_errors import SimulatorUnavailable

CHECKPOINT_FORMAT = 2


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
class _Cars:
    """What carries over from one rollout to the next for the N training cars."""

    obs: torch.Tensor  # (N, C, h, w) prepared frames
    needs_reset: torch.Tensor  # (N,) bool: the next step is an autoreset step
    returns: np.ndarray  # (N,) reward of each car's current episode so far
    steps: np.ndarray  # (N,) steps of each car's current episode so far


@dataclass
class Outcome:
    reason: str  # time budget, step budget, converged, interrupted
    progress: Progress
    run: RunDirectory
    last_eval: dict = field(default_factory=dict)


def _simulator(config: TrainConfig) -> SimulatorFactory | None:
    """None: the embedded simulator in this process; ros: one lock-step simulator node per car;
    gazebo: the paused Gazebo world stepped over gz-transport."""
    if config.sim == "ros":
        from racer_agent.ros.simulator import RosSimulator

        return functools.partial(RosSimulator, timeout_s=config.sim_timeout_s)
    if config.sim == "gazebo":
        from racer_agent.gazebo.simulator import GazeboSimulator

        return functools.partial(GazeboSimulator, world=config.gazebo_world, timeout_s=config.sim_timeout_s)
    return None


def _training_env(config: TrainConfig, race: dict) -> gym.vector.VectorEnv:
    """One batched env on one track, or the cars spread over several tracks."""
    common = dict(randomize=config.randomize, simulator=_simulator(config), direction=config.direction, **race)
    if len(config.tracks) == 1:
        return gym.make_vec("racer/TimeTrial-v0", num_envs=config.num_cars, track=config.tracks[0], **common)
    return MultiTrackVectorEnv(config.tracks, config.num_cars, **common)


def _completion_rate(finished: list[dict]) -> float:
    return sum(r["status"] == episode.LAP_COMPLETE for r in finished) / len(finished) if finished else 0.0


class Trainer:
    def __init__(self, config: TrainConfig, out: str | Path, resume: bool = False, show_progress: bool = True):
        config.check()
        self.config = config
        self.hp = config.hyperparameters
        self.run = RunDirectory(out)
        self.show_progress = show_progress
        torch.set_num_threads(config.torch_threads)
        torch.manual_seed(config.seed)
        self.generator = torch.Generator().manual_seed(config.seed)

        race = config.race_options()
        self.env = _training_env(config, race)
        self.evaluation = GreedyEvaluation(config.tracks, config.eval_laps, **race)
        self.eval_race = self.evaluation.races[0]
        self.actions: ActionSpace = self.eval_race.actions
        counts = split_cars(config.num_cars, len(config.tracks))
        self.car_tracks = [r.track.name for r, n in zip(self.evaluation.races, counts, strict=True) for _ in range(n)]
        camera = self.eval_race.camera
        self.model = build_model(config.network, camera.shape, self.actions)
        self.optimizer = ppo.make_optimizer(self.model, self.hp)
        self.metadata = model_metadata.build(self.actions, config.network, camera)
        self.progress = Progress()
        if resume:
            self._restore()
        else:
            reward = self.eval_race.reward_function.source or DEFAULT_REWARD_FILE
            self.run.create(config.to_dict(), Path(reward), self.metadata)
        self.curriculum = SpeedCurriculum.start(self.actions.max_speed, config.speed_curriculum)
        if self.progress.speed_cap:  # a resumed run goes on at the stage it had reached
            self.curriculum.cap = self.progress.speed_cap
        self._apply_speed_cap()
        self.episodes_log = CsvLog(self.run.episodes_csv, EPISODE_COLUMNS)
        self.iterations_log = CsvLog(self.run.iterations_csv, ITERATION_COLUMNS)
        self._stop_signal: str | None = None
        self._writer = None

    # ----------------------------------------------------------------------------- the loop
    def train(self) -> Outcome:
        cfg, p = self.config, self.progress
        session_start = time.perf_counter()
        wall_at_start, samples_at_start = p.wall_s, p.samples
        budget_s = cfg.minutes * 60.0
        cars = self._start_cars()
        eval_summary: dict = {}
        reason = "time budget"
        bar = tqdm(total=int(budget_s), unit="s", disable=not self.show_progress, dynamic_ncols=True,
                   bar_format="{desc} {percentage:3.0f}%|{bar}| {n}/{total} s {postfix}")
        previous = self._install_signal_handlers()
        try:
            while True:
                iteration_start = time.perf_counter()
                batch, finished = self._collect(cars)
                if self._stop_signal:
                    reason = "interrupted"
                    break
                losses = ppo.update(self.model, self.optimizer, batch, self.hp, self.generator)
                p.iteration += 1
                p.samples += len(batch)
                p.episodes += len(finished)
                p.wall_s = wall_at_start + time.perf_counter() - session_start
                for row in finished:
                    self.episodes_log.write({**row, "iteration": p.iteration, "samples": p.samples,
                                             "wall_s": p.wall_s})

                eval_row: dict = {}
                if p.samples - p.last_eval_samples >= cfg.eval_every_samples:
                    eval_summary = self._evaluate()
                    p.last_eval_samples = p.samples
                    eval_row = {"eval_progress": eval_summary["mean_progress"],
                                "eval_completed": eval_summary["completed_laps"],
                                "eval_lap_time_s": eval_summary["mean_lap_time_s"],
                                "eval_lap_over_reference": eval_summary["lap_time_over_reference"]}
                    self._save(self.run.latest)
                p.wall_s = wall_at_start + time.perf_counter() - session_start
                self._log_iteration(finished, losses, len(batch), time.perf_counter() - iteration_start, eval_row)
                if self.curriculum.update(_completion_rate(finished)):  # the next iteration drives faster
                    self._apply_speed_cap()
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
        except (RewardFunctionError, SimulatorUnavailable):
            self._save(self.run.latest)  # the model is fine, the reward function or simulator is not: keep the work
            raise
        finally:
            self.env.close()
            self._restore_signal_handlers(previous)
            bar.close()
            self.episodes_log.close()
            self.iterations_log.close()
            if self._writer is not None:
                self._writer.close()
        self._save(self.run.latest)
        return Outcome(reason, p, self.run, eval_summary)

    def _apply_speed_cap(self) -> None:
        self.progress.speed_cap = self.curriculum.cap
        for race in self.env.unwrapped.races:
            race.limit_speed(None if self.curriculum.done else self.curriculum.cap)

    def _start_cars(self) -> _Cars:
        obs, _ = self.env.reset(seed=self.config.seed + self.progress.iteration)
        n = self.config.num_cars
        return _Cars(obs=self.model.prepare(torch.from_numpy(obs)), needs_reset=torch.zeros(n, dtype=torch.bool),
                     returns=np.zeros(n), steps=np.zeros(n, np.int64))

    def _collect(self, cars: _Cars) -> tuple[ppo.Batch, list[dict]]:
        """Drive the stochastic policy until enough episodes ended; the rollout as a PPO batch."""
        cfg, hp = self.config, self.hp
        frames, actions, logprobs, values, rewards, terminated, ended, valid = ([] for _ in range(8))
        finished: list[dict] = []
        while True:
            with torch.no_grad():
                actor_out, value = self.model(cars.obs)  # (N, K|2), (N,)
                dist = self.model.distribution(actor_out)
                action = dist.sample()  # (N,) or (N, 2)
                logprob = dist.log_prob(action)  # (N,)
            next_obs, reward, term, trunc, info = self.env.step(action.numpy())
            frames.append(cars.obs)
            actions.append(action)
            logprobs.append(logprob)
            values.append(value)
            rewards.append(torch.as_tensor(reward, dtype=torch.float32))
            terminated.append(torch.as_tensor(term))
            ended.append(torch.as_tensor(term | trunc))
            valid.append(~cars.needs_reset)  # an autoreset step ignored the action: not a sample
            counted = ~cars.needs_reset.numpy()
            cars.returns += np.where(counted, reward, 0.0)
            cars.steps += counted
            for car in np.nonzero(term | trunc)[0]:
                finished.append(self._episode_row(car, cars.returns[car], cars.steps[car], info))
                cars.returns[car], cars.steps[car] = 0.0, 0
            cars.needs_reset = ended[-1]
            cars.obs = self.model.prepare(torch.from_numpy(next_obs))
            if (len(finished) >= hp.num_episodes_between_training or self._stop_signal
                    or len(frames) * cfg.num_cars >= cfg.max_samples_per_iteration):
                break
        with torch.no_grad():
            _, last_value = self.model(cars.obs)  # V of the state after the last step (bootstraps truncation)

        values_t = torch.stack(values)  # (T, N)
        next_values = torch.cat([values_t[1:], last_value[None]])  # (T, N): V(s_{t+1})
        advantages, returns = gae(torch.stack(rewards), values_t, next_values, torch.stack(terminated),
                                  torch.stack(ended), hp.discount_factor, ppo.GAE_LAMBDA)
        mask = torch.stack(valid).flatten()  # (T*N,)
        batch = ppo.Batch(
            frames=torch.stack(frames).flatten(0, 1)[mask],  # (S, C, h, w) prepared
            actions=torch.stack(actions).flatten(0, 1)[mask],  # (S,) or (S, 2)
            logprobs=torch.stack(logprobs).flatten()[mask],
            values=values_t.flatten()[mask],
            advantages=advantages.flatten()[mask],
            returns=returns.flatten()[mask],
        )
        return batch, finished

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
    def _episode_row(self, car: int, reward: float, steps: int, info: dict) -> dict:
        status = info["episode_status"][car]
        return {"episode": self.progress.episodes, "phase": "train", "car": int(car), "track": self.car_tracks[car],
                "reward": float(reward),
                "progress": float(info["progress"][car]), "status": status, "steps": int(steps),
                "lap_time_s": float(info["lap_time"][car]) if status == episode.LAP_COMPLETE else None}

    def _log_iteration(self, finished: list[dict], losses: dict, samples: int, seconds: float, eval_row: dict):
        p = self.progress
        row = {"iteration": p.iteration, "samples": p.samples, "wall_s": p.wall_s, "episodes": len(finished),
               "mean_reward": float(np.mean([r["reward"] for r in finished])) if finished else None,
               "mean_progress": float(np.mean([r["progress"] for r in finished])) if finished else None,
               "completion_rate": _completion_rate(finished) if finished else None, "speed_cap": p.speed_cap,
               "samples_per_s": samples / max(seconds, 1e-9), **losses, **eval_row}
        self.iterations_log.write(row)
        self._tensorboard({f"train/{k}": v for k, v in row.items()
                           if k not in ("iteration", "samples", "eval_progress", "eval_completed",
                                        "eval_lap_time_s") and v is not None})

    def _tensorboard(self, scalars: dict) -> None:
        if self._writer is None:
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
        }, path)

    def _restore(self) -> None:
        if not self.run.latest.is_file():
            raise checkpoint.CheckpointError(f"cannot resume: {self.run.latest} does not exist")
        state = checkpoint.load(self.run.latest)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise checkpoint.CheckpointError(f"{self.run.latest}: unknown checkpoint format {state.get('format')}")
        if state["metadata"]["neural_network"] != self.config.network:
            raise checkpoint.CheckpointError(
                f"{self.run.latest} holds a {state['metadata']['neural_network']} network, config asks for "
                f"{self.config.network}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.progress = Progress.from_dict(state["progress"])
        torch.set_rng_state(state["torch_rng"])

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
