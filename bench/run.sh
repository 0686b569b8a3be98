#!/usr/bin/env bash
# Runs every benchmark and prints one JSON object per line. DDS stays on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-77}
.venv/bin/racer bench sim --json "$@"
