# The two commands: `make train` (set up, then the main job) and `make test` (set up, then the tests).
VENV ?= .venv
BIN := $(VENV)/bin
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST

.PHONY: setup train test bench lint

setup:
	bash scripts/setup.sh

train: setup
	$(BIN)/racer train

test: setup
	$(BIN)/python -m pytest -q test

bench: setup
	$(BIN)/racer bench sim

lint: setup
	$(BIN)/ruff check .
