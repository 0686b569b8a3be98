"""Train through ROS 2: a lock-step simulator node and the trainer node, optionally rviz.

ros2 launch racer_sim train.launch.py track:=circuit reward:=/path/reward.py rviz:=true
The pip-install equivalent is `racer train --sim ros` (same executables, same parameter files).
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, LogInfo, Shutdown
from launch.conditions import IfCondition, LaunchConfigurationEquals
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    sim_share = get_package_share_directory("racer_sim")
    agent_share = get_package_share_directory("racer_agent")
    track = LaunchConfiguration("track")
    return LaunchDescription([
        DeclareLaunchArgument("track", default_value="circuit", description="track name or route file"),
        DeclareLaunchArgument("reward", default_value="", description="reward function file (empty: default)"),
        DeclareLaunchArgument("config", default_value="", description="training config (empty: default)"),
        DeclareLaunchArgument("sim", default_value="embedded", choices=["embedded", "gazebo"]),
        DeclareLaunchArgument("rviz", default_value="false"),
        Node(
            package="racer_sim", executable="racer_sim_node", name="racer_sim", output="screen",
            parameters=[os.path.join(sim_share, "config", "sim.yaml"), {"track": track, "lockstep": True}],
            condition=LaunchConfigurationEquals("sim", "embedded"),
        ),
        LogInfo(msg="sim:=gazebo needs racer's Gazebo world (not built yet); use sim:=embedded",
                condition=LaunchConfigurationEquals("sim", "gazebo")),
        Shutdown(condition=LaunchConfigurationEquals("sim", "gazebo")),
        Node(
            package="racer_agent", executable="racer_train_node", name="racer_trainer", output="screen",
            parameters=[os.path.join(agent_share, "config", "train.yaml"),
                        {"track": track, "reward": LaunchConfiguration("reward"),
                         "config": LaunchConfiguration("config")}],
        ),
        Node(
            package="rviz2", executable="rviz2", name="rviz",
            arguments=["-d", os.path.join(sim_share, "rviz", "racer.rviz")],
            condition=IfCondition(LaunchConfiguration("rviz")),
        ),
    ])
