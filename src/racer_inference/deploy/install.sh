#!/usr/bin/env bash
# Installs racer's driver on an AWS DeepRacer (Ubuntu 20.04, ROS 2 Foxy, Python 3.8), from the
# unpacked bundle: a venv of its own with the pinned car requirements (the car's TensorFlow and
# OpenVINO stay untouched) and racer_inference built with colcon against Foxy. Run it on the car:
#   sudo ./install.sh            (idempotent; PREFIX=/opt/racer by default)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${PREFIX:-/opt/racer}
ROS_SETUP=${ROS_SETUP:-/opt/ros/foxy/setup.bash}
[ -f "$ROS_SETUP" ] || { echo "install.sh: $ROS_SETUP not found: is this a DeepRacer with ROS 2 Foxy?" >&2; exit 2; }
command -v python3 >/dev/null || { echo "install.sh: python3 not found" >&2; exit 2; }
python3 -c 'import venv, ensurepip' 2>/dev/null || apt-get install -y python3-venv
command -v colcon >/dev/null || apt-get install -y python3-colcon-common-extensions

mkdir -p "$PREFIX"
cp -r "$HERE/model" "$HERE/launch" "$HERE/src" "$HERE/start.sh" "$PREFIX/"
[ -x "$PREFIX/venv/bin/python" ] || python3 -m venv "$PREFIX/venv"
"$PREFIX/venv/bin/python" -m pip install -q --upgrade "pip<24.1"
"$PREFIX/venv/bin/python" -m pip install -q -r "$PREFIX/src/racer_inference/car-requirements.txt"

# colcon runs setup.py with the venv's Python, so the node's executable uses it (onnxruntime is there).
set +u  # ROS setup scripts read unset variables
# shellcheck disable=SC1090
. "$ROS_SETUP"
set -u
(cd "$PREFIX" && PATH="$PREFIX/venv/bin:$PATH" colcon build --base-paths src --build-base build --install-base install)
echo "racer installed in $PREFIX: start with $PREFIX/start.sh [max_throttle]"
