"""Every package.xml declares what its package imports (as a clean `rosdep install` needs), and the
pure core imports nothing of ROS."""

from __future__ import annotations

import ast
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON_PACKAGES = ["racer_core", "racer_agent", "racer_inference", "racer_sim"]
# import name -> rosdep key (Ubuntu-packaged ones by their apt keys, pip-only ones by -pip keys)
ROSDEP_KEYS = {
    "numpy": "python3-numpy", "numba": "python3-numba", "cv2": "python3-opencv", "matplotlib": "python3-matplotlib",
    "yaml": "python3-yaml", "tqdm": "python3-tqdm", "torch": "python3-torch-pip", "gymnasium": "python3-gymnasium-pip",
    "onnx": "python3-onnx-pip", "onnxruntime": "python3-onnxruntime-pip", "tensorboard": "python3-tensorboard-pip",
    "casadi": "python3-casadi-pip", "pandas": "python3-pandas", "deepracer": "python3-deepracer-utils-pip",
    "foxglove": "python3-foxglove-sdk-pip", "mcap": "python3-mcap-pip",
}
# Imported only by an optional command, inside the function that needs it, with a clear error without it.
OPTIONAL = {"stable_baselines3": "racer bench learn's peer",
            "deepracer_interfaces_pkg": "the car's own interface package, for racer_inference's deepracer target",
            "ray": "Ray (rollout workers, sweeps, bench scale): training/distributed.py and sweep.py are "
                   "imported only by those commands, after ray_cluster.prepare's clear error without Ray",
            "gz": "Gazebo's Python bindings (sim gazebo), from ros-jazzy-ros-gz: racer_sim depends on ros_gz_sim",
            "tensorflow": "the deepracer-export extra (racer export --format deepracer): deepracer_export.py imports "
                          "it in the function that builds the graph, saying how to get it when it is missing"}
ROS_PACKAGES = {"rclpy", "rcl_interfaces", "builtin_interfaces", "std_msgs", "sensor_msgs", "geometry_msgs",
                "nav_msgs", "visualization_msgs", "tf2_msgs", "ackermann_msgs", "rosgraph_msgs", "racer_interfaces",
                "ament_index_python", "launch", "launch_ros", *PYTHON_PACKAGES}


def imports(package: str) -> set[str]:
    found = set()
    for path in (ROOT / "src" / package / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {package}


def declared(package: str) -> set[str]:
    tree = ET.parse(ROOT / "src" / package / "package.xml")
    return {e.text for e in tree.getroot() if e.tag in ("depend", "exec_depend")}


@pytest.mark.parametrize("package", PYTHON_PACKAGES)
def test_package_xml_declares_every_import(package):
    used = imports(package) - set(OPTIONAL)
    unknown = used - set(ROSDEP_KEYS) - ROS_PACKAGES
    assert not unknown, f"{package} imports {unknown}: give them a rosdep key here and in package.xml"
    needed = {ROSDEP_KEYS.get(name, name) for name in used}
    if package != "racer_sim":  # the launch files' packages are racer_sim's; its code imports launch lazily
        needed -= {"launch", "launch_ros"}
    missing = needed - declared(package)
    assert not missing, f"{package}/package.xml misses {sorted(missing)}"


def test_the_core_imports_no_ros():
    assert imports("racer_core") & ROS_PACKAGES == set()
