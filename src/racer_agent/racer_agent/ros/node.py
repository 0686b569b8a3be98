"""What every racer node does the same way: parameters declared and validated from one table, and a
`main` that turns a bad start-up into a one-line error (exit 2) and SIGINT / SIGTERM into a clean
exit (0) that still lets the node send its last message."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

import rclpy
from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.signals import SignalHandlerOptions

# A check returns what is wrong with a value, or None.
Check = Callable[[object], "str | None"]
# name -> (default, description[, check[, dynamic]]). The node declares them, its config/*.yaml
# documents them. Only `dynamic` parameters may change while the node runs; the rest are read-only.
ParameterTable = dict[str, tuple]
# Declared by rclpy itself on every node.
BUILT_IN = {"use_sim_time", "start_type_description_service"}


def positive(value) -> str | None:
    return None if value > 0 else f"must be > 0, got {value}"


def non_negative(value) -> str | None:
    return None if value >= 0 else f"must be >= 0, got {value}"


def between(low: float, high: float) -> Check:
    return lambda value: None if low <= value <= high else f"must be in [{low}, {high}], got {value}"


def one_of(*choices: str) -> Check:
    return lambda value: None if value in choices else f"must be one of {', '.join(choices)}, got {value!r}"


def _entry(spec: tuple) -> tuple[object, str, Check | None, bool]:
    default, doc, check, dynamic = (*spec, None, False)[:4]
    return default, doc, check, dynamic


def problem(table: ParameterTable, name: str, value) -> str | None:
    check = _entry(table[name])[2]
    found = check(value) if check is not None else None
    return f"parameter {name} {found}" if found else None


def declare(node: Node, table: ParameterTable) -> dict:
    """Declare every parameter; their values after overrides, kept current as dynamic ones change.

    Raises ValueError for an override the node does not have (a typo in a launch or parameter file
    would otherwise be ignored without a word) or a value its check refuses.
    """
    unknown = sorted(set(node._parameter_overrides) - set(table) - BUILT_IN
                     - {n for n in node._parameter_overrides if n.startswith("qos_overrides.")})
    if unknown:
        raise ValueError(f"{node.get_name()} has no parameter {', '.join(unknown)} (it has: {', '.join(table)})")
    for name, spec in table.items():
        default, doc, _check, dynamic = _entry(spec)
        node.declare_parameter(name, default, ParameterDescriptor(description=doc, read_only=not dynamic))
    values = {name: node.get_parameter(name).value for name in table}
    for name, value in values.items():
        if found := problem(table, name, value):
            raise ValueError(found)

    def check_change(params: list[Parameter]) -> SetParametersResult:
        for p in params:
            if p.name in table and (found := problem(table, p.name, p.value)):
                return SetParametersResult(successful=False, reason=found)
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(check_change)
    node.add_post_set_parameters_callback(
        lambda params: values.update({p.name: p.value for p in params if p.name in table}))
    return values


def spin_main(make_node: Callable[[], Node], args: list[str] | None, program: str,
              start_errors: tuple[type[BaseException], ...] = (ValueError, OSError),
              on_exit: Callable[[Node], None] | None = None) -> int:
    """rclpy's own signal handlers are left out: they shut the context down at once, before `on_exit`
    could publish (a driver's stop command). Here SIGINT and SIGTERM end the spin loop instead, and
    the context stays up until `on_exit` has run."""
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    stopping: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: stopping.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            node = make_node()
        except start_errors as err:
            print(f"{program}: {err}", file=sys.stderr)
            return 2
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        try:
            while not stopping and rclpy.ok():
                executor.spin_once(timeout_sec=0.1)  # signal handlers run between waits
        except ExternalShutdownException:
            pass
        finally:
            if on_exit is not None and rclpy.ok():
                on_exit(node)
            executor.shutdown(timeout_sec=0)
            node.destroy_node()
        return 0
    finally:
        rclpy.try_shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
