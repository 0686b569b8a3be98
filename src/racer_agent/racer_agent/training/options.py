"""The options of a training session, defined once.

`racer train`'s arguments, `racer_train_node`'s ROS parameters and `train.launch.py`'s arguments are
all made from OPTIONS, and every caller turns the values it got back into the same `TrainConfig`
overrides with `session_arguments`: an option added here reaches all three, and none can drop one
on the way (as `racer train --sim ros` once dropped `--direction`).

A value that is not given leaves the choice to the config (racer's `configs/default.json`, then
`--config`). On the command line that is an absent flag; a ROS parameter or launch argument has no
absent state, so each option names the value that stands for it (`""`, `0`, `-1`).
No rclpy here: the train node wraps these in its parameter checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from racer_agent.env.episode import DIRECTIONS
from racer_agent.training.architectures import ARCHITECTURES
from racer_agent.training.config import load as default_config
from racer_core.objects import RACE_TYPES

SIMULATORS = ("embedded", "ros", "gazebo")
LIVE_SIMULATORS = ("ros", "gazebo")  # one simulator node or Gazebo world per car: one car unless told


@dataclass(frozen=True)
class Option:
    name: str  # ROS parameter and launch argument; the command line's flag is --name with dashes
    kind: type  # str, int, float or bool
    help: str  # what it means (the unset value's meaning is added by each interface)
    key: str | None = None  # the TrainConfig field it sets; None: the session's own (out, resume, ...)
    choices: tuple[str, ...] = ()
    minimum: float | None = None  # a given number must be at least this
    launch: bool = True  # train.launch.py offers it (False: the launch file decides it itself)
    unset_means: str = "the config's"

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def unset(self) -> Any:
        """The ROS parameter / launch value that means "not given"."""
        return {str: "", int: -1 if self.name == "seed" else 0, float: 0.0, bool: False}[self.kind]

    def ros_help(self) -> str:
        return self.help if self.kind is bool else f"{self.help}; {self.unset!r}: {self.unset_means}"

    def problem(self, value: Any) -> str | None:
        """Why a ROS or launch value is refused, or None (the unset value is always fine)."""
        if value == self.unset:
            return None
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}, got {value!r}"
        if self.minimum is not None and value < self.minimum:
            return f"must be at least {self.minimum:g}, got {value}"
        return None


# The race type and its objects: the racer names of the reference's keys (config "race", run.env's
# DR_OA_* / DR_H2B_*), offered by racer train and racer evaluate alike. The keys' meanings and
# defaults are racer_core.objects.RaceObjects'.
RACE_OPTIONS = (
    Option("race", str, "race type (object_avoidance: 6 boxes unless --obstacles; head_to_bot: 3 bot cars unless "
           "--bots)", key="race.race_type", choices=RACE_TYPES, unset_means="the config's (time_trial)"),
    Option("obstacles", int, "obstacles on the track (number_of_obstacles)", key="race.number_of_obstacles",
           minimum=0, unset_means="the race type's"),
    Option("randomize_obstacles", bool, "new obstacle places every episode (randomize_obstacle_locations)",
           key="race.randomize_obstacle_locations"),
    Option("obstacle_positions", str, "obstacles at 'fraction,lane;...' (lane -1 outer, 1 inner; object_positions)",
           key="race.object_positions", unset_means="evenly spaced"),
    Option("bots", int, "bot cars on the track (number_of_bot_cars)", key="race.number_of_bot_cars", minimum=0,
           unset_means="the race type's"),
    Option("bot_speed", float, "bot cars' speed, m/s along the centre line (bot_car_speed)",
           key="race.bot_car_speed", minimum=1e-9, unset_means="0.2"),
    Option("lane_change", bool, "bot cars change lanes (is_lane_change)", key="race.is_lane_change"),
)


def _options() -> tuple[Option, ...]:
    defaults = default_config()  # quoted, never copied: configs/default.json stays the one source
    return (
        Option("config", str, "racer config or DeepRacer hyperparameters.json (JSON or YAML)",
               unset_means="racer's default"),
        Option("track", str, "track name or route file (.npy); several (CLI: repeat --track; ROS: commas) "
               "spread the cars", key="track", unset_means=f"the config's ({defaults.track})"),
        Option("direction", str, "driving direction; alternate turns each car round every episode",
               key="direction", choices=DIRECTIONS, unset_means=f"the config's ({defaults.direction})"),
        Option("reward", str, "Python file defining reward_function(params)", key="reward",
               unset_means="racer's default"),
        Option("actions", str, "model_metadata.json with the action space (its neural_network picks the "
               "network)", key="actions", unset_means="racer's default"),
        Option("network", str, "policy network (over model_metadata.json's neural_network)", key="network",
               choices=tuple(sorted(ARCHITECTURES)), unset_means=f"the config's ({defaults.network})"),
        Option("minutes", float, "wall-clock budget of this session", key="minutes", minimum=1e-9,
               unset_means=f"the config's ({defaults.minutes:g})"),
        Option("steps", int, "sample budget of this session", key="steps", minimum=1, unset_means="none"),
        Option("seed", int, "seed", key="seed", minimum=0, unset_means=f"the config's ({defaults.seed})"),
        Option("cars", int, "cars learning at once; with a ros or gazebo simulator one node or world each",
               key="num_cars", minimum=1,
               unset_means=f"the config's ({defaults.num_cars}) embedded, 1 with sim ros or gazebo"),
        Option("sim", str, "embedded: simulator in this process; ros: lock-step racer_sim_node processes, "
               "one per car; gazebo: a running Gazebo server (gz sim -s WORLD), stepped in lock-step",
               key="sim", choices=SIMULATORS, unset_means=f"the config's ({defaults.sim})"),
        Option("world", str, "sim gazebo: the world.sdf the Gazebo server runs", key="gazebo_world",
               launch=False, unset_means="none"),
        Option("timeout_s", float, "a simulator silent this long (s) stops training, checkpoint kept",
               key="sim_timeout_s", minimum=1e-9, unset_means=f"the config's ({defaults.sim_timeout_s:g})"),
        Option("workers", int, "step the cars in N Ray actors (cars split between them)", key="workers",
               minimum=0, unset_means="none, and Ray is not imported"),
        Option("ray_address", str, "with workers: the Ray cluster to join (HOST:PORT, or auto for the one "
               "`ray start` began here)", key="ray_address", unset_means="a private one in this process"),
        *RACE_OPTIONS,
        Option("out", str, "run directory", unset_means="runs/<date-time>"),
        Option("resume", str, "continue the run in this directory from its latest checkpoint",
               unset_means="a new run"),
        Option("clone", str, "start a new run from this run's best weights, config and reward (the console's "
               "clone: the same network and number of actions; speeds, reward, track and config may change)",
               key="clone", unset_means="from scratch"),
        Option("monitor", str, "watch live: [HOST:]PORT of a Foxglove WebSocket server (loopback unless a host is "
               "named), racer's page at the next port", unset_means="no live view"),
        Option("quiet", bool, "no progress bar", launch=False),
    )


OPTIONS = _options()
BY_NAME = {o.name: o for o in OPTIONS}


def from_ros(values: dict) -> dict:
    """ROS parameter / launch values -> option values, None where not given."""
    return {name: (None if value == BY_NAME[name].unset and BY_NAME[name].kind is not bool else value)
            for name, value in values.items() if name in BY_NAME}


def to_ros(values: dict) -> dict:
    """Option values -> the ROS parameters that say them (those not given are left out)."""
    out = {}
    for name, value in values.items():
        if name in BY_NAME and value is not None and value is not False:
            out[name] = ",".join(value) if isinstance(value, list) else value
    return out


def race_overrides(values: dict) -> dict | None:
    """The race keys given among option values (None: none given). A flag left off is not given,
    so a config's `randomize_obstacle_locations: true` survives a command line without the flag."""
    race = {o.key.split(".", 1)[1]: values.get(o.name) for o in RACE_OPTIONS}
    race = {k: v for k, v in race.items() if v is not None and v is not False}
    return race or None


def session_arguments(values: dict) -> dict:
    """Option values (None: not given) -> `train_and_report`'s arguments: the TrainConfig overrides
    and the session's own (config file, out, resume, quiet, monitor)."""
    if values.get("ray_address") and not values.get("workers"):
        raise ValueError("ray_address needs workers: the rollout actors to start on that cluster")
    overrides = {o.key: values.get(o.name) for o in OPTIONS if o.key is not None and "." not in o.key}
    overrides["race"] = race_overrides(values)
    track = overrides["track"]
    if isinstance(track, str) and "," in track:
        overrides["track"] = [t.strip() for t in track.split(",") if t.strip()]
    if overrides["num_cars"] is None and values.get("sim") in LIVE_SIMULATORS:
        overrides["num_cars"] = 1
    return {"config_file": values.get("config"), "overrides": overrides, "out": values.get("out"),
            "resume": values.get("resume"), "quiet": bool(values.get("quiet")), "monitor": values.get("monitor")}
