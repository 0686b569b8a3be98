"""racer's node executables started as processes, with the parameter files the launch files use.

The pip-install counterpart of `ros2 launch` (PyPI has no `launch` package): `racer sim` and
`racer train --sim ros` start exactly the executables and parameter files that
`launch/train.launch.py` starts, so the two ways cannot drift apart.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

from racer_agent.ros.simulator import default_namespaces
from racer_sim.resources import share_file

STOP_WAIT_S = 10.0


def executable(name: str) -> str:
    """A console script of this environment (next to its Python), else from PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"executable {name} not found: is racer installed in this environment?")
    return found


def node_command(name: str, package: str, params_file: str, overrides: dict, namespace: str = "") -> list[str]:
    cmd = [executable(name), "--ros-args", "--params-file", str(share_file(package, "config", params_file))]
    if namespace:
        cmd += ["-r", f"__ns:=/{namespace}"]
    for key, value in overrides.items():
        if value is not None and value != "":  # unset: the parameter file's value
            cmd += ["-p", f"{key}:={_ros_value(value)}"]
    return cmd


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
    """Background nodes that stop (SIGINT, then SIGKILL) when the `with` block ends."""

    def __init__(self):
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> NodeProcesses:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, cmd: list[str]) -> subprocess.Popen:
        process = subprocess.Popen(cmd)
        self.processes.append(process)
        return process

    def run(self, cmd: list[str]) -> int:
        """Run a foreground node to its end. SIGINT / SIGTERM are passed on to it and it is waited for,
        so a trainer gets to save its checkpoint."""
        process = subprocess.Popen(cmd)

        def forward(signum, _frame):
            if process.poll() is None:
                process.send_signal(signum)

        previous = signal.signal(signal.SIGTERM, forward)
        try:
            while True:
                try:
                    return process.wait()
                except KeyboardInterrupt:
                    forward(signal.SIGINT, None)
        finally:
            signal.signal(signal.SIGTERM, previous)

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
