"""Launch files and parameter files as shipped. Launching them for real is test_workspace.py; that a
launch file sets no parameter a node lacks is enforced by the nodes (ros.node.declare refuses it)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILES = sorted((ROOT / "launch").glob("*.launch.py"))


def test_there_are_launch_files():
    assert {p.name for p in LAUNCH_FILES} >= {"train.launch.py", "drive.launch.py", "view.launch.py"}
    assert (ROOT / "src" / "racer_sim" / "launch").resolve() == ROOT / "launch"  # installed via this link


def test_parameter_files_match_node_defaults():
    """The shipped parameter files document every parameter with the node's own default."""
    from racer_agent.ros import train_node
    from racer_sim import sim_node

    for module, path in [(sim_node, ROOT / "src/racer_sim/config/sim.yaml"),
                         (train_node, ROOT / "src/racer_agent/config/train.yaml")]:
        values = yaml.safe_load(path.read_text())["/**"]["ros__parameters"]
        assert values == {k: spec[0] for k, spec in module.PARAMETERS.items()}


def test_train_defaults_agree_everywhere_they_are_quoted():
    """configs/default.json is the one source: `racer train --help`, train.launch.py's descriptions
    and the README quote it."""
    import importlib.util
    import subprocess
    import sys

    import pytest

    from racer_agent.training.config import load

    cfg = load()
    help_text = " ".join(subprocess.run([sys.executable, "-m", "racer_sim.cli", "train", "--help"],
                                        capture_output=True, text=True, check=True).stdout.split())
    assert f"default {cfg.num_cars} embedded" in help_text
    vendor = ROOT.parent / "shared" / "vendor" / "ros2_launch_jazzy"
    if not vendor.is_dir():
        pytest.skip(f"Jazzy's launch packages not in {vendor}")
    sys.path[:0] = [str(vendor / "launch"), str(vendor / "launch_ros")]
    spec = importlib.util.spec_from_file_location("train_launch", ROOT / "launch" / "train.launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    described = {name: doc for name, _default, doc in module.ARGUMENTS}
    assert f"({cfg.num_cars})" in described["cars"] and f"({cfg.minutes:g})" in described["minutes"]
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "defaults to 16" not in readme and f"{cfg.num_cars} simulated cars" in readme
