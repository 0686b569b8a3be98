"""ament_python package: colcon-buildable on ROS 2 Jazzy and pip-installable into a venv."""
import os
from glob import glob

from setuptools import find_packages, setup

PACKAGE = "racer_sim"


def tree(folder: str) -> list:
    """data_files entries for every directory under `folder` (data_files does not recurse)."""
    return [(f"share/{PACKAGE}/{root}", [os.path.join(root, name) for name in sorted(files)])
            for root, _dirs, files in sorted(os.walk(folder)) if files]


setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/config", glob("config/*.yaml")),
        # launch/ and rviz/ are links to the repository's top-level folders of the same names
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/rviz", glob("rviz/*.rviz")),
        # worlds/ is a link to the repository's worlds/: one Gazebo world per built-in track
        *tree("worlds"),
    ],
    install_requires=["racer_core", "racer_agent", "racer_inference", "numpy", "opencv-python-headless", "tqdm",
                      "mcap", "PyYAML"],
    zip_safe=True,
    maintainer="racer",
    maintainer_email="racer@example.com",
    description="The simulator node, launch files, rviz config and the racer command: the top of the stack.",
    license="Apache-2.0",
    entry_points={"console_scripts": [
        "racer = racer_sim.cli:main",
        "racer_sim_node = racer_sim.sim_node:main",
        "racer_twist_node = racer_sim.twist_node:main",
        "racer_recorder_node = racer_sim.recorder_node:main",
    ]},
)
