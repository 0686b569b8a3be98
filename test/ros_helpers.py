"""Test-side ROS 2 helpers: a probe node in a context of its own, and stopping node processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node


def stop(process: subprocess.Popen, timeout: float = 30.0) -> str:
    """SIGINT, then what it printed. Its children are found first: if it must be killed, they are
    too, else they would hold its stdout open and the read would never end (seen once)."""
    children = _children(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=timeout)[0] or ""
    except subprocess.TimeoutExpired:
        for pid in [process.pid, *children]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return process.communicate(timeout=timeout)[0] or ""


def _children(pid: int) -> list[int]:
    """The processes `pid` started (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if entry.isdigit() and int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (OSError, ValueError):
            pass
    return found


def wait_until(predicate, timeout: float) -> bool:
    """Whether `predicate` came true within `timeout` s (polled; for what no executor brings)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


RESEND_S = 5.0  # an idempotent request sent again after this long unanswered (Probe.call)
SETTLE_S = 0.5  # after a service is first ready, for the server to discover this client too (Probe.call)


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

    def call(self, srv_type, name: str, request, timeout: float = 30.0, idempotent: bool = False):
        """30 s: a node from a fresh clone compiles its kernels (cold numba cache) before it answers.

        A service is "ready" once its server is discovered, which can come before the server has
        discovered this client's reply reader, and a reply sent before that is lost (seen twice in
        ~40 suite runs). So each service gets one client, used for every call, and its first call
        waits SETTLE_S after it is ready; an `idempotent` request also goes again every RESEND_S until
        one is answered. A step of the simulator or a randomised reset is never sent twice."""
        client = self._clients.get(name)
        if client is None:
            client = self._clients[name] = self.node.create_client(srv_type, name)
            assert self.spin_until(client.service_is_ready, timeout), f"{name} not available"
            self.spin_until(lambda: False, SETTLE_S)
        deadline = time.monotonic() + timeout
        futures = []
        while time.monotonic() < deadline:
            futures.append(client.call_async(request))
            wait = min(RESEND_S, deadline - time.monotonic()) if idempotent else deadline - time.monotonic()
            if self.spin_until(lambda: any(f.done() for f in futures), wait):
                return next(f for f in futures if f.done()).result()
        raise AssertionError(f"{name} did not answer {len(futures)} request(s) in {timeout} s")

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=0)
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)
