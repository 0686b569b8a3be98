"""What racer's launch files share: launch arguments handed to nodes with the parameter's own type,
the simulator nodes for N cars, rviz, and one-line failures instead of tracebacks.

Imported only by launch files (it needs ROS 2's `launch` and `launch_ros`, which PyPI lacks).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ament_index_python.packages import PackageNotFoundError, get_package_prefix, get_package_share_directory
from launch import LaunchContext
from launch.actions import EmitEvent, ExecuteProcess, LogInfo
from launch.events import Shutdown
from launch.events.process import ProcessExited
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

from racer_inference.messages import default_namespaces
from racer_sim.gazebo_processes import INSTALL_HINT, Process, gazebo_processes, missing_packages, world_directory


def typed(name: str, value_type: type) -> ParameterValue:
    """A launch argument as a parameter of this type. Without it launch parses the text as YAML, so
    `track:=1` would reach a string parameter as an int and `track:=on` as a bool, and the node dies."""
    return ParameterValue(LaunchConfiguration(name), value_type=value_type)


def share(package: str, *parts: str) -> str:
    return os.path.join(get_package_share_directory(package), *parts)


def simulator_nodes(cars: int, track, use_sim_time, overrides: dict) -> list[Node]:
    """One racer_sim_node per car (namespaces car_0.. when more than one); only the first publishes
    /clock. `racer train --sim ros` starts the same nodes (racer_sim.node_processes)."""
    return [
        Node(package="racer_sim", executable="racer_sim_node", name="racer_sim", namespace=ns or None,
             output="screen",
             parameters=[share("racer_sim", "config", "sim.yaml"),
                         {"track": track, "frame_prefix": ns, "publish_clock": i == 0,
                          "use_sim_time": use_sim_time, **overrides}])
        for i, ns in enumerate(default_namespaces(cars))
    ]


def rviz(context: LaunchContext, use_sim_time: bool, required: bool) -> list:
    """rviz2 with racer's display config. Where rviz2 is not installed: an error in one line when rviz
    is what was asked for (view.launch.py), else a warning and the rest runs without it."""
    try:
        get_package_prefix("rviz2")
    except PackageNotFoundError:
        message = (f"rviz2 is not installed (on ROS 2 Jazzy: apt install ros-jazzy-rviz2); "
                   f"racer's display config is {share('racer_sim', 'rviz', 'racer.rviz')}")
        if required:
            raise RuntimeError(message) from None
        return [LogInfo(msg=f"WARNING: {message}; going on without rviz")]
    config = share("racer_sim", "rviz", "racer.rviz")
    return [Node(package="rviz2", executable="rviz2", name="rviz", output="screen", arguments=["-d", config],
                 parameters=[{"use_sim_time": use_sim_time}])]


def end_with_process(event: ProcessExited, context: LaunchContext) -> list:
    """The launch ends when its main process does, and fails (status 1) when that process failed."""
    if event.returncode != 0:
        raise RuntimeError(f"{event.action.process_details['name']} exited with status {event.returncode}")
    return [EmitEvent(event=Shutdown(reason=f"{event.action.process_details['name']} finished"))]


def gazebo(track: str, realtime: bool, use_sim_time: bool, workers: int = 1) -> tuple[list, Path]:
    """sim:=gazebo's processes (gazebo_processes) as launch actions and the world directory; one clear
    line instead where Gazebo Harmonic or ros_gz is missing."""
    world_dir = world_directory(track)
    processes = gazebo_processes(world_dir, track, realtime, use_sim_time, workers)
    missing = missing_packages(_installed) + ([] if shutil.which("gz") else ["gz"])
    if missing:
        raise RuntimeError(f"sim:=gazebo needs Gazebo Harmonic and ros_gz ({', '.join(missing)} not found): "
                           f"{INSTALL_HINT}")
    return [_launch_action(p) for p in processes], world_dir


def _installed(package: str) -> bool:
    try:
        get_package_prefix(package)
        return True
    except PackageNotFoundError:
        return False


def _launch_action(process: Process):
    if process.package is None:
        return ExecuteProcess(cmd=[process.executable, *process.arguments], name=process.name, output="screen",
                              additional_env=process.env)
    return Node(package=process.package, executable=process.executable, name=process.name, output="screen",
                arguments=process.arguments, parameters=[process.parameters] if process.parameters else [],
                additional_env=process.env)


def flag(context: LaunchContext, name: str) -> bool:
    """A true/false launch argument, read as launch's own conditions read it."""
    value = LaunchConfiguration(name).perform(context).strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise ValueError(f"launch argument {name}:={value} must be true or false")
    return value in ("true", "1")
