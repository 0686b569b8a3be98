"""`racer_train_node`: the trainer, learning through lock-step simulator nodes over ROS 2.

Started by `launch/train.launch.py` and by `racer train --sim ros` beside one `racer_sim_node` per
car. Its parameters are the options of `racer train` (racer_agent.training.options; empty / zero =
the config's value); training itself is the same code as on the embedded simulator and writes the
same run directory.
"""

from __future__ import annotations

import sys

import rclpy
from rclpy.node import Node

from racer_agent.training.options import OPTIONS, from_ros, session_arguments
from racer_inference import node_support as ros_node

# One parameter per training option, with the value that means "not given" as its default.
PARAMETERS: ros_node.ParameterTable = {o.name: (o.unset, o.ros_help(), o.problem) for o in OPTIONS}


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

    values = from_ros(read_parameters(args if args is not None else sys.argv))
    try:
        return train_and_report(**session_arguments(values))
    except (ValueError, RuntimeError, OSError) as exc:
        return report_error(exc)


if __name__ == "__main__":
    sys.exit(main())
