"""Train a PPO driving policy: the trainer node, with the simulator in its process (sim:=embedded,
as `racer train`), behind ROS 2 topics in lock-step simulator nodes, one per car (sim:=ros, as
`racer train --sim ros`), or in a paused headless Gazebo world it steps itself (sim:=gazebo, one
car; the Docker image has Gazebo); rviz optional. The launch ends when the trainer does.

ros2 launch racer_sim train.launch.py track:=circuit reward:=/path/reward.py minutes:=10 out:=runs/mine

Its trainer arguments are `racer train`'s options (`ros2 launch racer_sim train.launch.py --show-args`).
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, RegisterEventHandler
from launch.event_handlers import OnProcessExit
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from racer_agent.training.config import load as default_config
from racer_agent.training.options import OPTIONS
from racer_sim.launch_support import end_with_process, flag, gazebo, rviz, simulator_nodes, typed

# One argument per training option the launch file does not decide itself (racer_agent.training.options),
# with the value that means "the config's" as its default.
TRAINER = [o for o in OPTIONS if o.launch]
DEFAULT_TRACK = default_config().tracks[0]  # the simulator nodes' and Gazebo world's when track:= is not given
ARGUMENTS = [(o.name, str(o.unset).lower() if o.kind is bool else str(o.unset), o.ros_help()) for o in TRAINER] + [
    ("rviz", "false", "start rviz2 with racer's display config (sim:=ros shows the cars)"),
    ("use_sim_time", "false", "nodes follow /clock (the simulator node publishes it with sim:=ros)"),
]


def nodes(context, *_args, **_kwargs) -> list:
    sim = LaunchConfiguration("sim").perform(context) or "embedded"
    use_sim_time = flag(context, "use_sim_time")
    cars = int(LaunchConfiguration("cars").perform(context))
    track = LaunchConfiguration("track").perform(context)
    simulator, world = [], ""
    if sim == "gazebo":
        simulator, world_dir = gazebo(track or DEFAULT_TRACK, realtime=False, use_sim_time=use_sim_time,
                                      workers=max(cars, 1))
        world = str(world_dir / "world.sdf")
    parameters = {o.name: typed(o.name, o.kind) for o in TRAINER}  # the node checks each value itself
    trainer = Node(
        package="racer_agent", executable="racer_train_node", name="racer_trainer", output="screen",
        parameters=[{**parameters, "world": world, "quiet": True, "use_sim_time": use_sim_time}],
    )
    actions = [*simulator, trainer, RegisterEventHandler(OnProcessExit(target_action=trainer,
                                                                       on_exit=end_with_process))]
    if sim == "ros":
        actions += simulator_nodes(max(cars, 1), track or DEFAULT_TRACK, use_sim_time, {"lockstep": True})
    if flag(context, "rviz"):
        actions += rviz(context, use_sim_time=sim == "ros" or use_sim_time, required=False)
    return actions


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([DeclareLaunchArgument(name, default_value=default, description=doc)
                              for name, default, doc in ARGUMENTS] + [OpaqueFunction(function=nodes)])
