"""Test-side ROS 2 helpers: a probe node in a context of its own, and stopping node processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time

import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

from racer_agent.browser import descendants
from racer_agent.ros.simulator import DISCOVERY_SETTLE_S


def stop(process: subprocess.Popen, timeout: float = 30.0) -> str:
    """SIGINT, then what it printed. Its descendants are found first: if it must be killed, they are
    too, else they would hold its stdout open and the read would never end (seen once)."""
    started = descendants(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=timeout)[0] or ""
    except subprocess.TimeoutExpired:
        for pid in [process.pid, *started]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return process.communicate(timeout=timeout)[0] or ""


def collect_lines(stream) -> list[str]:
    """A list that fills with `stream`'s lines as they come, read by a thread until the stream ends or
    is closed (`stop`)."""
    lines: list[str] = []

    def read() -> None:
        with contextlib.suppress(ValueError, OSError):
            for line in stream:
                lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def wait_until(predicate, timeout: float) -> bool:
    """Whether `predicate` came true within `timeout` s (polled; for what no executor brings)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class Probe:
    """A test-side node in its own context: records every message it is subscribed to."""

    def __init__(self, domain_id: int | None = None):
        self.context = Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = Node("probe", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.got: dict[str, list] = {}
        self._clients: dict[str, object] = {}  # one per service (Probe.call)

    def listen(self, msg_type, topic: str, qos=10) -> None:
        self.got[topic] = []
        self.node.create_subscription(msg_type, topic, self.got[topic].append, qos)

    def spin_until(self, predicate, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                return False
            self.executor.spin_once(timeout_sec=0.05)
        return True

    def call(self, srv_type, name: str, request, timeout: float = 30.0):
        """30 s: a node from a fresh clone compiles its kernels (cold numba cache) before it answers.
        One client per service, its first call DISCOVERY_SETTLE_S after the service is ready, as the
        bridge does (racer_agent.ros.simulator: a reply sent before the server knows the client is lost)."""
        client = self._clients.get(name)
        if client is None:
            client = self._clients[name] = self.node.create_client(srv_type, name)
            assert self.spin_until(client.service_is_ready, timeout), f"{name} not available"
            self.spin_until(lambda: False, DISCOVERY_SETTLE_S)
        future = client.call_async(request)
        assert self.spin_until(future.done, timeout), f"{name} did not answer"
        return future.result()

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=0)
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)
