#!/usr/bin/env bash
# racer's image: ROS 2 Jazzy and racer's install space sourced, then the command.
set -e
# shellcheck disable=SC1091
source /opt/ros/jazzy/setup.bash
# shellcheck disable=SC1091
source /opt/racer/install/setup.bash
exec "$@"
