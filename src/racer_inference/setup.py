"""ament_python package: colcon-buildable on ROS 2 Jazzy and pip-installable into a venv."""
from setuptools import find_packages, setup

PACKAGE = "racer_inference"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["numpy", "onnxruntime"],
    zip_safe=True,
    maintainer="racer",
    maintainer_email="racer@example.com",
    description="ONNX inference node and car adapters for racer.",
    license="Apache-2.0",
    entry_points={"console_scripts": ["racer_inference_node = racer_inference.inference_node:main"]},
)
