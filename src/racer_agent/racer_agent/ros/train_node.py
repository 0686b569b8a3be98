"""`racer_train_node`: the trainer, learning through lock-step simulator nodes over ROS 2.

Started by `launch/train.launch.py` and by `racer train --sim ros` beside one `racer_sim_node` per
car. Its parameters are the options of `racer train` (empty / zero = the config's value); training
itself is the same code as on the embedded simulator and writes the same run directory.
"""

from __future__ import annotations

import sys

import rclpy
from rclpy.node import Node

from racer_inference import node_support as ros_node

PARAMETERS: ros_node.ParameterTable = {
    "config": ("", "racer config or DeepRacer hyperparameters.json; empty = racer's default"),
    "track": ("", "track name or route file; empty = the config's (must match the simulator nodes')"),
    "reward": ("", "reward function file; empty = racer's default"),
    "actions": ("", "model_metadata.json with the action space; empty = racer's default"),
    "out": ("", "run directory; empty = runs/<date-time>"),
    "resume": ("", "run directory to continue from its latest checkpoint"),
    "minutes": (0.0, "wall-clock budget; 0 = the config's", ros_node.non_negative),
    "steps": (0, "sample budget; 0 = none", ros_node.non_negative),
    "seed": (-1, "seed; -1 = the config's"),
    "sim": ("embedded", "embedded: simulator inside this process; ros: lock-step racer_sim_node(s); "
                        "gazebo: a paused Gazebo world over gz-transport",
            ros_node.one_of("embedded", "ros", "gazebo")),
    "world": ("", "sim gazebo: the world.sdf the Gazebo server runs"),
    "cars": (0, "cars learning at once; 0 = the config's (embedded) or 1 simulator node (ros); "
                "with ros one node per car, namespaces car_0.. when more than one", ros_node.non_negative),
    "timeout_s": (5.0, "a simulator silent this long stops training (checkpoint kept)", ros_node.positive),
    "workers": (0, "Ray actors stepping the cars (each drives its own cars' simulator nodes); 0 = this process",
                ros_node.non_negative),
    "ray_address": ("", "with workers: the Ray cluster to join (HOST:PORT or auto); empty = a private one"),
    "quiet": (False, "no progress bar"),
}


def read_parameters(args: list[str] | None) -> dict:
    rclpy.init(args=args)
    try:
        node = Node("racer_trainer")
        values = ros_node.declare(node, PARAMETERS)
        node.destroy_node()
    finally:
        rclpy.try_shutdown()
    return values


def main(args: list[str] | None = None) -> int:
    from racer_agent.training.session import report_error, train_and_report

    p = read_parameters(args if args is not None else sys.argv)
    overrides = dict(track=p["track"] or None, reward=p["reward"] or None, actions=p["actions"] or None,
                     minutes=p["minutes"] or None, steps=p["steps"] or None,
                     seed=p["seed"] if p["seed"] >= 0 else None, sim=p["sim"],
                     num_cars=p["cars"] or (1 if p["sim"] in ("ros", "gazebo") else None),
                     sim_timeout_s=p["timeout_s"], gazebo_world=p["world"], workers=p["workers"],
                     ray_address=p["ray_address"])
    try:
        return train_and_report(p["config"] or None, overrides, p["out"] or None, p["resume"] or None, p["quiet"])
    except (ValueError, RuntimeError, OSError) as exc:
        return report_error(exc)


if __name__ == "__main__":
    sys.exit(main())
