#!/usr/bin/env bash
# Sets up .venv on a fresh Debian 12 machine: pinned Python dependencies (requirements.lock),
# racer's packages in editable mode, and the ROS 2 interface packages PyPI lacks.
# Idempotent: a second run with an unchanged lock file only checks and returns.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${RACER_VENV:-$ROOT/.venv}
PY=${PYTHON:-python3}

# --test: also the tools only the tests use (libsdformat's validator for the Gazebo worlds, Chromium)
# and the deepracer-export extra; --deepracer-export: that extra alone (TensorFlow, for
# `racer export --format deepracer`; requirements-deepracer-export.lock)
TEST_TOOLS=false
EXPORT_EXTRA=false
case "${1:-}" in
  --test) TEST_TOOLS=true; EXPORT_EXTRA=true ;;
  --deepracer-export) EXPORT_EXTRA=true ;;
esac

need_apt=()
if $TEST_TOOLS; then
  command -v ign >/dev/null && ign sdf --help >/dev/null 2>&1 \
    || need_apt+=(ignition-tools libsdformat12-12 sdformat-sdf libsdformat-dev)
  command -v chromium >/dev/null || need_apt+=(chromium)  # opens `racer analyze`'s report headless
fi
command -v cmake >/dev/null || need_apt+=(cmake)
command -v g++ >/dev/null || need_apt+=(g++)
command -v shellcheck >/dev/null || need_apt+=(shellcheck)  # the deploy bundle's scripts are linted in tests
"$PY" -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
"$PY" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || need_apt+=(python3-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

[ -x "$VENV/bin/python" ] || { echo "setup: creating $VENV"; "$PY" -m venv "$VENV"; }
# shellcheck disable=SC1091
. "$VENV/bin/activate"

stamp="$VENV/.racer-lock-$(cat requirements.lock src/*/setup.py | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ ! -x "$VENV/bin/racer" ]; then
  echo "setup: installing pinned dependencies (first run: a few minutes)"
  python -m pip install -q -U "pip>=24"
  python -m pip install -q -r requirements.lock
  python -m pip install -q --no-deps --no-build-isolation \
    --config-settings editable_mode=compat -e src/racer_core -e src/racer_agent -e src/racer_inference -e src/racer_sim
  rm -f "$VENV"/.racer-lock-*
  touch "$stamp"
fi

extra_stamp="$VENV/.racer-extra-$(sha256sum requirements-deepracer-export.lock | cut -c1-16)"
if $EXPORT_EXTRA && [ ! -f "$extra_stamp" ]; then
  echo "setup: installing the deepracer-export extra (TensorFlow, OpenVINO)"
  python -m pip install -q -r requirements-deepracer-export.lock
  rm -f "$VENV"/.racer-extra-*
  touch "$extra_stamp"
fi

# Interface packages missing from PyPI (see ../shared/reference/ros2-from-pypi.md): build only those
# that do not import, so a ROS 2 installation's own packages are never shadowed.
build_interface() {
  local pkg=$1 module=$2 dir=${3:-interfaces/$1}
  # Rebuilt when its definitions change (stamp keyed on their hash) or when it does not import.
  local iface_stamp
  iface_stamp="$VENV/.racer-iface-$pkg-$(cat "$dir"/package.xml "$dir"/CMakeLists.txt "$dir"/*/*.* | sha256sum | cut -c1-16)"
  [ -f "$iface_stamp" ] && python -c "import $module" 2>/dev/null && return 0
  echo "setup: building interface package $pkg into $VENV"
  local pyinc npinc
  pyinc=$(python -c 'import sysconfig;print(sysconfig.get_paths()["include"])')
  npinc=$(python -c 'import numpy;print(numpy.get_include())')
  grep -rl /opt/python/cp311-cp311 "$VENV/share" --include='*.cmake' 2>/dev/null | xargs -r sed -i \
    -e "s#/opt/python/cp311-cp311/include/python3.11#$pyinc#g" \
    -e "s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#$npinc#g" || true
  local build="$ROOT/build/interfaces/$pkg"
  AMENT_PREFIX_PATH=$VENV cmake -S "$dir" -B "$build" -DCMAKE_PREFIX_PATH="$VENV" \
    -DCMAKE_INSTALL_PREFIX="$VENV" -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF \
    > "$build.log" 2>&1 || { cat "$build.log"; exit 1; }
  cmake --build "$build" -j2 >> "$build.log" 2>&1 || { cat "$build.log"; exit 1; }
  cmake --install "$build" >> "$build.log" 2>&1 || { cat "$build.log"; exit 1; }
  python -c "import $module" || { echo "setup: $pkg built but $module does not import"; exit 1; }
  rm -f "$VENV/.racer-iface-$pkg-"*
  touch "$iface_stamp"
}
# --test: the car's Python (3.8, ROS 2 Foxy) with the car's pins, so tests run racer_inference as the
# car does. pyenv's 3.8 is used where no python3.8 is on PATH (Debian 12 ships none).
if $TEST_TOOLS; then
  PY38=${PYTHON38:-}
  if [ -z "$PY38" ]; then  # a pyenv shim on PATH may name a 3.8 it will not run: try each one
    for candidate in $(command -v python3.8) "$HOME"/.pyenv/versions/3.8.*/bin/python3.8; do
      "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 8))' 2>/dev/null && { PY38=$candidate; break; }
    done
  fi
  VENV38=${RACER_VENV38:-$ROOT/.venv38}
  car_stamp="$VENV38/.racer-car-$(sha256sum src/racer_inference/car-requirements.txt | cut -c1-16)"
  if [ -z "$PY38" ]; then
    echo "setup: warning: no Python 3.8 found (pyenv install 3.8.18, or PYTHON38=...); the car tests will fail"
  elif [ ! -f "$car_stamp" ]; then
    echo "setup: creating $VENV38 (the car's Python $("$PY38" -c 'import platform; print(platform.python_version())'))"
    "$PY38" -m venv "$VENV38"
    "$VENV38/bin/python" -m pip install -q -r src/racer_inference/car-requirements.txt
    rm -f "$VENV38"/.racer-car-*
    touch "$car_stamp"
  fi
fi

# --test: the stock car's converter (OpenVINO 2021.4 Model Optimizer, Python 3.8) for the export's tests
VENV_MO=${RACER_VENV_MO:-$ROOT/.venv-mo2021}
mo_stamp="$VENV_MO/.racer-mo-$(sha256sum test/mo2021.lock | cut -c1-16)"
if $TEST_TOOLS && [ -n "${PY38:-}" ] && [ ! -f "$mo_stamp" ]; then
  echo "setup: creating $VENV_MO (OpenVINO 2021.4 Model Optimizer, the stock car's converter)"
  "$PY38" -m venv "$VENV_MO"
  "$VENV_MO/bin/python" -m pip install -q --no-deps -r test/mo2021.lock
  rm -f "$VENV_MO"/.racer-mo-*
  touch "$mo_stamp"
fi

mkdir -p "$ROOT/build/interfaces"
build_interface tf2_msgs tf2_msgs.msg
build_interface ackermann_msgs ackermann_msgs.msg
build_interface racer_interfaces racer_interfaces.srv src/racer_interfaces
# Jazzy's launch_ros imports it: the launch tests and scripts/ros2_launch.sh need it.
build_interface composition_interfaces composition_interfaces.srv
# TEST FIXTURE: the DeepRacer's interface package, for the car emulator in test/ (the car has its own).
build_interface deepracer_interfaces_pkg deepracer_interfaces_pkg.msg test/fixtures/deepracer_interfaces_pkg
echo "setup: ready ($VENV)"
