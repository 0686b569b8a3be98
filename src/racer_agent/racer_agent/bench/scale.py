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

The costs of the log and the live view are differences of a few percent between modes run one after
another on a shared machine, where one 30 s run differs from the next by as much, and the machine's
speed drifts over minutes (measured: the same mode 9 % slower eight minutes later). So those three
modes run `rounds` times in a balanced order (ABC, CBA, ABC, CBA: every mode's mean place in time is
the same, so a steady drift falls on all alike) and each mode's rounds are pooled: its samples over
its seconds.

The page is open and has drawn its first picture before the watched run starts: a browser's start
(about a second of CPU) is a one-off, like the actors' start, not what watching costs per sample.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from racer_agent.training import config as train_config
from racer_agent.training import ray_cluster
from racer_agent.training.run_directory import read_values

LOOPBACK = "127.0.0.1"
STARTUP_S = 8.0  # added to every mode's budget for its first, uncounted iteration
STEPS_MINUTES = 10.0  # a sample budget's time cap: only a stuck mode reaches it
COST_ROUNDS = 4  # rounds of the modes whose difference is a cost, in a balanced order (see above)
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


def _train(work: Workload, workers: int, out: Path, simtrace: bool = True, monitor=None) -> dict:
    """One mode: samples/s over its iterations after the first."""
    from racer_agent.training.trainer import Trainer

    # the budget covers the first iteration too (the actors' start, a few seconds), which is not counted
    minutes = STEPS_MINUTES if work.steps else (work.seconds + work.startup_s) / 60.0
    cfg = train_config.load(track=work.track, num_cars=work.cars, minutes=minutes, steps=work.steps, seed=work.seed,
                            workers=workers, eval_every_samples=10**12, simtrace=simtrace, **work.config)
    trainer = Trainer(cfg, out, show_progress=False, monitor=monitor)
    trainer.train()
    rows = read_values(trainer.run.iterations_csv)
    if len(rows) < 3:
        budget = f"{work.steps} samples" if work.steps else f"{work.seconds} s"
        raise RuntimeError(f"workers={workers}: only {len(rows)} iterations in {budget}; give it a larger budget")
    first, last = rows[0], rows[-1]
    samples = last["samples"] - first["samples"]
    wall = last["wall_s"] - first["wall_s"]
    update = sum(trainer.update_seconds[1:])  # the learner's PPO time in the same iterations
    return {"workers": workers, "cars": cfg.num_cars, "iterations": len(rows) - 1, "samples": samples,
            "seconds": round(wall, 2), "samples_per_s": round(samples / wall, 1),
            "ppo_update_share": round(update / wall, 3)}


def _pooled(runs: list[dict | None]) -> dict | None:
    """A mode's rounds as one run: its samples over its seconds, every round's figure beside it
    (None: the mode never ran)."""
    runs = [r for r in runs if r is not None]
    if not runs:
        return None
    samples, seconds = sum(r["samples"] for r in runs), sum(r["seconds"] for r in runs)
    update = sum(r["ppo_update_share"] * r["seconds"] for r in runs)
    per_round = {f"rounds_{key}": [r[key] for r in runs] for key in runs[0] if key.startswith("page_")}
    return {**runs[0], **per_round, "iterations": sum(r["iterations"] for r in runs), "samples": samples,
            "seconds": round(seconds, 2), "samples_per_s": round(samples / seconds, 1),
            "ppo_update_share": round(update / seconds, 3), "rounds_samples_per_s": [r["samples_per_s"] for r in runs]}


def _balanced(modes: list, rounds: int) -> list[tuple[int, object]]:
    """(round, mode) in the order ABC, CBA, ABC, ...: each mode's mean place in time is the same."""
    return [(r, m) for r in range(rounds) for m in (modes if r % 2 == 0 else modes[::-1])]


def _watched(work: Workload, out: Path) -> dict | None:
    """The single process with `--monitor` and racer's live page open in headless Chromium
    (None without Debian's chromium), with the cores Chromium used meanwhile."""
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
        cpu, wall = page.cpu_seconds(), time.monotonic()
        run = _train(work, 0, out, monitor=monitor)
        return {**run, "page_frames": int(page.evaluate("Number(document.getElementById('status').dataset.frames)")),
                "page_cores": round((page.cpu_seconds() - cpu) / (time.monotonic() - wall), 3)}
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


def run(work: Workload = Workload(), rounds: int = COST_ROUNDS) -> dict:
    ray_cluster.prepare()  # every Ray here stays on loopback
    with tempfile.TemporaryDirectory(prefix="racer-bench-scale-") as tmp:
        tmp = Path(tmp)
        modes = {
            "single": lambda out: _train(work, 0, out),
            "untraced": lambda out: _train(work, 0, out, simtrace=False),
            "watched": lambda out: _watched(work, out),
        }
        runs = {name: [] for name in modes}
        for r, name in _balanced(list(modes), rounds):
            runs[name].append(modes[name](tmp / f"{name}{r}"))
        single, untraced, watched = (_pooled(runs[name]) for name in modes)
        one = _train(work, 1, tmp / "w1")
        two = _train(work, 2, tmp / "w2")
        nodes = _on_two_nodes(work, tmp / "nodes")
    base = single["samples_per_s"]
    return {
        "benchmark": "scale", "track": work.track, "cars": single["cars"],
        "seconds_per_mode": None if work.steps else work.seconds, "steps_per_mode": work.steps,
        "single_process": single, "single_process_without_simtrace": untraced,
        "workers_1": one, "workers_2": two, "workers_2_two_nodes": nodes,
        "workers_1_over_single": round(one["samples_per_s"] / base, 3),
        "workers_2_over_single": round(two["samples_per_s"] / base, 3),
        "two_nodes_over_single": round(nodes["samples_per_s"] / base, 3),
        "ray_overhead_us_per_sample": round(1e6 * (1 / one["samples_per_s"] - 1 / base), 1),
        # what logging every step in DeepRacer's sim-trace costs training (target: under 5 %)
        "simtrace_cost": round(1 - base / untraced["samples_per_s"], 3),
        # what the live view costs with racer's page open in Chromium (target: under 5 %; None: no chromium)
        "single_process_watched": watched,
        "monitor_cost": None if watched is None else round(1 - watched["samples_per_s"] / base, 3),
        "target_workers_2_over_single": 0.9,
    }
