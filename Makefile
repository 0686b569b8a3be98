# The two commands: `make train` (set up, then the main job) and `make test` (set up, then the tests).
VENV ?= .venv
BIN := $(VENV)/bin
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST

.PHONY: setup train test bench lint pictures store-reference-laps

setup:
	bash scripts/setup.sh

# The main job: train on racer's default track with the default config, evaluate, export to ONNX.
train: setup
	$(BIN)/racer train --out runs/main-$$(date +%Y%m%d-%H%M%S)

# Two test workers on two cores: one torch thread each (OMP_NUM_THREADS caps torch_threads; see
# training/config.py threads_allowed), else their OpenMP threads spin against each other.
test:
	bash scripts/setup.sh --test
	$(BIN)/ruff check .
	OMP_NUM_THREADS=1 ROS_DOMAIN_ID=$${ROS_DOMAIN_ID:-$$(( $$$$ % 90 + 10 ))} $(BIN)/python -m pytest -q -n 2 --dist loadgroup --durations=15 test

# Every picture in docs/images from today's code (trains the main job first; RUN=runs/... reuses a run).
pictures: setup
	$(BIN)/python scripts/make_pictures.py $(if $(RUN),--run $(RUN))

bench: setup
	bash bench/run.sh

lint: setup
	$(BIN)/ruff check .

# After a change to the reference-lap solver: the whole suite solves for real, then keeps its answers
# as test/fixtures/reference_laps (the suite's stored solutions; see test/conftest.py).
store-reference-laps:
	rm -rf test/fixtures/reference_laps
	RACER_STORE_REFERENCE_LAPS=1 $(MAKE) test
