#!/usr/bin/env bash
# `ros2 launch PKG FILE [NAME:=VALUE ...]` for machines without a ROS 2 install: the same
# launch.LaunchService run, over Jazzy's own launch and launch_ros packages (RACER_ROS2_LAUNCH,
# default ../shared/vendor/ros2_launch_jazzy beside the checkout). Run it from a shell that has the
# venv active and an install space sourced (scripts/colcon_build.sh, then OUT/install/setup.bash).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENDOR=${RACER_ROS2_LAUNCH:-$ROOT/../shared/vendor/ros2_launch_jazzy}
if [ ! -d "$VENDOR/launch/launch" ] || [ ! -d "$VENDOR/launch_ros/launch_ros" ]; then
  echo "ros2_launch.sh: Jazzy's launch packages not found in $VENDOR (set RACER_ROS2_LAUNCH)" >&2
  exit 2
fi
export PYTHONPATH="$VENDOR/launch:$VENDOR/launch_ros${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python3}" "$ROOT/scripts/ros2_launch.py" "$@"
