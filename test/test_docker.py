"""docker/: the image's files exist, it lints clean (hadolint, pinned in requirements.lock), its pins
follow the lock, and compose keeps its trainings apart. Building and running it needs Docker and
the network, which CI lacks: the README says so."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT

DOCKER = ROOT / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
# Differences from requirements.lock, each with its reason in docker/requirements.txt
DOCKER_ONLY = {"numpy": "1.26.4", "opencv-python-headless": "4.10.0.84"}


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            found[name.strip().lower()] = version.strip()
    return found


def test_hadolint_passes():
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run([str(hadolint), str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_everything_the_image_copies_or_runs_exists():
    text = DOCKERFILE.read_text()
    copies = re.findall(r"^COPY\s+(?!--from)(\S+)\s+\S+", text, re.MULTILINE)
    assert copies, "no COPY found"
    for source in copies:
        assert (ROOT / source).exists(), f"COPY {source}: missing"
    assert (ROOT / "src" / "racer_sim" / "launch" / "train.launch.py").is_file()  # CMD's launch file
    entrypoint = DOCKER / "entrypoint.sh"
    assert shutil.which("shellcheck"), "shellcheck missing: scripts/setup.sh installs it"
    assert subprocess.run(["shellcheck", str(entrypoint)]).returncode == 0


def test_image_pins_follow_the_lock():
    lock, image = pins(ROOT / "requirements.lock"), pins(DOCKER / "requirements.txt")
    for name, version in image.items():
        assert version == DOCKER_ONLY.get(name, lock[name]), name
    torch = re.search(r"ARG TORCH_VERSION=(\S+)", DOCKERFILE.read_text()).group(1)
    assert torch == lock["torch"]


def test_compose_trainings_are_kept_apart():
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    partitions = [s["environment"]["GZ_PARTITION"] for s in services.values()]
    domains = [s["environment"]["ROS_DOMAIN_ID"] for s in services.values()]
    assert len(set(partitions)) == len(partitions) == len(set(domains)) == len(services)
    for service in services.values():
        assert service["build"]["dockerfile"] == "docker/Dockerfile"
        assert (DOCKER / service["build"]["context"] / "docker" / "Dockerfile").is_file()
        assert "train.launch.py sim:=gazebo cars:=" in service["command"]
