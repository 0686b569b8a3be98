"""Test-wide settings: DDS stays on this machine, each run on its own domain; shared reference data."""

import os
from pathlib import Path

import pytest

# Before anything can start rclpy: discovery on loopback only, and a domain of this run's own.
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("ROS_DOMAIN_ID", str(os.getpid() % 90 + 10))
# Ray (test_distributed, test_sweep) likewise: its clusters listen and connect on 127.0.0.1 only.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

ROOT = Path(__file__).resolve().parents[1]
SHARED_TRACKS = ROOT.parent / "shared" / "deepracer_tracks"


@pytest.fixture(scope="session")
def route_files() -> list[Path]:
    files = sorted(SHARED_TRACKS.glob("*.npy"))
    if not files:
        pytest.skip(f"DeepRacer route files not found in {SHARED_TRACKS}")
    return files


@pytest.fixture(scope="session")
def reinvent_base() -> Path:
    path = SHARED_TRACKS / "reinvent_base.npy"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path
