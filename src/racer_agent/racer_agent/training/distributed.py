"""Rollouts on Ray actors: more cars than one machine's cores, on one machine or a cluster.

Imported only with `--workers N`. Each actor holds a `RolloutWorker` (its share of the cars, its own
env and a copy of the network). An iteration is synchronous, as DeepRacer's: the learner puts the
weights in Ray's object store once, every actor collects its share with them, the learner merges
the rollouts in worker order and runs PPO. Nothing depends on which actor finishes first, so a run
with the same config, seed and worker count repeats.

Faults: an actor that dies (its process killed, its node lost) is restarted by Ray; the learner
asks the new actor for the same share again, so what reaches PPO is always whole rollouts from
the current weights. The new actor starts its cars on fresh episodes.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable

import ray
import torch
from ray.exceptions import GetTimeoutError, RayActorError

from racer_agent.training.config import TrainConfig
from racer_agent.training.rollout import Rollout, RolloutWorker, Share, merge

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 5.0  # an address that does not answer within this is an error, not a hang
MAX_RESTARTS_PER_ITERATION = 3  # a worker that dies this often in one iteration is a bug, not bad luck


class ClusterUnreachable(ConnectionError):
    """--ray-address names no Ray cluster this machine can reach."""


def connect(address: str = "", num_cpus: int | None = None) -> bool:
    """Join the cluster at `address` ("auto": the one `ray start` began on this machine), or start
    a private one in this process when there is none. True when this call started Ray here."""
    if ray.is_initialized():
        return False
    if address and address != "auto":
        _check_reachable(address)
    try:
        ray.init(address=address or None, num_cpus=None if address else num_cpus, include_dashboard=False,
                 log_to_driver=True, configure_logging=False)
    except ConnectionError as exc:
        raise ClusterUnreachable(f"cannot join the Ray cluster at {address!r}: {exc}") from exc
    return True


def _check_reachable(address: str) -> None:
    host_port = address.split("://", 1)[-1]
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterUnreachable(f"--ray-address must be HOST:PORT (e.g. 127.0.0.1:6379) or auto, got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ClusterUnreachable(
            f"no Ray cluster answers at {address} ({exc}); start one with `ray start --head --port {port}` "
            "or leave out --ray-address to run a private one here") from exc


@ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=0)
class RolloutActor:
    """One worker process; Ray runs __init__ again when it restarts one."""

    def __init__(self, config: TrainConfig, share: Share):
        torch.set_num_threads(1)  # one core per actor: the cluster's CPUs are the unit of scale
        torch.manual_seed(config.seed + 1000 * share.index)
        self.worker = RolloutWorker(config, share)

    def pid(self) -> int:
        return os.getpid()

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
        self.restarts = 0
        self._cap: float | None = None
        self._seed = config.seed

    def start(self, seed: int) -> None:
        self._seed = seed

    def limit_speed(self, cap: float | None) -> None:
        self._cap = cap

    def worker_pids(self) -> list[int]:
        return ray.get([actor.pid.remote() for actor in self.actors])

    def collect(self, gamma: float, stop: Callable[[], bool] = lambda: False) -> Rollout:
        weights = ray.put({k: v.detach().clone() for k, v in self.model.state_dict().items()})
        args = (weights, self._cap, self._seed, gamma)
        pending = [actor.collect.remote(*args) for actor in self.actors]
        rollouts = []
        for w, ref in enumerate(pending):
            rollouts.append(self._result(w, ref, args))
        return merge(rollouts)

    def _result(self, w: int, ref: ray.ObjectRef, args: tuple) -> Rollout:
        """Worker w's whole rollout; a dead worker is restarted by Ray and asked again."""
        for attempt in range(MAX_RESTARTS_PER_ITERATION + 1):
            try:
                return ray.get(ref)
            except (RayActorError, GetTimeoutError) as exc:
                if attempt == MAX_RESTARTS_PER_ITERATION:
                    raise RuntimeError(f"rollout worker {w} died {attempt + 1} times in one iteration: {exc}") from exc
                self.restarts += 1
                log.warning("rollout worker %d died (%s); collecting its share again", w, type(exc).__name__)
                ref = self.actors[w].collect.remote(*args)
        raise AssertionError("unreachable")

    def close(self) -> None:
        for actor in self.actors:
            ray.kill(actor, no_restart=True)
        if self._owns_ray:
            ray.shutdown()
