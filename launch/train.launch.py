"""Train a PPO driving policy: the trainer node, with the simulator in its process (sim:=embedded,
as `racer train`), behind ROS 2 topics in lock-step simulator nodes, one per car (sim:=ros, as
`racer train --sim ros`), or in a paused headless Gazebo world it steps itself (sim:=gazebo, one
car; the Docker image has Gazebo); rviz optional. The launch ends when the trainer does.

ros2 launch racer_sim train.launch.py track:=circuit reward:=/path/reward.py minutes:=10 out:=runs/mine
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, RegisterEventHandler
from launch.event_handlers import OnProcessExit
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from racer_agent.training.config import load as default_config
from racer_sim.launch_support import end_with_process, flag, gazebo, rviz, share, simulator_nodes, typed

DEFAULTS = default_config()  # configs/default.json: the descriptions quote it, never a copy of its numbers

ARGUMENTS = [
    ("track", "circuit", "built-in track name or DeepRacer route file (.npy)"),
    ("reward", "", "reward function file; empty: racer's default"),
    ("config", "", "racer config or DeepRacer hyperparameters.json; empty: racer's default"),
    ("actions", "", "model_metadata.json with the action space; empty: racer's default"),
    ("minutes", "0", f"wall-clock budget; 0: the config's ({DEFAULTS.minutes:g})"),
    ("steps", "0", "sample budget; 0: none"),
    ("seed", "-1", "seed; -1: the config's"),
    ("out", "", "run directory; empty: runs/<date-time>"),
    ("cars", "0", f"cars learning at once; 0: the config's ({DEFAULTS.num_cars}) with sim:=embedded, "
                  "1 simulator node with sim:=ros, 1 Gazebo world with sim:=gazebo"),
    ("sim", "embedded", "embedded: simulator inside the trainer; ros: lock-step racer_sim_node per car; "
                        "gazebo: headless Gazebo worlds stepped in lock-step, one per car (GZ_PARTITION <prefix>_i)"),
    ("rviz", "false", "start rviz2 with racer's display config (sim:=ros shows the cars)"),
    ("use_sim_time", "false", "nodes follow /clock (the simulator node publishes it with sim:=ros)"),
]


def nodes(context, *_args, **_kwargs) -> list:
    sim = LaunchConfiguration("sim").perform(context)
    if sim not in ("embedded", "ros", "gazebo"):
        raise ValueError(f"sim:={sim} must be embedded, ros or gazebo")
    use_sim_time = flag(context, "use_sim_time")
    cars = int(LaunchConfiguration("cars").perform(context))
    simulator, world = [], ""
    if sim == "gazebo":
        simulator, world_dir = gazebo(LaunchConfiguration("track").perform(context), realtime=False,
                                      use_sim_time=use_sim_time, workers=max(cars, 1))
        world = str(world_dir / "world.sdf")
    trainer = Node(
        package="racer_agent", executable="racer_train_node", name="racer_trainer", output="screen",
        parameters=[share("racer_agent", "config", "train.yaml"), {
            "track": typed("track", str), "reward": typed("reward", str), "config": typed("config", str),
            "actions": typed("actions", str), "out": typed("out", str), "minutes": typed("minutes", float),
            "steps": typed("steps", int), "seed": typed("seed", int), "cars": cars, "sim": sim,
            "world": world, "quiet": True, "use_sim_time": use_sim_time}],
    )
    actions = [*simulator, trainer, RegisterEventHandler(OnProcessExit(target_action=trainer,
                                                                       on_exit=end_with_process))]
    if sim == "ros":
        actions += simulator_nodes(max(cars, 1), typed("track", str), use_sim_time, {"lockstep": True})
    if flag(context, "rviz"):
        actions += rviz(context, use_sim_time=sim == "ros" or use_sim_time, required=False)
    return actions


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription([DeclareLaunchArgument(name, default_value=default, description=doc)
                              for name, default, doc in ARGUMENTS] + [OpaqueFunction(function=nodes)])
