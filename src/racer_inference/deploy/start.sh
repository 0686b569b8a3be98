#!/usr/bin/env bash
# Starts racer's driver on the DeepRacer: it switches the car to autonomous mode and drives from the
# camera; Ctrl-C stops the car (0/0) and disables autonomous mode. Argument: max_throttle (0..1,
# default 0.5), the throttle at the model's top speed (what the console's speed slider sets).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
MAX_THROTTLE=${1:-0.5}
ROS_SETUP=${ROS_SETUP:-/opt/ros/foxy/setup.bash}
DEEPRACER_SETUP=${DEEPRACER_SETUP:-/opt/aws/deepracer/lib/setup.bash}
set +u  # ROS setup scripts read unset variables
# shellcheck disable=SC1090
. "$ROS_SETUP"
# The car's own interface package (deepracer_interfaces_pkg) comes from its stock workspace.
# shellcheck disable=SC1090
[ -f "$DEEPRACER_SETUP" ] && . "$DEEPRACER_SETUP"
# shellcheck disable=SC1091
. "$HERE/install/setup.bash"
set -u
exec ros2 launch "$HERE/launch/racer_deepracer.launch.py" "max_throttle:=$MAX_THROTTLE" "model_dir:=$HERE/model"
