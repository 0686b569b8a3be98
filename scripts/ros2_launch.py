"""The part of `ros2 launch` that racer's launch files need: find FILE in PKG's share directory,
pass NAME:=VALUE launch arguments, run it with launch.LaunchService and exit with its status."""

from __future__ import annotations

import sys
from pathlib import Path

from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
from launch import LaunchService
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import AnyLaunchDescriptionSource

USAGE = "usage: ros2_launch.sh PACKAGE LAUNCH_FILE [NAME:=VALUE ...]"


def launch_file(package: str, name: str) -> Path:
    """As ros2 launch: a file of that name anywhere under the package's share directory."""
    try:
        share = Path(get_package_share_directory(package))
    except PackageNotFoundError:
        raise SystemExit(f"ros2_launch: package '{package}' not found (is its install space sourced?)") from None
    found = sorted(p for p in share.rglob(name) if p.is_file())
    if not found:
        raise SystemExit(f"ros2_launch: file '{name}' was not found in the share directory of package '{package}'")
    return found[0]


def launch_arguments(args: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for arg in args:
        name, sep, value = arg.partition(":=")
        if not sep or not name:
            raise SystemExit(f"ros2_launch: malformed launch argument '{arg}', expected NAME:=VALUE\n{USAGE}")
        pairs.append((name, value))
    return pairs


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(USAGE, file=sys.stderr)
        return 2
    path = launch_file(argv[0], argv[1])
    service = LaunchService(argv=argv[2:])
    service.include_launch_description(IncludeLaunchDescription(
        AnyLaunchDescriptionSource(str(path)), launch_arguments=launch_arguments(argv[2:])))
    return service.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
