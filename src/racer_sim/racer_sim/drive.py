"""`racer drive RUN`: an exported model drives racer's simulated car in real time, as it would the
real one: the simulator node free-running and the inference node, as drive.launch.py starts them.
A lap counter here (`LapCounter`, also the car emulator's in the tests) follows the car's odometry
(no reset happens while driving, so odom is the track's frame) and prints each lap and its time as
it happens."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from racer_agent.env.episode import EpisodeTracker, evaluated_reversals
from racer_agent.evaluation import model_metadata
from racer_core.builtin_tracks import load as load_track
from racer_core.simulator import DIST_ALONG, WHEELS_ON, TrackProbe
from racer_core.track import Track
from racer_inference.model import METADATA_FILE, MODEL_FILE
from racer_sim.node_processes import NodeProcesses, Recorder, node_command, private_dds

OFF_TRACK = "off_track"


class LapCounter:
    """Laps of one car from its poses, by DeepRacer's rules (progress along the centre line from
    where counting started, wrapping at the finish line); also says when all four wheels leave."""

    def __init__(self, track: Track):
        self.track = track
        self.probe = TrackProbe(track, 1)
        self.state = np.zeros((1, 5))
        self.tracker: EpisodeTracker | None = None
        self.lap_start_s = 0.0
        self.off = False

    @property
    def progress(self) -> float:
        return self.tracker.progress if self.tracker else 0.0

    def update(self, x: float, y: float, yaw: float, sim_s: float) -> float | str | None:
        """The lap time (s) when a lap just ended, OFF_TRACK when the car just left the road, else None."""
        self.state[0, :3] = x, y, yaw
        m = self.probe.measure(self.state, 0)
        if self.tracker is None:
            self.tracker = EpisodeTracker(self.track.length, self.track.closed)
            along = float(m[DIST_ALONG])
            self.tracker.reset(along, along, (x, y))  # count from the first pose seen
            self.lap_start_s = sim_s
            return None
        self.tracker.update(float(m[DIST_ALONG]), (x, y))
        if self.tracker.finished:
            lap = sim_s - self.lap_start_s
            self.tracker.next_lap()
            self.lap_start_s = sim_s
            return lap
        left = m[WHEELS_ON] == 0 and not self.off
        self.off = m[WHEELS_ON] == 0
        return OFF_TRACK if left else None


def model_directory(run: str | Path) -> Path:
    """A run directory (its model/) or a directory written by `racer export`."""
    run = Path(run)
    for candidate in (run, run / "model"):
        if (candidate / MODEL_FILE).is_file():
            return candidate.resolve()
    raise FileNotFoundError(f"no {MODEL_FILE} in {run} or {run / 'model'}: train and export first")


def trained_on(run: str | Path) -> tuple[list[str], str]:
    """The tracks and direction the model was trained on (its metadata, else the run's config)."""
    meta = json.loads((model_directory(run) / METADATA_FILE).read_text())
    config = Path(run) / "config.json"
    return model_metadata.trained_on(meta, json.loads(config.read_text()) if config.is_file() else None)


def drive(run: str, track: str | None, laps: int, minutes: float, real_time_factor: float,
          direction: str | None = None, record: str | None = None, monitor: str | None = None) -> int:
    """By default on the model's first trained track, in its trained direction (alternate: forward);
    with `record`, the topics as they go over the wire into that MCAP file; with `monitor`, the car
    on the live view at that address, each lap an episode."""
    import rclpy
    from nav_msgs.msg import Odometry
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from racer_agent.monitor import open_monitor
    from racer_sim.live_view import RosLiveView

    print(private_dds(), file=sys.stderr)
    model = model_directory(run)
    tracks, trained_direction = trained_on(run)
    reverse = evaluated_reversals(direction or trained_direction)[0]
    track = track or tracks[0]
    track = str(Path(track).resolve()) if Path(track).exists() else track
    laps_of = LapCounter(load_track(track).reversed() if reverse else load_track(track))
    done: list[float] = []
    live = open_monitor(monitor, laps_of.track) if monitor else None

    def on_odom(msg: Odometry) -> None:
        p, sim_s = msg.pose.pose, msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
        yaw = 2 * np.arctan2(p.orientation.z, p.orientation.w)
        event = laps_of.update(p.position.x, p.position.y, yaw, sim_s)
        if event == OFF_TRACK:
            print(f"off track at {laps_of.progress:.0f} %", flush=True)
        elif event is not None:
            done.append(event)
            print(f"lap {len(done)}: {event:.2f} s", flush=True)
        if event is not None and live is not None:
            live.episode({"episode": len(done), "status": event if event == OFF_TRACK else "lap_complete",
                          "progress": laps_of.progress, "lap_time_s": None if event == OFF_TRACK else event})

    context = Context()
    rclpy.init(context=context)
    node = Node("racer_lap_counter", context=context, start_parameter_services=False)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    node.create_subscription(Odometry, "odom", on_odom, 10)
    if live is not None:
        RosLiveView(node, live)
    deadline = time.monotonic() + 60.0 * minutes
    try:
        with NodeProcesses() as nodes:
            recorder = Recorder(nodes, record) if record else None  # recording before the simulator starts
            nodes.start(node_command("racer_sim_node", "racer_sim", "sim.yaml",
                                     {"track": track, "lockstep": False, "real_time_factor": real_time_factor,
                                      "reverse": reverse}))
            if recorder is not None:  # and hearing the car before the driver moves it: the file has the whole lap
                recorder.wait_to_hear("odom")
            nodes.start(node_command("racer_inference_node", "racer_inference", None, {"model_dir": str(model)}))
            print(f"driving {model} on {laps_of.track.name} ({'reverse' if reverse else 'forward'}); "
                  f"{laps} lap(s)", flush=True)
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
        if live is not None:
            live.close()
    if len(done) < laps:
        print(f"{len(done)}/{laps} laps in {minutes:g} min", file=sys.stderr)
        return 1
    print(f"{laps} lap(s): best {min(done):.2f} s, mean {sum(done) / len(done):.2f} s"
          + (f"\nrecording (MCAP, ROS 2 messages): {Path(record).resolve()}" if record else ""))
    return 0
