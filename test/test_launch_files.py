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
    """The shipped parameter files document every parameter with the node's own default (the train
    node has none: its parameters are the training options, defined in racer_agent.training.options)."""
    from racer_sim import sim_node

    values = yaml.safe_load((ROOT / "src/racer_sim/config/sim.yaml").read_text())["/**"]["ros__parameters"]
    assert values == {k: spec[0] for k, spec in sim_node.PARAMETERS.items()}
    assert not (ROOT / "src/racer_agent/config").exists()


def _train_launch_module():
    import importlib.util
    import sys

    import pytest

    vendor = ROOT.parent / "shared" / "vendor" / "ros2_launch_jazzy"
    if not vendor.is_dir():
        pytest.skip(f"Jazzy's launch packages not in {vendor}")
    sys.path[:0] = [str(vendor / "launch"), str(vendor / "launch_ros")]
    spec = importlib.util.spec_from_file_location("train_launch", ROOT / "launch" / "train.launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_training_option_is_a_flag_a_parameter_and_a_launch_argument():
    """One table (racer_agent.training.options) makes all three; each says the same default and help."""
    from racer_agent.ros.train_node import PARAMETERS
    from racer_agent.training.options import OPTIONS
    from racer_sim.cli import build_parser

    train = build_parser()._subparsers._group_actions[0].choices["train"]
    flags = {a.option_strings[0]: a for a in train._actions if a.option_strings}
    launch = {name: (default, doc) for name, default, doc in _train_launch_module().ARGUMENTS}
    assert set(PARAMETERS) == {o.name for o in OPTIONS}
    for o in OPTIONS:
        assert flags[o.flag].default in (None, False) and o.help in flags[o.flag].help
        assert list(flags[o.flag].choices or ()) == list(o.choices)
        assert PARAMETERS[o.name][0] == o.unset and PARAMETERS[o.name][1] == o.ros_help()
        assert (o.name in launch) == o.launch
        if o.launch:
            unset = str(o.unset).lower() if o.kind is bool else str(o.unset)  # launch spells bools in lower case
            assert launch[o.name] == (unset, o.ros_help())


def test_train_defaults_agree_everywhere_they_are_quoted():
    """configs/default.json is the one source: `racer train --help`, train.launch.py's descriptions
    and the README quote it."""
    import subprocess
    import sys

    from racer_agent.training.config import load

    cfg = load()
    help_text = " ".join(subprocess.run([sys.executable, "-m", "racer_sim.cli", "train", "--help"],
                                        capture_output=True, text=True, check=True).stdout.split())
    assert f"the config's ({cfg.num_cars}) embedded" in help_text and f"the config's ({cfg.minutes:g})" in help_text
    described = {name: doc for name, _default, doc in _train_launch_module().ARGUMENTS}
    assert f"({cfg.num_cars})" in described["cars"] and f"({cfg.minutes:g})" in described["minutes"]
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "defaults to 16" not in readme and f"{cfg.num_cars} simulated cars" in readme
