"""racer's node executables started as processes, with the parameter files the launch files use.

The pip-install counterpart of `ros2 launch` (PyPI has no `launch` package): `racer sim` and
`racer train --sim ros` start exactly the executables and parameter files that
`launch/train.launch.py` starts, so the two ways cannot drift apart.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from racer_inference.messages import default_namespaces
from racer_sim.resources import share_file

STOP_WAIT_S = 10.0
RECORDER_START_S = 30.0  # a recorder not recording (or not hearing the simulator) by then has failed


def private_dds() -> str:
    """Keep what racer starts on its own to this machine and a domain of its own, unless the user
    chose: ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and a ROS_DOMAIN_ID from this process's id, set
    before any rclpy starts here or in a child. Returns a line saying which."""
    chosen = [k for k in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE") if os.environ.get(k)]
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    os.environ.setdefault("ROS_DOMAIN_ID", str(os.getpid() % 90 + 10))
    domain, scope = os.environ["ROS_DOMAIN_ID"], os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"]
    how = "as set" if chosen else "private by default; set ROS_DOMAIN_ID / ROS_AUTOMATIC_DISCOVERY_RANGE to share"
    return f"racer: ROS 2 on ROS_DOMAIN_ID={domain}, discovery {scope} ({how})"


def executable(name: str, package: str) -> str:
    """The package's executable: lib/<package>/ of a colcon install space (ament index), else a
    console script next to this Python (a venv), else from PATH."""
    candidates = []
    try:
        from ament_index_python.packages import get_package_prefix

        candidates.append(Path(get_package_prefix(package)) / "lib" / package / name)
    except (ImportError, LookupError, ValueError, OSError):  # no ament index here, or not in it
        pass
    candidates.append(Path(sys.executable).parent / name)
    local = next((c for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)
    found = str(local) if local else shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"executable {name} not found: is racer installed in this environment?")
    return found


def node_command(name: str, package: str, params_file: str | None, overrides: dict, namespace: str = "") -> list[str]:
    cmd = [executable(name, package), "--ros-args"]
    if params_file:
        cmd += ["--params-file", str(share_file(package, "config", params_file))]
    if namespace:
        cmd += ["-r", f"__ns:=/{namespace}"]
    for key, value in overrides.items():
        if value is not None and value != "":  # unset: the parameter file's value
            cmd += ["-p", f"{key}:={_ros_value(value)}"]
    return cmd


def recorder_command(path: str | Path, namespace: str = "") -> list[str]:
    """racer_recorder_node writing the car's topics (under `namespace`) to the MCAP file `path`."""
    return node_command("racer_recorder_node", "racer_sim", None, {"path": str(Path(path).resolve())}, namespace)


class Recorder:
    """The recorder node, its log passed on to this process's stderr and watched: a command waits for
    it to be recording before it starts the nodes it hears, and for it to hear a topic before the car
    moves. Started side by side on a busy machine, a recorder missed the first seconds: subscribing
    first is not enough, as its match with each publisher can come seconds after another's."""

    def __init__(self, nodes: NodeProcesses, path: str | Path, namespace: str = ""):
        from racer_sim.recorder_node import RECORDING

        env = {**os.environ, "RCUTILS_LOGGING_BUFFERED_STREAM": "0"}  # each line as it is logged
        self.process = nodes.start(recorder_command(path, namespace), stderr=subprocess.PIPE, text=True, env=env)
        self.namespace = namespace.strip("/")
        self._log: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._relay, daemon=True, name="racer-recorder-log").start()
        self._wait(RECORDING.split("{")[0], "start recording")

    def wait_to_hear(self, topic: str, timeout_s: float = RECORDER_START_S) -> None:
        """Until the recorder has had a message on `topic` (relative to its namespace)."""
        from racer_sim.recorder_node import HEARD

        name = topic if topic.startswith("/") else "/" + "/".join(filter(None, (self.namespace, topic)))
        self._wait(HEARD.format(topic=name), f"hear {name}", timeout_s)

    def _relay(self) -> None:
        for line in self.process.stderr:
            sys.stderr.write(line)
            with self._changed:
                self._log.append(line)
                self._changed.notify_all()

    def _wait(self, text: str, what: str, timeout_s: float = RECORDER_START_S) -> None:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not any(text in line for line in self._log):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the recorder did not {what} within {timeout_s:g} s")
                self._changed.wait(0.1)


def start_lockstep_simulators(nodes: NodeProcesses, track: str | None, cars: int) -> None:
    """One lock-step racer_sim_node per car, as train.launch.py starts them; only the first one
    publishes /clock."""
    for i, ns in enumerate(default_namespaces(cars)):
        nodes.start(node_command("racer_sim_node", "racer_sim", "sim.yaml",
                                 {"lockstep": True, "track": track, "frame_prefix": ns, "publish_clock": i == 0}, ns))


def _ros_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class NodeProcesses:
    """Background nodes that stop (SIGINT, then SIGKILL) when the `with` block ends.

    Every node runs in a process group of its own, so the terminal's Ctrl-C reaches only this process:
    it passes the signal to the foreground node (a trainer saves its checkpoint and exits 0) and
    stops the background ones after it, instead of the simulators dying first under a trainer that
    would then report them gone."""

    def __init__(self):
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> NodeProcesses:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, cmd: list[str], **popen) -> subprocess.Popen:
        process = subprocess.Popen(cmd, start_new_session=True, **popen)
        self.processes.append(process)
        return process

    def run(self, cmd: list[str], tick: Callable[[], None] | None = None) -> int:
        """Run a foreground node to its end. SIGINT / SIGTERM are passed on to it and it is waited for,
        so a trainer gets to save its checkpoint. `tick`, if given, is called while waiting (a
        listener's spin, which must return within a fraction of a second)."""
        process: subprocess.Popen | None = None
        pending: list[int] = []  # a signal that came before the node started, passed on once it has

        def forward(signum, _frame):
            if process is None:
                pending.append(signum)
            elif process.poll() is None:
                process.send_signal(signum)

        # caught from before the node starts, and the node is one of this block's: a signal at any
        # moment stops it (a Ctrl-C during the start once left it running, orphaned)
        previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            process = self.start(cmd)
            if pending:
                process.send_signal(pending[0])
            while tick is not None and process.poll() is None:
                tick()
            return process.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def stop(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in self.processes:
            try:
                p.wait(timeout=STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
