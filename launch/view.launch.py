"""rviz with racer's display config (fixed frame odom: TF, track, car, path, odometry, camera)."""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch_ros.actions import Node


def generate_launch_description():
    rviz_config = os.path.join(get_package_share_directory("racer_sim"), "rviz", "racer.rviz")
    return LaunchDescription([
        Node(package="rviz2", executable="rviz2", name="rviz", arguments=["-d", rviz_config]),
    ])
