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
