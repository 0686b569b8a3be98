"""rviz with racer's display config (fixed frame map: track, TF, car, path, odometry, camera), for a
simulator already running (`racer sim`, drive.launch.py, train.launch.py sim:=ros).

ros2 launch racer_sim view.launch.py [use_sim_time:=true]
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction

from racer_sim.launch_support import flag, rviz


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([
        DeclareLaunchArgument("use_sim_time", default_value="true",
                              description="follow /clock (racer's simulator node publishes it)"),
        OpaqueFunction(function=lambda context: rviz(context, flag(context, "use_sim_time"), required=True)),
    ])
