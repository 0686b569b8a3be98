#!/usr/bin/env bash
# `ros2 launch PKG FILE [NAME:=VALUE ...]` for machines without a ROS 2 install: the same
# launch.LaunchService run, over Jazzy's own launch and launch_ros packages (RACER_ROS2_LAUNCH,
# default ../shared/vendor/ros2_launch_jazzy beside the checkout), with the project's venv Python
# (RACER_VENV, default .venv). Run it from a shell that sourced an install space
# (scripts/colcon_build.sh OUT, then . OUT/install/setup.bash).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENDOR=${RACER_ROS2_LAUNCH:-$ROOT/../shared/vendor/ros2_launch_jazzy}
if [ ! -d "$VENDOR/launch/launch" ] || [ ! -d "$VENDOR/launch_ros/launch_ros" ]; then
  echo "ros2_launch.sh: Jazzy's launch packages not found in $VENDOR (set RACER_ROS2_LAUNCH)" >&2
  exit 2
fi
export PYTHONPATH="$VENDOR/launch:$VENDOR/launch_ros${PYTHONPATH:+:$PYTHONPATH}"
VENV=${RACER_VENV:-$ROOT/.venv}
PY=python3
[ -x "$VENV/bin/python" ] && PY="$VENV/bin/python"  # rclpy and ament_index_python live in the venv
exec "${PYTHON:-$PY}" "$ROOT/scripts/ros2_launch.py" "$@"
