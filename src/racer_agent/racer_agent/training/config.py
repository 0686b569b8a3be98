"""Training configuration: DeepRacer's hyperparameter names plus what racer adds around them.

`Hyperparameters` keeps DeepRacer's keys and console defaults, so a `hyperparameters.json` from the
console or deepracer-for-cloud loads unchanged. `TrainConfig` is the whole job (task, network,
budgets); racer's shipped `configs/default.json` overrides a few values for CPU speed, each one
measured (see the README's benchmark table).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from racer_agent.env.episode import CONSOLE_LAPS, DIRECTIONS
from racer_agent.training.architectures import ARCHITECTURES
from racer_core.objects import DRFC_NAMES, ObjectsError, RaceObjects
from racer_core.sim_to_real import SimToReal, SimToRealError

CONFIG_DIR = Path(__file__).parent / "configs"
LOSS_TYPES = ("huber", "mean squared error")
# model_metadata.json values racer can train: one front camera, clipped PPO.
SENSORS = (["FRONT_FACING_CAMERA"],)
TRAINING_ALGORITHMS = ("clipped_ppo",)
EVAL_CARS = 3  # the greedy check's cars: a lap from each third of the track
# where every episode draws its objects anew: a checkpoint picked for clearing 3 draws went on to clear
# 18 of 30 unseen layouts (object avoidance seed 3, 2026-12-06); 8 draws make that pick rarer
EVAL_CARS_DRAWN = 8
# Keys a DeepRacer hyperparameters.json may carry that do not apply to clipped PPO on racer: accepted, unused.
IGNORED_DEEPRACER_KEYS = frozenset({"e_greedy_value", "epsilon_steps", "exploration_type", "stack_size",
                                    "term_cond_avg_score", "term_cond_max_episodes", "sac_alpha"})


class ConfigError(ValueError):
    """A configuration file or value that training cannot use."""


@dataclass
class Hyperparameters:
    """DeepRacer's names and console defaults; the PPO internals it fixes are constants in ppo.py."""

    batch_size: int = 64
    num_epochs: int = 10
    lr: float = 3e-4
    beta_entropy: float = 0.01
    discount_factor: float = 0.99
    loss_type: str = "huber"
    num_episodes_between_training: int = 20

    def check(self) -> None:
        try:  # hyperparameters.json files in the wild carry numbers as strings too
            for f in dataclasses.fields(self):
                if f.type in ("int", "float"):
                    setattr(self, f.name, (int if f.type == "int" else float)(getattr(self, f.name)))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"hyperparameters: {exc}") from exc
        if self.loss_type not in LOSS_TYPES:
            raise ConfigError(f"loss_type must be one of {LOSS_TYPES}, got {self.loss_type!r}")
        if not (0.0 <= self.discount_factor <= 1.0):
            raise ConfigError(f"discount_factor must lie in [0, 1], got {self.discount_factor}")
        if not (0.0 < self.lr <= 1e-2):
            raise ConfigError(f"lr must lie in (0, 1e-2], got {self.lr}")
        for key in ("batch_size", "num_epochs", "num_episodes_between_training"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{key} must be at least 1, got {getattr(self, key)}")
        if self.beta_entropy < 0:
            raise ConfigError(f"beta_entropy must be >= 0, got {self.beta_entropy}")


@dataclass
class TrainConfig:
    hyperparameters: Hyperparameters = field(default_factory=Hyperparameters)
    track: str | list[str] = "circuit"  # built-in name, library name or route file; a list spreads the cars
    direction: str = "forward"  # forward, reverse, or alternate (each car turns round every episode)
    reward: str | None = None  # reward function file; None = racer's default
    actions: Any = None  # model_metadata.json path or its action_space; None = racer's default
    camera: Any = "deepracer_car"  # camera preset name or dict of CameraConfig fields
    randomize: bool = False  # per-episode domain randomisation of the pictures (and sim_to_real's defaults)
    # training cars' latency, camera rate, dropped frames, actuation error (racer_core.sim_to_real.SimToReal keys);
    # None: racer_core.sim_to_real.RANDOMIZED with randomize, else none; {}: none
    sim_to_real: dict | None = None
    race: dict = field(default_factory=dict)  # race type and objects (objects.RaceObjects keys); {}: time trial
    max_steps: int = 2000  # per training episode (truncation, bootstrapped)
    speed_curriculum: bool = True  # training cars start capped at 2 m/s, raised as they lap (curriculum.py)
    network: str = "RACER_SMALL"  # a name in architectures.ARCHITECTURES (model_metadata.json's neural_network)
    num_cars: int = 16  # simulated cars collecting experience at once (one batched env)
    max_samples_per_iteration: int = 10_000  # DeepRacer's (silent) cap, made explicit
    lr_decay_samples: int | None = None  # lr falls linearly to a tenth of itself by this many samples; None: constant
    eval_every_samples: int = 20_000  # samples between greedy evaluations (counted, so a run repeats)
    # cars evaluated at once, from evenly spaced starts; None: EVAL_CARS, or EVAL_CARS_DRAWN where each
    # episode draws its objects anew (each car meets one draw, and the same draws every check)
    eval_laps: int | None = None
    # laps each of them drives in one run; None: 1 in a time trial, CONSOLE_LAPS in a race with objects,
    # where a model that drove every single lap still left the road on its second lap past the bots
    eval_consecutive: int | None = None
    patience_evals: int = 6  # early stop at the reference lap; the window grows with the gap (trainer.patience)
    minutes: float = 10.0  # wall-clock budget
    steps: int | None = None  # environment-step (sample) budget
    seed: int = 0
    torch_threads: int = 2  # capped by OMP_NUM_THREADS where the environment sets it (threads_allowed)
    workers: int = 0  # Ray actors stepping the cars (split between them); 0: the cars step in this process
    ray_address: str = ""  # with workers: the Ray cluster to join (HOST:PORT or auto); "": a private one here
    sim: str = "embedded"  # embedded (in process), ros (lock-step simulator nodes, one per car) or gazebo
    sim_timeout_s: float = 5.0  # ros, gazebo: a simulator silent this long is an error
    gazebo_world: str = ""  # gazebo: the world.sdf the running `gz sim` servers loaded (one per car)
    simtrace: bool = True  # every training step in DeepRacer's sim-trace CSVs (RUN/training-simtrace/)
    clone: str = ""  # the run whose best weights a new run starts from (the console's clone); "": from scratch

    def check(self) -> None:
        self.hyperparameters.check()
        if self.network not in ARCHITECTURES:
            raise ConfigError(f"network must be one of {sorted(ARCHITECTURES)}, got {self.network!r}")
        if min(self.num_cars, *(1 if n is None else n for n in (self.eval_laps, self.eval_consecutive))) < 1:
            raise ConfigError("num_cars, eval_laps and eval_consecutive must be at least 1")
        if not self.tracks or not all(isinstance(t, str) and t for t in self.tracks):
            raise ConfigError(f"track must be a track name or a list of them, got {self.track!r}")
        if self.num_cars < len(self.tracks):
            raise ConfigError(f"{len(self.tracks)} tracks need at least as many cars, got num_cars {self.num_cars}")
        if self.direction not in DIRECTIONS:
            raise ConfigError(f"direction must be one of {', '.join(DIRECTIONS)}, got {self.direction!r}")
        if len(self.tracks) > 1 and self.sim != "embedded":
            raise ConfigError("several tracks need the embedded simulator (one simulator node or world per track)")
        if self.lr_decay_samples is not None and self.lr_decay_samples <= 0:
            raise ConfigError(f"lr_decay_samples must be positive (or null), got {self.lr_decay_samples}")
        if self.eval_every_samples < 0 or self.patience_evals < 1:
            raise ConfigError("eval_every_samples must be >= 0 and patience_evals >= 1")
        if self.minutes <= 0 or (self.steps is not None and self.steps <= 0):
            raise ConfigError("the training budget (minutes, steps) must be positive")
        if self.workers < 0:
            raise ConfigError(f"workers must be >= 0, got {self.workers}")
        if self.workers and self.num_cars < self.workers * len(self.tracks):
            raise ConfigError(f"{self.workers} workers on {len(self.tracks)} track(s) need at least "
                              f"{self.workers * len(self.tracks)} cars, got num_cars {self.num_cars}")
        if self.sim not in ("embedded", "ros", "gazebo"):
            raise ConfigError(f"sim must be embedded, ros or gazebo, got {self.sim!r}")
        try:
            objects = RaceObjects.from_dict(self.race)
            objects.check()
            self.race = objects.to_dict()  # one spelling and type per key, as a run records it
            if self.eval_consecutive is None:  # resolved here, so a run records what it was judged by
                self.eval_consecutive = CONSOLE_LAPS if objects.any else 1
            if self.eval_laps is None:
                self.eval_laps = EVAL_CARS_DRAWN if objects.drawn else EVAL_CARS
        except ObjectsError as exc:
            raise ConfigError(f"race: {exc}") from exc
        if objects.any and self.sim == "ros":  # the node lays out its own objects; the learner cannot move them
            raise ConfigError(f"a {objects.race_type} race with objects trains on the embedded simulator or in "
                              "Gazebo, not through simulator nodes (sim ros)")
        try:
            SimToReal.from_dict(self.sim_to_real)
        except SimToRealError as exc:
            raise ConfigError(str(exc)) from exc
        if self.sim == "ros" and self.randomize:
            raise ConfigError("with sim ros the simulator nodes randomise: set their `randomize` parameter")
        if self.sim == "gazebo":
            if not self.gazebo_world:
                raise ConfigError("sim gazebo needs gazebo_world: the world.sdf the Gazebo server runs")
            if self.randomize:
                raise ConfigError("sim gazebo does not randomise: the world's look is its ground texture")

    def race_options(self) -> dict:
        """The task every car of this run drives (RaceConfig fields), training, evaluation and SB3 peer alike."""
        return dict(reward_function=self.reward, action_space=self.actions, camera=self.camera,
                    max_steps=self.max_steps, objects=RaceObjects.from_dict(self.race))

    @property
    def tracks(self) -> list[str]:
        return [self.track] if isinstance(self.track, str) else list(self.track)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def threads_allowed(torch_threads: int) -> int:
    """The config's torch threads, capped by OMP_NUM_THREADS where set: the variable a shared machine
    (CI, a test runner with a worker per core, a cluster job) uses to say how many cores a process
    gets. OpenMP threads spin while they wait, so oversubscribed cores are ruinous, not just shared:
    two 80,000-sample trainings side by side on 2 cores took 150 s with two threads each, 20 s with one."""
    cap = os.environ.get("OMP_NUM_THREADS", "")
    return min(torch_threads, int(cap)) if cap.isdigit() and int(cap) > 0 else torch_threads


def load(path: str | Path | None = None, **overrides: Any) -> TrainConfig:
    """racer's default config, updated from a file (JSON or YAML; racer config or DeepRacer
    hyperparameters.json) and then from `overrides` (None values ignored)."""
    data = _read(CONFIG_DIR / "default.json")
    if path is not None:
        _merge(data, _read(Path(path)), str(path))
    given = {k: v for k, v in overrides.items() if v is not None}
    _merge(data, given, "command line")
    _apply_model_metadata(data, given.get("network"))
    try:
        config = TrainConfig(**{**data, "hyperparameters": Hyperparameters(**data.get("hyperparameters", {}))})
    except TypeError as exc:
        raise ConfigError(f"configuration: {exc}") from exc
    config.check()
    return config


def _apply_model_metadata(data: dict, network_given: str | None) -> None:
    """An `actions` model_metadata.json says more than its action space: its `neural_network` picks
    the network over the config file's (a `network` given on the command line still wins: a console
    user's action space on racer's CPU network), and a `sensor` or `training_algorithm` racer cannot
    train is refused rather than silently replaced."""
    meta = data.get("actions")
    source = "actions"
    if isinstance(meta, (str, Path)):
        source = str(meta)
        try:
            meta = json.loads(Path(meta).read_text())
        except (OSError, json.JSONDecodeError):
            return  # the action space's own reader says what is wrong with the file
    if not isinstance(meta, dict):
        return
    sensor = meta.get("sensor")
    if sensor is not None and sensor not in SENSORS:
        raise ConfigError(f"{source}: sensor {sensor} is not simulated; racer trains on one front camera "
                          f"(sensor {SENSORS[0]})")
    algorithm = meta.get("training_algorithm")
    if algorithm is not None and algorithm not in TRAINING_ALGORITHMS:
        raise ConfigError(f"{source}: training_algorithm {algorithm!r} is not implemented; racer trains with "
                          f"{' or '.join(TRAINING_ALGORITHMS)} (PPO) and will not put it in its place")
    network = meta.get("neural_network")
    if network is None:
        return
    if network not in ARCHITECTURES:
        raise ConfigError(f"{source}: neural_network {network!r} is not one racer builds ({sorted(ARCHITECTURES)})")
    if network_given is None:
        data["network"] = network


def _read(path: Path) -> dict:
    try:
        text = path.read_text()
        if path.suffix == ".env":
            return _read_run_env(text)
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except (OSError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read configuration ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: configuration must be a mapping, got {type(data).__name__}")
    return data


def _read_run_env(text: str) -> dict:
    """deepracer-for-cloud's run.env: KEY=VALUE lines. Its race keys (DR_RACE_TYPE, DR_OA_*,
    DR_H2B_*) are read; the rest describe DRfC's own set-up (S3, Docker, world names) and are left."""
    race = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        if key.upper() in DRFC_NAMES:
            race[key.upper()] = value.strip("'\"")
    return {"race": race}


def _merge(data: dict, update: dict, source: str) -> None:
    """Top-level DeepRacer hyperparameter keys (a hyperparameters.json) go into `hyperparameters`."""
    hp_names = {f.name for f in dataclasses.fields(Hyperparameters)}
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    hp = dict(data.get("hyperparameters", {}))
    for key, value in update.items():
        if key in IGNORED_DEEPRACER_KEYS:
            continue
        if key in hp_names:
            hp[key] = value
        elif key == "hyperparameters":
            unknown = set(value) - hp_names - IGNORED_DEEPRACER_KEYS
            if unknown:
                raise ConfigError(f"{source}: unknown hyperparameters {sorted(unknown)}")
            hp.update({k: v for k, v in value.items() if k in hp_names})
        elif key == "race" or key in DRFC_NAMES:  # race keys add to those already given
            race = dict(data.get("race") or {})
            for k, v in (value if key == "race" else {key: value}).items():
                race[DRFC_NAMES.get(k.upper(), k.lower())] = v  # one spelling per key: the later one wins
            data["race"] = {k: v for k, v in race.items() if v is not None}
        elif key in known:
            data[key] = value
        else:
            raise ConfigError(f"{source}: unknown configuration key {key!r} (known: {sorted(known | hp_names)})")
    data["hyperparameters"] = hp
