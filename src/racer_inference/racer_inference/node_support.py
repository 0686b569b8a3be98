"""What every racer node does the same way: parameters declared and checked from one table, and a
`main` that turns a bad start-up into a one-line error (exit 2) and SIGINT / SIGTERM into a clean
exit (0) that still lets the node send its last message.

Runs on the car's ROS 2 Foxy and Python 3.8 as well as on Jazzy: no syntax or typing newer than
3.8, and the rclpy calls that Foxy lacks are looked up, not assumed.
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

import rclpy
from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

try:  # Humble and later: rclpy's own handlers would shut the context down before a last message
    from rclpy.signals import SignalHandlerOptions
except ImportError:  # Foxy: its handler raises KeyboardInterrupt and leaves the context up
    SignalHandlerOptions = None
try:
    from rclpy.executors import ExternalShutdownException
except ImportError:  # Foxy
    ExternalShutdownException = RuntimeError

# A check returns what is wrong with a value, or None.
Check = Callable[[object], Optional[str]]
# name -> (default, description[, check[, dynamic]]). Only `dynamic` parameters may change while the
# node runs; the others are read-only, so rclpy refuses a change with a reason.
ParameterTable = Dict[str, tuple]
# Declared by rclpy itself on every node.
BUILT_IN = {"use_sim_time", "start_type_description_service"}


def positive(value) -> Optional[str]:
    return None if value > 0 else f"must be > 0, got {value}"


def non_negative(value) -> Optional[str]:
    return None if value >= 0 else f"must be >= 0, got {value}"


def between(low: float, high: float) -> Check:
    return lambda value: None if low <= value <= high else f"must be in [{low}, {high}], got {value}"


def one_of(*choices: str) -> Check:
    return lambda value: None if value in choices else "must be one of {}, got {!r}".format(", ".join(choices), value)


def _entry(spec: tuple) -> Tuple[object, str, Optional[Check], bool]:
    default, doc, check, dynamic = (*spec, None, False)[:4]
    return default, doc, check, dynamic


def problem(table: ParameterTable, name: str, value) -> Optional[str]:
    check = _entry(table[name])[2]
    found = check(value) if check is not None else None
    return f"parameter {name} {found}" if found else None


def declare(node: Node, table: ParameterTable) -> dict:
    """Declare every parameter; their values after overrides, kept current as dynamic ones change.

    Raises ValueError for an override the node does not have (a typo in a launch or parameter file
    would otherwise be ignored without a word) or a value its check refuses.
    """
    overrides = set(getattr(node, "_parameter_overrides", {}))
    unknown = sorted(n for n in overrides - set(table) - BUILT_IN if not n.startswith("qos_overrides."))
    if unknown:
        raise ValueError("{} has no parameter {} (it has: {})".format(node.get_name(), ", ".join(unknown),
                                                                      ", ".join(table)))
    for name, spec in table.items():
        default, doc, _check, dynamic = _entry(spec)
        node.declare_parameter(name, default, ParameterDescriptor(description=doc, read_only=not dynamic))
    values = {name: node.get_parameter(name).value for name in table}
    for name, value in values.items():
        found = problem(table, name, value)
        if found:
            raise ValueError(found)

    def check_change(params: list) -> SetParametersResult:
        for p in params:
            found = problem(table, p.name, p.value) if p.name in table else None
            if found:
                return SetParametersResult(successful=False, reason=found)
        values.update({p.name: p.value for p in params if p.name in table})
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(check_change)
    return values


def spin_main(make_node: Callable[[], Node], args: Optional[List[str]], program: str,
              start_errors: Tuple[type, ...] = (ValueError, OSError),
              on_exit: Optional[Callable[[Node], None]] = None, linger_s: float = 0.0) -> int:
    """SIGINT and SIGTERM end the spin loop while the context is still up, so `on_exit` can publish
    (a driver's stop command); then the node and context go down. `linger_s`: the loop goes on that
    long after the signal, for messages already on their way (a recorder stopped with the nodes it hears)."""
    if SignalHandlerOptions is not None:
        rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    else:
        rclpy.init(args=args)
    stopping: List[int] = []
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
            until = time.monotonic() + linger_s
            while rclpy.ok() and time.monotonic() < until:
                executor.spin_once(timeout_sec=0.05)
        except (KeyboardInterrupt, ExternalShutdownException):
            pass
        finally:
            if on_exit is not None and rclpy.ok():
                on_exit(node)
            executor.shutdown(timeout_sec=0)
            node.destroy_node()
        return 0
    finally:
        if rclpy.ok():
            rclpy.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def flush(publisher, timeout_s: float = 1.0) -> None:
    """Give a last message the time to reach its subscribers before the process ends."""
    wait = getattr(publisher, "wait_for_all_acked", None)  # not in Foxy
    if wait is not None:
        from rclpy.duration import Duration

        wait(Duration(seconds=timeout_s))
    else:
        import time

        time.sleep(min(timeout_s, 0.2))
