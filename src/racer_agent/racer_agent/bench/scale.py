"""Training throughput with Ray rollout workers, measured beside the single-process trainer in the same run.

Each mode trains racer's default config (the same cars, track and seed) for `seconds` and counts
samples per second over its iterations after the first: the first carries the actors' start
(process spawn, imports) and is a one-off, not a per-sample cost. Evaluations are switched off:
they run on the learner in every mode alike and would only dilute the difference.

Each mode also reports the share of its time the learner spent in PPO's update, the part that
more workers do not shorten.

Modes: the single-process trainer, with and without the sim-trace (the per-step log's cost), and
watched live (`--monitor` with racer's page open in headless Chromium: the live view's cost);
`--workers 1` and `--workers 2` on a private Ray started by the trainer (or the cluster this
process has joined); and `--workers 2` on a local two-node cluster (`ray.cluster_utils.Cluster`,
one CPU per node), the multi-machine layout on one machine. Ray's overhead per sample is the extra
time a sample costs with one worker over the single process, where both step the same cars on one core.

The costs of the log and the live view are differences of a few percent, and on a shared machine
one 30 s run differs from the next by as much, the machine's speed drifting over minutes (measured:
the same mode 9 % slower eight minutes later; modes run one after another in a balanced order over
four rounds still put the log's cost at 5.9 % and 7.1 % in two runs, where timing the log's own code
inside a run gave 3 %). So each cost is measured inside one run that turns its part on and off in
blocks of iterations, and compares the iterations with it on against those with it off: neighbours
a second apart, which the machine's drift cannot tell apart. The sim-trace turns with every
iteration (its rows are kept and written within the iteration). The live view turns every
`monitor_block` iterations (several seconds) with racer's page open in headless Chromium throughout,
and the first few iterations of each block are not counted: the page draws what it got up to a
second later. With the view off the page gets nothing and draws nothing; the
browser's idle share (0.0025 of a core, docs/analysis.md) falls on both. The page is open and has
drawn its first picture before the run starts: a browser's start (about a second of CPU) is a
one-off, like the actors' start, not what watching costs per sample.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from racer_agent.training import config as train_config
from racer_agent.training import ray_cluster
from racer_agent.training.run_directory import read_values

LOOPBACK = "127.0.0.1"
STARTUP_S = 8.0  # added to every mode's budget for its first, uncounted iteration
STEPS_MINUTES = 10.0  # a sample budget's time cap: only a stuck mode reaches it
MONITOR_BLOCK = 24  # iterations the live view stays on, then off (see above): about 9 s, 9 pictures
MONITOR_SETTLE = 3  # the first iterations of each block, not counted: the page draws a second late
COST_RUN_FACTOR = 2  # the cost runs train this many times each mode's budget: half of it is with the part off
PAGE_READY_S = 20.0  # for the page to connect and show a picture


@dataclass(frozen=True)
class Workload:
    """What every mode trains: the same cars, track and seed for `seconds`, or for `steps` samples
    where given (the same work on a busy machine); `config`: further config keys (the test's smaller
    iterations)."""

    track: str = "circuit"
    cars: int | None = None
    seconds: float = 30.0
    seed: int = 0
    startup_s: float = STARTUP_S
    steps: int | None = None
    config: dict = field(default_factory=dict)


def _trainer(work: Workload, workers: int, out: Path, monitor=None):
    from racer_agent.training.trainer import Trainer

    # the budget covers the first iteration too (the actors' start, a few seconds), which is not counted
    minutes = STEPS_MINUTES if work.steps else (work.seconds + work.startup_s) / 60.0
    cfg = train_config.load(track=work.track, num_cars=work.cars, minutes=minutes, steps=work.steps, seed=work.seed,
                            workers=workers, eval_every_samples=10**12, **work.config)
    return Trainer(cfg, out, show_progress=False, monitor=monitor)


def _train(work: Workload, workers: int, out: Path) -> dict:
    """One mode: samples/s over its iterations after the first."""
    trainer = _trainer(work, workers, out)
    trainer.train()
    rows = _iterations(trainer, work)
    return {"workers": workers, "cars": trainer.config.num_cars,
            **_rate(rows, range(1, len(rows)), trainer.update_seconds)}


def _iterations(trainer, work: Workload) -> list[dict]:
    rows = read_values(trainer.run.iterations_csv)
    if len(rows) < 3:
        budget = f"{work.steps} samples" if work.steps else f"{work.seconds} s"
        raise RuntimeError(f"workers={trainer.config.workers}: only {len(rows)} iterations in {budget}; "
                           "give it a larger budget")
    return rows


def _rate(rows: list[dict], counted, update_seconds: list[float]) -> dict:
    """Samples/s over the `counted` iterations (each from the end of the one before), and the share
    of their time the learner spent in PPO's update."""
    counted = list(counted)
    samples = sum(rows[i]["samples"] - rows[i - 1]["samples"] for i in counted)
    wall = sum(rows[i]["wall_s"] - rows[i - 1]["wall_s"] for i in counted)
    update = sum(update_seconds[i] for i in counted)
    return {"iterations": len(counted), "samples": samples, "seconds": round(wall, 2),
            "samples_per_s": round(samples / wall, 1), "ppo_update_share": round(update / wall, 3)}


