"""Drive the simulated car with an exported model: the simulator node (real time) and the
inference node, optionally rviz.

ros2 launch racer_sim drive.launch.py model_dir:=runs/<run>/model track:=circuit rviz:=true
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    sim_share = get_package_share_directory("racer_sim")
    return LaunchDescription([
        DeclareLaunchArgument("model_dir", description="directory written by `racer export`"),
        DeclareLaunchArgument("track", default_value="circuit"),
        DeclareLaunchArgument("rviz", default_value="true"),
        Node(
            package="racer_sim", executable="racer_sim_node", name="racer_sim", output="screen",
            parameters=[os.path.join(sim_share, "config", "sim.yaml"),
                        {"track": LaunchConfiguration("track"), "real_time_factor": 1.0}],
        ),
        Node(
            package="racer_inference", executable="racer_inference_node", name="racer_inference", output="screen",
            parameters=[{"model_dir": LaunchConfiguration("model_dir")}],
        ),
        Node(
            package="rviz2", executable="rviz2", name="rviz",
            arguments=["-d", os.path.join(sim_share, "rviz", "racer.rviz")],
            condition=IfCondition(LaunchConfiguration("rviz")),
        ),
    ])
