"""Where Ray runs, decided before Ray is imported (it reads its settings at import time).

A private cluster (no --ray-address) and a cluster at a loopback address stay on 127.0.0.1: Ray
would otherwise advertise, and connect back through, the machine's network address. A cluster of
several machines is joined at the address `ray start --head` printed, and Ray uses the network.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys

CONNECT_TIMEOUT_S = 5.0  # an address that does not answer within this is an error, not a hang
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class ClusterUnreachable(ConnectionError):
    """--ray-address names no Ray cluster this machine can reach."""


def host_port(address: str) -> tuple[str, int]:
    host, _, port = address.split("://", 1)[-1].rpartition(":")
    if not host or not port.isdigit():
        raise ClusterUnreachable(f"--ray-address must be HOST:PORT (e.g. 127.0.0.1:6379) or auto, got {address!r}")
    return host.strip("[]"), int(port)


def on_loopback(address: str) -> bool:
    return not address or (address != "auto" and host_port(address)[0] in LOOPBACK_HOSTS)


def prepare(address: str = "") -> None:
    """Check Ray is installed and the address answers (within CONNECT_TIMEOUT_S), and keep a local
    cluster on loopback."""
    if importlib.util.find_spec("ray") is None:
        raise RuntimeError("--workers, racer sweep and racer bench scale need Ray: "
                           "pip install 'ray[tune]==2.60.0' (scripts/setup.sh installs it)")
    if address and address != "auto":
        host, port = host_port(address)
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            raise ClusterUnreachable(
                f"no Ray cluster answers at {address} ({exc}); start one with `ray start --head --port {port}` "
                "or leave out --ray-address to run a private one here") from exc
    if on_loopback(address) and "ray" not in sys.modules:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # Ray's switch for "this machine only"
