#!/usr/bin/env bash
# colcon build of every package in src/ (racer_interfaces included) with the venv's ROS 2 wheels as
# the underlay, into OUT_DIR/{build,install,log}. Afterwards, in a shell with the venv active,
# `. OUT_DIR/install/setup.bash` gives what a ROS 2 machine gives after sourcing a workspace:
# executables in lib/<package>, launch/rviz/config files in share/<package>, the ament index.
# On a ROS 2 Jazzy install use plain `colcon build` in the repository instead (see README).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: scripts/colcon_build.sh OUT_DIR" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${RACER_VENV:-$ROOT/.venv}
[ -x "$VENV/bin/colcon" ] || { echo "colcon_build.sh: no colcon in $VENV; run scripts/setup.sh first" >&2; exit 2; }
# shellcheck disable=SC1091
. "$VENV/bin/activate"
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
export AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV"
cd "$ROOT"
colcon --log-base "$OUT/log" build --base-paths src --build-base "$OUT/build" --install-base "$OUT/install" \
  --event-handlers console_direct- console_stderr- summary+ \
  --cmake-args -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF
