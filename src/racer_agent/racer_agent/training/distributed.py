"""Rollouts on Ray actors: more cars than one machine's cores, on one machine or a cluster.

Imported only with `--workers N`, after `ray_cluster.prepare` (which settles Ray's address first).
Each actor holds a `RolloutWorker` (its share of the cars, its own env and a copy of the network).
An iteration is synchronous, as DeepRacer's: the learner puts the weights in Ray's object store
once, every actor collects its share with them, the learner merges the rollouts in worker order
and runs PPO. Nothing depends on which actor finishes first, so a run with the same config, seed
and worker count repeats.

Faults: an actor that dies (its process killed, its node lost) is restarted by Ray; the learner
asks the new actor for the same share again, so what reaches PPO is always whole rollouts from
the current weights. The new actor starts its cars on fresh episodes.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

import ray
import torch
from ray.exceptions import RayActorError

from racer_agent.training import ray_cluster
from racer_agent.training.config import TrainConfig
from racer_agent.training.rollout import Rollout, RolloutWorker, Share, merge

log = logging.getLogger(__name__)
RESTART_TIMEOUT_S = 120.0  # a dead worker not back within this (its node gone for good) ends the run


def connect(address: str = "", num_cpus: int | None = None) -> bool:
    """Join the cluster at `address` ("auto": the one `ray start` began on this machine), or start
    a private one in this process when there is none. True when this call started Ray here."""
    if ray.is_initialized():
        return False
    ray_cluster.prepare(address)
    try:
        # "local": a new private cluster even where RAY_ADDRESS or a `ray start` names another one
        ray.init(address=address or "local", num_cpus=None if address else num_cpus, include_dashboard=False,
                 configure_logging=False, **({} if address else {"_node_ip_address": "127.0.0.1"}))
    except ConnectionError as exc:
        raise ray_cluster.ClusterUnreachable(f"cannot join the Ray cluster at {address!r}: {exc}") from exc
    return True


@ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=0)
class RolloutActor:
    """One worker process; Ray runs __init__ again when it restarts one."""

    def __init__(self, config: TrainConfig, share: Share):
        torch.set_num_threads(1)  # one core per actor: the cluster's CPUs are the unit of scale
        torch.manual_seed(config.seed + 1000 * share.index)
        self.worker = RolloutWorker(config, share)

    def pid(self) -> int:
        return os.getpid()

    def state(self, at_iteration_start: bool) -> dict | None:
        return self.worker.state(at_iteration_start)

    def load_state(self, state: dict) -> None:
        self.worker.load_state(state)

    def collect(self, weights: dict, speed_cap: float | None, seed: int, gamma: float) -> Rollout:
        if self.worker.cars is None:  # a new or restarted actor: its cars begin fresh episodes
            self.worker.start(seed)
        self.worker.model.load_state_dict(weights)
        self.worker.limit_speed(speed_cap)
        return self.worker.collect(gamma)


class RayRollouts:
    """The run's cars spread over `workers` Ray actors, driven as one."""

    def __init__(self, config: TrainConfig, model: torch.nn.Module, workers: int, address: str = ""):
        self._owns_ray = connect(address, num_cpus=max(workers, os.cpu_count() or 1))
        self.config = config
        self.model = model  # the learner's: its weights are broadcast every iteration
        self.shares = Share.split(config, workers)
        self.actors = [RolloutActor.remote(config, share) for share in self.shares]
        self.recollected = 0
        self._cap: float | None = None
        self._seed = config.seed

    def start(self, seed: int) -> None:
        self._seed = seed

    def limit_speed(self, cap: float | None) -> None:
        self._cap = cap

    def state(self, at_iteration_start: bool = False) -> list | None:
        states = ray.get([actor.state.remote(at_iteration_start) for actor in self.actors])
        return None if any(s is None for s in states) else states

    def load_state(self, states: list) -> None:
        """One state per worker; the trainer resumes saved cars only with the worker count they had."""
        ray.get([actor.load_state.remote(s) for actor, s in zip(self.actors, states, strict=True)])

    def worker_pids(self) -> list[int]:
        return ray.get([actor.pid.remote() for actor in self.actors])

    def collect(self, gamma: float, stop: Callable[[], bool] = lambda: False) -> Rollout:
        """`stop` is not polled here: a Ctrl-C waits for the iteration's shares, which the trainer
        then drops (the cars' state saved is the one the iteration began with)."""
        weights = ray.put({k: v.detach().clone() for k, v in self.model.state_dict().items()})
        args = (weights, self._cap, self._seed, gamma)
        pending = [actor.collect.remote(*args) for actor in self.actors]
        return merge([self._result(w, ref, args) for w, ref in enumerate(pending)])

    def _result(self, w: int, ref: ray.ObjectRef, args: tuple) -> Rollout:
        """Worker w's whole rollout. A worker that dies is restarted by Ray and asked again (while it
        restarts, Ray answers 'unavailable'); `recollected` counts the shares collected again."""
        deadline = None
        while True:
            try:
                return ray.get(ref)
            except RayActorError as exc:
                if deadline is None:
                    self.recollected += 1
                    deadline = time.monotonic() + RESTART_TIMEOUT_S
                    log.warning("rollout worker %d died (%s); collecting its share again", w, type(exc).__name__)
                if time.monotonic() > deadline:
                    raise RuntimeError(f"rollout worker {w} died and did not come back: {exc}") from exc
                time.sleep(0.2)
                ref = self.actors[w].collect.remote(*args)

    def close(self) -> None:
        for actor in self.actors:
            ray.kill(actor, no_restart=True)
        if self._owns_ray:
            ray.shutdown()