def _is_on(iteration: int, block: int) -> bool:
    """Whether the part is on in `iteration`: on for the first `block` iterations, then off, and so on."""
    return (iteration // block) % 2 == 0


def _on_off(iterations: int, block: int, settle: int = 0) -> tuple[list[int], list[int]]:
    """The counted iterations with the part on and with it off: not the first iteration (the start),
    nor the first `settle` of each block (what the last block left)."""
    counted = [i for i in range(1, iterations) if i % block >= settle]
    return [i for i in counted if _is_on(i, block)], [i for i in counted if not _is_on(i, block)]


def _alternating(work: Workload, out: Path, block: int, settle: int = 0, monitor=None, page=None) -> dict:
    """The single process with a part turned on and off every `block` iterations: the sim-trace, or
    with `monitor` the live view (and `page`, the browser watching it, whose CPU is read at each turn)."""
    work = replace(work, seconds=work.seconds * COST_RUN_FACTOR,
                   steps=work.steps * COST_RUN_FACTOR if work.steps else None)
    trainer = _trainer(work, 0, out, monitor=monitor)
    worker, trace, turns = trainer.rollouts, trainer.rollouts.trace, []
    collect, iterations = worker.collect, itertools.count()

    def turned(*args, **kwargs):
        i = next(iterations)
        on = _is_on(i, block)
        if i % block == 0 and page is not None:
            turns.append((time.monotonic(), page.cpu_seconds(), on))
        if monitor is None:
            worker.trace = trace if on else None
        else:
            worker.monitor = trainer.monitor = monitor if on else None
        return collect(*args, **kwargs)

    worker.collect = turned
    trainer.train()
    rows = _iterations(trainer, work)
    on, off = _on_off(next(iterations), block, settle)  # the count: the iterations collected
    result = {"block_iterations": block, "settle_iterations": settle, "on": _rate(rows, on, trainer.update_seconds),
              "off": _rate(rows, off, trainer.update_seconds)}
    if page is not None:
        turns.append((time.monotonic(), page.cpu_seconds(), None))
        result["page_cores_on"], result["page_cores_off"] = (_cores(turns, state) for state in (True, False))
    result["cost"] = round(1 - result["on"]["samples_per_s"] / result["off"]["samples_per_s"], 3)
    return result


def _cores(turns: list[tuple[float, float, bool | None]], state: bool) -> float:
    """The browser's cores over the blocks in `state`, from (time, its CPU seconds, state) at each turn."""
    spans = [(b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise(turns) if a[2] == state]
    return round(sum(cpu for _, cpu in spans) / sum(wall for wall, _ in spans), 4)


def _watched(work: Workload, out: Path, block: int) -> dict | None:
    """The live view turned on and off with racer's page open in headless Chromium throughout
    (None without Debian's chromium)."""
    from racer_agent import browser
    from racer_agent.monitor import TRAINING_HZ, Monitor, free_port_pair
    from racer_core.builtin_tracks import load as load_track

    if browser.CHROMIUM is None:
        return None
    monitor = Monitor(f"{LOOPBACK}:{free_port_pair()}", load_track(work.track), hz=TRAINING_HZ)
    page = browser.HeadlessChromium()
    try:
        page.open(monitor.url)
        _until_shown(monitor, page)
        result = _alternating(work, out, block, min(MONITOR_SETTLE, block - 1), monitor, page)
        return {**result, "page_frames": int(page.evaluate("Number(document.getElementById('status').dataset.frames)"))}
    finally:
        page.close()
        monitor.close()


def _until_shown(monitor, page) -> None:
    """Pictures (at the monitor's rate) until the page has subscribed and drawn one."""
    deadline = time.monotonic() + PAGE_READY_S
    while page.evaluate("Number(document.getElementById('status').dataset.frames)") == 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"racer's page showed no picture in {PAGE_READY_S} s")
        monitor.cars(np.zeros((1, 8, 8, 3), np.uint8), np.zeros((1, 3)))
        time.sleep(0.1)


def _on_two_nodes(work: Workload, out: Path) -> dict:
    """--workers 2 on a head and a second node (one CPU each), joined at the head's address; on the
    cluster this process is already joined to, where it has two nodes (the test's)."""
    ray_cluster.prepare()
    import ray
    from ray.cluster_utils import Cluster

    if ray.is_initialized() and sum(n["Alive"] for n in ray.nodes()) >= 2:
        return {**_train(work, 2, out), "nodes": sum(n["Alive"] for n in ray.nodes())}

    node = dict(num_cpus=1, node_ip_address=LOOPBACK)
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    cluster.add_node(**node)
    try:
        ray.init(address=cluster.address, _node_ip_address=LOOPBACK, include_dashboard=False, configure_logging=False)
        cluster.wait_for_nodes()
        return {**_train(work, 2, out), "nodes": 2}
    finally:
        ray.shutdown()
        cluster.shutdown()


def run(work: Workload = Workload(), monitor_block: int = MONITOR_BLOCK) -> dict:
    ray_cluster.prepare()  # every Ray here stays on loopback
    with tempfile.TemporaryDirectory(prefix="racer-bench-scale-") as tmp:
        tmp = Path(tmp)
        single = _train(work, 0, tmp / "single")
        simtrace = _alternating(work, tmp / "simtrace", 1)
        watched = _watched(work, tmp / "watched", monitor_block)
        one = _train(work, 1, tmp / "w1")
        two = _train(work, 2, tmp / "w2")
        nodes = _on_two_nodes(work, tmp / "nodes")
    base = single["samples_per_s"]
    return {
        "benchmark": "scale", "track": work.track, "cars": single["cars"],
        "seconds_per_mode": None if work.steps else work.seconds, "steps_per_mode": work.steps,
        "single_process": single, "workers_1": one, "workers_2": two, "workers_2_two_nodes": nodes,
        "workers_1_over_single": round(one["samples_per_s"] / base, 3),
        "workers_2_over_single": round(two["samples_per_s"] / base, 3),
        "two_nodes_over_single": round(nodes["samples_per_s"] / base, 3),
        "ray_overhead_us_per_sample": round(1e6 * (1 / one["samples_per_s"] - 1 / base), 1),
        # what logging every step in DeepRacer's sim-trace costs training (target: under 5 %)
        "simtrace_on_off": simtrace, "simtrace_cost": simtrace["cost"],
        # what the live view costs with racer's page open in Chromium (target: under 5 %; None: no chromium)
        "monitor_on_off": watched, "monitor_cost": None if watched is None else watched["cost"],
        "target_workers_2_over_single": 0.9,
    }
