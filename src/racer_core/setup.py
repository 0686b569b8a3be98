"""ament_python package: colcon-buildable on ROS 2 Jazzy and pip-installable into a venv."""
from setuptools import find_packages, setup

PACKAGE = "racer_core"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["numpy", "numba", "opencv-python-headless", "matplotlib", "casadi"],
    zip_safe=True,
    maintainer="racer",
    maintainer_email="racer@example.com",
    description="Tracks, car, camera and the embedded simulator: racer's pure core (no ROS).",
    license="Apache-2.0",
)
