"""`racer drive RUN`: an exported model drives racer's simulated car in real time, as it would the
real one: the simulator node free-running and the inference node, as drive.launch.py starts them.
A lap counter here follows the car's odometry (no reset happens while driving, so odom is the
track's frame) and prints each lap and its time as it happens."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from racer_agent.env.episode import EpisodeTracker
from racer_core.builtin_tracks import load as load_track
from racer_core.simulator import DIST_ALONG, WHEELS_ON, TrackProbe
from racer_inference.model import MODEL_FILE
from racer_sim.node_processes import NodeProcesses, node_command, private_dds


def model_directory(run: str | Path) -> Path:
    """A run directory (its model/) or a directory written by `racer export`."""
    run = Path(run)
    for candidate in (run, run / "model"):
        if (candidate / MODEL_FILE).is_file():
            return candidate.resolve()
    raise FileNotFoundError(f"no {MODEL_FILE} in {run} or {run / 'model'}: train and export first")


def run_track(run: str | Path) -> str | None:
    config = Path(run) / "config.json"
    return json.loads(config.read_text()).get("track") if config.is_file() else None


def drive(run: str, track: str | None, laps: int, minutes: float, real_time_factor: float) -> int:
    import rclpy
    from nav_msgs.msg import Odometry
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    print(private_dds(), file=sys.stderr)
    model = model_directory(run)
    track = track or run_track(run) or "circuit"
    track = str(Path(track).resolve()) if Path(track).exists() else track
    probe, tracker = TrackProbe(load_track(track), 1), None
    done: list[float] = []
    started = {"sim_s": 0.0, "off": False}

    def on_odom(msg: Odometry) -> None:
        nonlocal tracker
        p, sim_s = msg.pose.pose, msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
        state = np.zeros((1, 5))
        state[0, :3] = p.position.x, p.position.y, 2 * np.arctan2(p.orientation.z, p.orientation.w)
        m = probe.measure(state, 0)
        if tracker is None:
            tracker = EpisodeTracker(probe.track.length, probe.track.closed)
            tracker.reset(float(m[DIST_ALONG]), (state[0, 0], state[0, 1]))
            started["sim_s"] = sim_s
            return
        tracker.update(float(m[DIST_ALONG]), (state[0, 0], state[0, 1]))
        off = m[WHEELS_ON] == 0
        if off and not started["off"]:
            print(f"off track at {tracker.progress:.0f} %", flush=True)
        started["off"] = off
        if tracker.progress >= 100.0:
            done.append(sim_s - started["sim_s"])
            print(f"lap {len(done)}: {done[-1]:.2f} s", flush=True)
            tracker.reset(float(m[DIST_ALONG]), (state[0, 0], state[0, 1]))
            started["sim_s"] = sim_s

    context = Context()
    rclpy.init(context=context)
    node = Node("racer_lap_counter", context=context, start_parameter_services=False)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    node.create_subscription(Odometry, "odom", on_odom, 10)
    deadline = time.monotonic() + 60.0 * minutes
    try:
        with NodeProcesses() as nodes:
            nodes.start(node_command("racer_sim_node", "racer_sim", "sim.yaml",
                                     {"track": track, "lockstep": False, "real_time_factor": real_time_factor}))
            nodes.start(node_command("racer_inference_node", "racer_inference", None, {"model_dir": str(model)}))
            print(f"driving {model} on {probe.track.name}; {laps} lap(s)", flush=True)
            while len(done) < laps and time.monotonic() < deadline:
                executor.spin_once(timeout_sec=0.1)
                if any(p.poll() is not None for p in nodes.processes):
                    raise RuntimeError("a node stopped early: " + " ".join(str(p.args[0]) for p in nodes.processes
                                                                        if p.poll() is not None))
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    finally:
        executor.shutdown(timeout_sec=0)
        node.destroy_node()
        rclpy.try_shutdown(context=context)
    if len(done) < laps:
        print(f"{len(done)}/{laps} laps in {minutes:g} min", file=sys.stderr)
        return 1
    print(f"{laps} lap(s): best {min(done):.2f} s, mean {sum(done) / len(done):.2f} s")
    return 0
