"""On the DeepRacer (ROS 2 Foxy): racer's inference node drives the car through its stock ctrl_pkg.

ros2 launch racer_deepracer.launch.py [max_throttle:=0.5] [model_dir:=/opt/racer/model]
Written for Foxy's launch API and Python 3.8; installed with the bundle by install.sh.
"""

from __future__ import annotations

import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

HERE = os.path.dirname(os.path.abspath(__file__))


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument("model_dir", default_value=os.path.join(HERE, "..", "model"),
                              description="model.onnx + model_metadata.json"),
        DeclareLaunchArgument("max_throttle", default_value="0.5",
                              description="throttle at the action space's top speed, 0..1 (the console's slider)"),
        Node(package="racer_inference", executable="racer_inference_node", name="racer_inference", output="screen",
             parameters=[{"target": "deepracer",
                          "model_dir": ParameterValue(LaunchConfiguration("model_dir"), value_type=str),
                          "max_throttle": ParameterValue(LaunchConfiguration("max_throttle"), value_type=float)}]),
    ])
