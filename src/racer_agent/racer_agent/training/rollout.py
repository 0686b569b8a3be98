"""Rollout collection: some training cars drive the stochastic policy and return a finished PPO batch.

A `RolloutWorker` owns a batched env (its share of the run's cars), the cars' state between
iterations and the policy it drives with. The single-process trainer holds one that shares the
learner's model; with `--workers N` each Ray actor holds one with its own copy of the weights
(training/distributed.py). Either way a worker's rollout leaves it whole: advantages are computed
per car on the worker, so the learner only concatenates batches, and nothing half-collected can
reach PPO.

A completed lap ends DeepRacer's episode, but on a loop the car could drive on, and from a
round-robin start no picture shows where its lap will end. Learnt as the end of everything, it
puts an ending the critic cannot see into every value and leaves speed nothing to gain near it; a
policy that has just reached the top speed then slows to a crawl (circuit seed 0: from 1.42x the
reference to 1.84-1.95x for 2.4 M samples). So a lap's end bootstraps the value as the step cap
does (advantage.py); leaving the road, reversing and stopping still end it.

Shapes: T steps x n cars per rollout; frames (T, n, C, h, w) prepared for the network (downscaled
once, not once per epoch); everything else (T, n).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import torch

import racer_agent  # noqa: F401  (registers the env)
from racer_agent.env import episode
from racer_agent.env.multi_track import MultiTrackVectorEnv, split_cars
from racer_agent.env.race import SimulatorFactory
from racer_agent.env.simtrace import EpisodeSteps
from racer_agent.evaluation.policy import build_model
from racer_agent.training import ppo
from racer_agent.training.advantage import gae
from racer_agent.training.config import TrainConfig
from racer_agent.training.networks import ActorCritic


@dataclass
class Share:
    """Which of the run's cars a worker drives and how much of each iteration it collects."""

    index: int  # worker number, 0..workers-1
    cars: list[int]  # the run's car numbers (for the logs): worker w of W drives cars w, w + W, ...
    episodes: int  # episodes to finish per iteration
    max_samples: int  # samples per iteration at most

    @classmethod
    def split(cls, config: TrainConfig, workers: int) -> list[Share]:
        """Cars interleaved over the workers, so together they start where one process's cars would."""
        if config.num_cars < workers * len(config.tracks):
            raise ValueError(f"{workers} workers on {len(config.tracks)} track(s) need at least "
                             f"{workers * len(config.tracks)} cars, got num_cars {config.num_cars}")
        episodes = split_cars(config.hyperparameters.num_episodes_between_training, workers)
        samples = split_cars(config.max_samples_per_iteration, workers)
        return [cls(w, list(range(w, config.num_cars, workers)), max(1, episodes[w]), samples[w])
                for w in range(workers)]


@dataclass
class Rollout:
    batch: ppo.Batch
    finished: list[dict] = field(default_factory=list)  # one row per ended episode (episodes.csv fields)


@dataclass
class _Cars:
    """What carries over from one rollout to the next."""

    obs: torch.Tensor  # (n, C, h, w) prepared frames
    needs_reset: torch.Tensor  # (n,) bool: the next step is an autoreset step
    returns: np.ndarray  # (n,) reward of each car's current episode so far
    steps: np.ndarray  # (n,) steps of each car's current episode so far


def simulator_factory(config: TrainConfig, cars: list[int]) -> SimulatorFactory | None:
    """None: the embedded simulator in this process; ros: one lock-step simulator node per car;
    gazebo: one paused Gazebo world per car, stepped over gz-transport. A worker addresses only its
    own cars' nodes or worlds (namespace car_<i>, partition <prefix>_<i>: the run's car numbers)."""
    if config.sim == "ros":
        from racer_agent.ros.simulator import RosSimulator
        from racer_inference.messages import default_namespaces

        every = default_namespaces(config.num_cars)
        return functools.partial(RosSimulator, namespaces=[every[i] for i in cars], timeout_s=config.sim_timeout_s)
    if config.sim == "gazebo":
        from racer_agent.gazebo.simulator import GazeboSimulator
        from racer_core.gazebo_interface import default_partitions

        every = [None] if config.num_cars == 1 else default_partitions(config.num_cars)
        return functools.partial(GazeboSimulator, world=config.gazebo_world, partitions=[every[i] for i in cars],
                                 timeout_s=config.sim_timeout_s)
    return None


