"""ament_python package: colcon-buildable on ROS 2 Jazzy and pip-installable into a venv."""
from setuptools import find_packages, setup

PACKAGE = "racer_agent"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    package_data={"racer_agent": ["env/rewards/*.py", "training/configs/*.json"]},
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    install_requires=["racer_core", "racer_inference", "numpy", "gymnasium", "torch", "PyYAML", "tqdm", "matplotlib",
                      "onnx", "onnxruntime", "opencv-python-headless", "tensorboard", "pandas", "deepracer-utils",
                      "foxglove-sdk"],
    extras_require={"ray": ["ray[tune]"],  # racer train --workers, racer sweep, racer bench scale
                    "deepracer-export": ["tensorflow-cpu"]},  # racer export --format deepracer
    zip_safe=True,
    maintainer="racer",
    maintainer_email="racer@example.com",
    description="Gymnasium env, reward functions, PPO, evaluation and export for racer.",
    license="Apache-2.0",
    entry_points={"console_scripts": [
                "racer_train_node = racer_agent.ros.train_node:main",
    ]},
)
