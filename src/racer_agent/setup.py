"""ament_python package: colcon-buildable on ROS 2 Jazzy and pip-installable into a venv."""
from setuptools import find_packages, setup

PACKAGE = "racer_agent"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    package_data={"racer_agent": ["rewards/*.py", "configs/*.json"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/config", ["config/train.yaml"]),
    ],
    install_requires=["racer_sim", "numpy", "gymnasium", "torch", "PyYAML", "tqdm", "matplotlib"],
    zip_safe=True,
    maintainer="racer",
    maintainer_email="racer@example.com",
    description="Gymnasium env, reward functions, PPO, evaluation and export for racer.",
    license="Apache-2.0",
    entry_points={"console_scripts": [
        "racer = racer_agent.cli:main",
        "racer_train_node = racer_agent.train_node:main",
    ]},
)
