"""Drive the simulated car with an exported model: the simulator node (sim:=embedded) or the Gazebo
world (sim:=gazebo, bridged by ros_gz_bridge) in real time, and the inference node; rviz optional.
Both simulators publish /clock, so rviz and the inference node run on sim time.

ros2 launch racer_sim drive.launch.py model_dir:=runs/<run>/model track:=circuit rviz:=true [record:=drive.mcap]
"""

from pathlib import Path

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from racer_sim.launch_support import flag, gazebo, rviz, simulator_nodes, typed

ARGUMENTS = [
    ("model_dir", None, "directory written by `racer export` (model.onnx + model_metadata.json)"),
    ("track", "circuit", "built-in track name or DeepRacer route file (.npy)"),
    ("sim", "embedded", "embedded: racer_sim_node; gazebo: the Gazebo world"),
    ("rviz", "false", "start rviz2 with racer's display config"),
    ("record", "", "MCAP file of the car's topics (racer_recorder_node); empty: no recording"),
]


def nodes(context, *_args, **_kwargs) -> list:
    sim = LaunchConfiguration("sim").perform(context)
    if sim == "embedded":
        actions = simulator_nodes(1, typed("track", str), False, {"lockstep": False, "real_time_factor": 1.0})
    elif sim == "gazebo":  # the world runs in real time; racer_twist_node turns cmd_drive into the car's Twist
        actions, _ = gazebo(LaunchConfiguration("track").perform(context), realtime=True, use_sim_time=True)
        actions.append(Node(package="racer_sim", executable="racer_twist_node", name="racer_twist", output="screen",
                            parameters=[{"use_sim_time": True}]))
    else:
        raise ValueError(f"sim:={sim} must be embedded or gazebo")
    actions.append(Node(package="racer_inference", executable="racer_inference_node", name="racer_inference",
                        output="screen",
                        parameters=[{"model_dir": typed("model_dir", str), "use_sim_time": True}]))
    record = LaunchConfiguration("record").perform(context)
    if record:  # what ros2 bag record would write, where there is no ros2 bag (rclpy from PyPI)
        actions.append(Node(package="racer_sim", executable="racer_recorder_node", name="racer_recorder",
                            output="screen", parameters=[{"path": str(Path(record).resolve()), "use_sim_time": True}]))
    if flag(context, "rviz"):
        actions += rviz(context, use_sim_time=True, required=False)
    return actions


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([
        DeclareLaunchArgument(name, description=doc) if default is None
        else DeclareLaunchArgument(name, default_value=default, description=doc)
        for name, default, doc in ARGUMENTS] + [OpaqueFunction(function=nodes)])
