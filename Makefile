# The two commands: `make train` (set up, then the main job) and `make test` (set up, then the tests).
VENV ?= .venv
BIN := $(VENV)/bin
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST

.PHONY: setup train test bench lint

setup:
	bash scripts/setup.sh

# Until the trainer lands (issue 3) the main job drives one scripted lap and writes its pictures.
train: setup
	$(BIN)/racer drive --out runs/drive

test: setup
	$(BIN)/ruff check .
	ROS_DOMAIN_ID=$${ROS_DOMAIN_ID:-$$(( $$$$ % 90 + 10 ))} $(BIN)/python -m pytest -q test

bench: setup
	bash bench/run.sh

lint: setup
	$(BIN)/ruff check .
