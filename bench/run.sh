#!/usr/bin/env bash
# Runs the quick benchmarks and prints one JSON object per line. DDS stays on this machine.
# `racer bench learn --json` (time to a lapping model beside SB3, up to two hours) and `racer bench sim2real
# --json` (two 10-minute trainings, each evaluated four ways) are run on their own.
set -euo pipefail
cd "$(dirname "$0")/.."
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-77}
.venv/bin/racer bench sim --json
.venv/bin/racer bench bridge --json --cars 1
.venv/bin/racer bench bridge --json --cars 2
.venv/bin/racer bench inference --json