def training_env(config: TrainConfig, share: Share) -> gym.vector.VectorEnv:
    """One batched env on one track, or the cars spread over several tracks; worker w of a run with
    N cars starts its round-robin w / N further on, so the workers' cars together start where one
    process's would."""
    common = dict(randomize=config.randomize, sim_to_real=config.sim_to_real,
                  simulator=simulator_factory(config, share.cars),
                  direction=config.direction, start_offset=share.index / config.num_cars, **config.race_options())
    if len(config.tracks) == 1:
        return gym.make_vec("racer/TimeTrial-v0", num_envs=len(share.cars), track=config.tracks[0], **common)
    return MultiTrackVectorEnv(config.tracks, len(share.cars), **common)


class RolloutWorker:
    """One share of the training cars. `model` is the learner's own (single process) or a copy that
    `collect` loads the broadcast weights into (a Ray actor)."""

    def __init__(self, config: TrainConfig, share: Share, model: ActorCritic | None = None):
        self.config = config
        self.share = share
        self.env = training_env(config, share)
        races = self.env.unwrapped.races
        self.model = model or build_model(config.network, races[0].camera.shape, races[0].full_actions)
        counts = split_cars(len(share.cars), len(config.tracks))
        car_races = [race for race, n in zip(races, counts, strict=True) for _ in range(n)]
        self.car_tracks = [race.track.name for race in car_races]
        self.car_loops = np.array([race.track.closed for race in car_races])  # (n,): where a lap's end bootstraps
        self.trace = EpisodeSteps(share.cars, self.car_tracks) if config.simtrace else None  # the sim-trace
        self.monitor = None  # a live view (monitor.Monitor) shown every step, when set
        self.cars: _Cars | None = None
        self._at_iteration_start: dict | None = None  # state() as the current rollout began

    def start(self, seed: int) -> None:
        """Every car begins a new episode (a run's start or resume); worker w's env is seeded seed + 1000 w."""
        obs, _ = self.env.reset(seed=seed + 1000 * self.share.index)
        n = len(self.share.cars)
        self.cars = _Cars(obs=self.model.prepare(torch.from_numpy(obs)), needs_reset=torch.zeros(n, dtype=torch.bool),
                          returns=np.zeros(n), steps=np.zeros(n, np.int64))

    def limit_speed(self, cap: float | None) -> None:
        for race in self.env.unwrapped.races:
            race.limit_speed(cap)

    def collect(self, gamma: float, stop: Callable[[], bool] = lambda: False) -> Rollout:
        """Drive until this share's episodes ended (or its sample cap); the rollout as a PPO batch."""
        self._at_iteration_start = self.state()
        share, cars, model = self.share, self.cars, self.model
        frames, actions, logprobs, values, rewards, terminated, ended, valid = ([] for _ in range(8))
        finished: list[dict] = []
        n = len(share.cars)
        while True:
            with torch.no_grad():
                actor_out, value = model(cars.obs)  # (n, K|2), (n,)
                dist = model.distribution(actor_out)
                action = dist.sample()  # (n,) or (n, 2)
                logprob = dist.log_prob(action)  # (n,)
            next_obs, reward, term, trunc, info = self.env.step(action.numpy())
            if self.trace is not None:
                self.trace.record(info["params"], action.numpy(), reward, info["episode_status"],
                                  info["measured_speed"])
            if self.monitor is not None and self.monitor.due():
                self.monitor.cars(next_obs, np.concatenate([race.sim.state for race in self.env.unwrapped.races]))
            frames.append(cars.obs)
            actions.append(action)
            logprobs.append(logprob)
            values.append(value)
            rewards.append(torch.as_tensor(reward, dtype=torch.float32))
            laps_on = episode.drives_on(info["episode_status"], self.car_loops)  # (module docstring)
            terminated.append(torch.as_tensor(term & ~laps_on))
            ended.append(torch.as_tensor(term | trunc))
            valid.append(~cars.needs_reset)  # an autoreset step ignored the action: not a sample
            counted = ~cars.needs_reset.numpy()
            cars.returns += np.where(counted, reward, 0.0)
            cars.steps += counted
            for car in np.nonzero(term | trunc)[0]:
                finished.append(self._episode_row(car, cars.returns[car], cars.steps[car], info))
                cars.returns[car], cars.steps[car] = 0.0, 0
            cars.needs_reset = ended[-1]
            cars.obs = model.prepare(torch.from_numpy(next_obs))
            if len(finished) >= share.episodes or len(frames) * n >= share.max_samples or stop():
                break
        with torch.no_grad():
            _, last_value = model(cars.obs)  # V of the state after the last step (bootstraps truncation)

        values_t = torch.stack(values)  # (T, n)
        next_values = torch.cat([values_t[1:], last_value[None]])  # (T, n): V(s_{t+1})
        advantages, returns = gae(torch.stack(rewards), values_t, next_values, torch.stack(terminated),
                                  torch.stack(ended), gamma, ppo.GAE_LAMBDA)
        mask = torch.stack(valid).flatten()  # (T*n,)
        batch = ppo.Batch(
            frames=torch.stack(frames).flatten(0, 1)[mask],  # (S, C, h, w) prepared
            actions=torch.stack(actions).flatten(0, 1)[mask],  # (S,) or (S, 2)
            logprobs=torch.stack(logprobs).flatten()[mask],
            values=values_t.flatten()[mask],
            advantages=advantages.flatten()[mask],
            returns=returns.flatten()[mask],
        )
        return Rollout(batch, finished)

    def _episode_row(self, car: int, reward: float, steps: int, info: dict) -> dict:
        """The episode's row for episodes.csv, with its sim-trace rows under "trace" (if kept)."""
        status = info["episode_status"][car]
        return {"phase": "train", "car": self.share.cars[car], "track": self.car_tracks[car], "reward": float(reward),
                "progress": float(info["progress"][car]), "status": status, "steps": int(steps),
                "lap_time_s": float(info["lap_time"][car]) if status == episode.LAP_COMPLETE else None,
                "trace": self.trace.end(car) if self.trace is not None else None}

    def state(self, at_iteration_start: bool = False) -> dict | None:
        """Everything that moves the cars between two iterations, for a resume that continues
        exactly: the simulator's cars, cameras and looks, the race's episodes and random numbers,
        and the frames and returns the next rollout starts from. None for a ROS or Gazebo simulator,
        whose state lives in another process: its resume starts new episodes."""
        if at_iteration_start and self._at_iteration_start is not None:
            return self._at_iteration_start
        if self.config.sim != "embedded" or self.cars is None:
            return None
        return {"cars": copy.deepcopy(vars(self.cars)), "parts": [p.state_dict() for p in _parts(self.env)],
                "torch_rng": torch.get_rng_state(),
                "trace": self.trace.state_dict() if self.trace is not None else None}

    def load_state(self, state: dict) -> None:
        self.cars = _Cars(**copy.deepcopy(state["cars"]))
        if self.trace is not None and state.get("trace") is not None:
            self.trace.load_state_dict(state["trace"])
        for part, saved in zip(_parts(self.env), state["parts"], strict=True):
            part.load_state_dict(saved)
        torch.set_rng_state(state["torch_rng"])  # the policy's action sampling

    def close(self) -> None:
        self.env.close()


def _parts(env: gym.vector.VectorEnv) -> list:
    """The TimeTrialVectorEnv(s) behind the rollout's env (one per track), each with its own state."""
    env = env.unwrapped
    return env.parts if isinstance(env, MultiTrackVectorEnv) else [env]


def merge(rollouts: list[Rollout]) -> Rollout:
    """The workers' rollouts as one batch, in worker order (so a run repeats)."""
    if len(rollouts) == 1:
        return rollouts[0]
    fields = ppo.Batch.__dataclass_fields__
    batch = ppo.Batch(**{name: torch.cat([getattr(r.batch, name) for r in rollouts]) for name in fields})
    return Rollout(batch, [row for r in rollouts for row in r.finished])
