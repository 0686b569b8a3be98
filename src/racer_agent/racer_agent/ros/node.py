"""What every racer node does the same way: parameters declared from one table, and a `main` that
turns a bad start-up into a one-line error (exit 2) and Ctrl-C into a clean exit (0)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import rclpy
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

# name -> (default, description): the node declares them, its config/*.yaml documents them.
ParameterTable = dict[str, tuple[object, str]]


def declare(node: Node, table: ParameterTable) -> dict:
    """Declare every parameter with its default and description; their values after overrides."""
    for name, (default, doc) in table.items():
        node.declare_parameter(name, default, ParameterDescriptor(description=doc))
    return {name: node.get_parameter(name).value for name in table}


def spin_main(make_node: Callable[[], Node], args: list[str] | None, program: str,
              start_errors: tuple[type[BaseException], ...] = (ValueError, OSError),
              on_exit: Callable[[Node], None] | None = None) -> int:
    rclpy.init(args=args)
    try:
        node = make_node()
    except start_errors as err:
        print(f"{program}: {err}", file=sys.stderr)
        rclpy.try_shutdown()
        return 2
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if on_exit is not None and rclpy.ok():
            on_exit(node)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0
