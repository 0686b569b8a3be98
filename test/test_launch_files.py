"""Every launch file, read without importing `launch` (PyPI has none): each node it starts is an
installed console script of racer (or an external ROS tool), each parameter file exists and is
installed, and every parameter it sets is declared by that node."""

from __future__ import annotations

import ast
import importlib
import re
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILES = sorted((ROOT / "launch").glob("*.launch.py"))
EXTERNAL = {("rviz2", "rviz2")}  # from the ROS installation, not from racer


def _scripts() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group="console_scripts")}


def _literal(node: ast.AST, shares: dict[str, str]):
    """Evaluate the few expression shapes racer's launch files use for paths and parameter dicts."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Call) and ast.unparse(node.func) == "os.path.join":
        first, *rest = node.args
        package = shares[first.id]
        return ("share", package, *[_literal(a, shares) for a in rest])
    if isinstance(node, ast.Dict):
        return {_literal(k, shares): "<substitution>" for k in node.keys}
    return "<substitution>"


def _nodes(path: Path) -> list[dict]:
    tree = ast.parse(path.read_text())
    shares = {}  # variable -> package, from `x = get_package_share_directory("pkg")`
    for n in ast.walk(tree):
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call) and \
                ast.unparse(n.value.func) == "get_package_share_directory":
            shares[n.targets[0].id] = n.value.args[0].value
    found = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and ast.unparse(n.func) == "Node":
            kw = {k.arg: k.value for k in n.keywords}
            found.append({
                "package": _literal(kw["package"], shares), "executable": _literal(kw["executable"], shares),
                "parameters": [_literal(p, shares) for p in getattr(kw.get("parameters"), "elts", [])],
                "arguments": [_literal(a, shares) for a in getattr(kw.get("arguments"), "elts", [])],
            })
    return found


def _installed_share_file(ref: tuple) -> Path:
    """A ("share", package, *parts) path: it must exist in the package and be listed in its setup.py data_files."""
    _, package, *parts = ref
    path = ROOT / "src" / package / Path(*parts)
    assert path.is_file(), f"{path} missing"
    setup = (ROOT / "src" / package / "setup.py").read_text()
    assert re.search(rf'"share/{{PACKAGE}}/{parts[0]}"', setup), f"{parts[0]}/ not installed by {package}'s setup.py"
    return path


def test_there_are_launch_files():
    assert {p.name for p in LAUNCH_FILES} >= {"train.launch.py", "drive.launch.py", "view.launch.py"}
    assert (ROOT / "src" / "racer_sim" / "launch").resolve() == ROOT / "launch"  # installed via this link


@pytest.mark.parametrize("launch_file", LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_nodes_scripts_and_parameters(launch_file):
    scripts = _scripts()
    nodes = _nodes(launch_file)
    assert nodes, f"{launch_file.name} starts no node"
    for node in nodes:
        if (node["package"], node["executable"]) in EXTERNAL:
            for arg in node["arguments"]:
                if isinstance(arg, tuple):
                    _installed_share_file(arg)
            continue
        exe = node["executable"]
        assert exe in scripts, f"{launch_file.name}: {exe} is not an installed console script"
        module = importlib.import_module(scripts[exe].split(":")[0])
        assert module.__name__.startswith(node["package"] + "."), f"{exe} does not belong to {node['package']}"
        declared = set(module.PARAMETERS)
        for params in node["parameters"]:
            if isinstance(params, tuple):
                data = yaml.safe_load(_installed_share_file(params).read_text())
                names = set(data["/**"]["ros__parameters"])
            else:
                names = set(params)
            assert names <= declared, f"{launch_file.name}: {exe} does not declare {sorted(names - declared)}"


def test_parameter_files_match_node_defaults():
    """The shipped parameter files document every parameter with the node's own default."""
    from racer_agent.ros import train_node
    from racer_sim import sim_node

    for module, path in [(sim_node, ROOT / "src/racer_sim/config/sim.yaml"),
                         (train_node, ROOT / "src/racer_agent/config/train.yaml")]:
        values = yaml.safe_load(path.read_text())["/**"]["ros__parameters"]
        assert values == {k: default for k, (default, _doc) in module.PARAMETERS.items()}
