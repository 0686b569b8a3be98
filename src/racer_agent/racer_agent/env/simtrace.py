"""Every step in DeepRacer's sim-trace format, so the community's analysis tools read racer's runs.

DeepRacer writes one CSV per training iteration (`training-simtrace/<k>-iteration.csv`, k from 0)
with the columns of `COLUMNS`, in that order and units: position in metres, yaw in degrees, the
commanded steering (degrees) and speed (m/s), progress in percent, `tstamp` the simulation clock
and `wall_clock` the host's Unix time. Racer adds its own columns after them (`RACER_COLUMNS`):
the car, its track, the speed the car actually had (the log's `throttle` is the command), the
lap it was driving and whether it drove the track reversed (with the rest, what `racer analyze
--reward` needs to rebuild every reward param from the logged pose).

An episode's rows are held until it ends and then written in the iteration it ended in, under the
episode number `metrics/episodes.csv` gives it: racer's cars drive on across iterations, while a
DeepRacer episode never spans two, and a reader groups rows by episode. The first row of every
episode is `prepare`, as DeepRacer logs the car before it has moved (readers take its time as the
episode's start).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from racer_agent.env import episode

COLUMNS = ("episode", "steps", "X", "Y", "yaw", "steer", "throttle", "action", "reward", "done",
           "all_wheels_on_track", "progress", "closest_waypoint", "track_len", "tstamp", "episode_status",
           "pause_duration", "obstacle_crash_counter", "wall_clock")
RACER_COLUMNS = ("car", "track", "measured_speed", "lap", "reversed")
TRAINING_FOLDER = "training-simtrace"
# Each column's format after the episode number: micrometres, microdegrees, nanoseconds of sim time,
# 6 digits of reward. A float's shortest repr costs three times as much, and every step is written.
# A car's constant columns (track length, car, track) are put in its format once, and the step's
# wall clock is formatted once for every car: a third of the formatting, which is most of the log's cost.
STEP_FORMAT = ("%d,%.6f,%.6f,%.6f,%.4f,%.6f,%s,%.6g,%s,%s,%.6f,%d,{track_len:.4f},%.9f,%s,%.4f,%d,%s,"
               "{car},{track},%.4f,%d,%s\n")
_GOING_ON = frozenset((episode.IN_PROGRESS, episode.PREPARE))  # the statuses of a step that ends nothing
_TEXT = {False: "False", True: "True"}  # a bool (numpy's too) as Python writes it, looked up, not formatted
EVALUATION_FOLDER = "evaluation-simtrace"  # in each evaluation's folder: 0-iteration.csv, a lap an episode


class EpisodeSteps:
    """The steps of each car's current episode, handed over when it ends as its CSV lines (all but
    the episode number, which is given at writing)."""

    def __init__(self, cars: list[int], tracks: list[str]):
        self.cars, self.tracks = cars, tracks
        self._steps: list[list[str]] = [[] for _ in cars]
        self._crashes = [0] * len(cars)
        self._flying = [False] * len(cars)  # the next episode is a lap flown on into (no `prepare` row)
        self._formats: list[str | None] = [None] * len(cars)

    def record(self, params: np.ndarray, actions: np.ndarray, rewards: np.ndarray, statuses: np.ndarray,
               speeds: np.ndarray) -> None:
        """One vector-env step: `params` the cars' reward params (None where the step was a reset),
        `statuses` their episode status after it, `speeds` their measured speed at the judged pose."""
        wall = wall_clock()
        actions = actions.tolist() if np.ndim(actions) == 1 else [_action(a) for a in actions]  # once per step
        rewards, speeds = np.asarray(rewards).tolist(), np.asarray(speeds).tolist()
        for k, p in enumerate(params):
            if p is not None:
                status = statuses[k]
                self.record_one(k, p, actions[k], rewards[k], status, speeds[k], wall, status not in _GOING_ON)

    def record_one(self, k: int, p: dict, action, reward: float, status: str, speed: float, wall: str,
                   done: bool, pause: float = 0.0, lap: int = 1) -> None:
        """Car k's judged step. `wall`: `wall_clock()` at the step; `pause`: the penalty seconds its
        episode has served so far (evaluation)."""
        steps = self._steps[k]
        self._crashes[k] += status == episode.CRASHED
        x, y = p["x"], p["y"]
        first = not steps and not done and not self._flying[k]
        row = self._formats[k] or self._format(k, p["track_length"])  # a car keeps its track
        # formatted now: a string is cheaper to keep than a tuple the garbage collector must visit
        steps.append(row % (p["steps"], x, y, p["heading"], p["steering_angle"], p["speed"], _action(action), reward,
                            _TEXT[done], _TEXT[p["all_wheels_on_track"]], p["progress"],
                            _closest(p["waypoints"], p["closest_waypoints"], x, y), p["sim_time"],
                            episode.PREPARE if first else status, pause, self._crashes[k], wall, speed, lap,
                            _TEXT[p["is_reversed"]]))

    def _format(self, k: int, track_length: float) -> str:
        """Car k's row format, its constant columns filled in."""
        self._formats[k] = STEP_FORMAT.format(track_len=track_length, car=self.cars[k], track=self.tracks[k])
        return self._formats[k]

    def end(self, k: int, flying_on: bool = False) -> list[str]:
        """Car k's episode ended: its rows; the car's next steps start a new episode (`flying_on`:
        one the car drives straight into, as an evaluation's next lap: its first row is no `prepare`,
        so a reader times it from the line, where the last episode's final row stands)."""
        rows, self._steps[k], self._crashes[k] = self._steps[k], [], 0
        self._flying[k] = flying_on
        return rows

    def state_dict(self) -> dict:
        return {"steps": [list(s) for s in self._steps], "crashes": list(self._crashes),
                "flying": list(self._flying)}

    def load_state_dict(self, state: dict) -> None:
        self._steps = [list(s) for s in state["steps"]]
        self._crashes = list(state["crashes"])
        self._flying = list(state.get("flying", [False] * len(self._steps)))


def write_iteration(folder: Path, iteration: int, episodes: list[tuple[int, list[str]]]) -> Path:
    """One iteration's file (DeepRacer numbers iterations from 0): (episode number, `end`'s lines) pairs."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{iteration}-iteration.csv"
    with open(path, "w") as f:
        f.write(",".join(COLUMNS + RACER_COLUMNS) + "\n")
        f.write("".join([f"{number},{row}" for number, rows in episodes for row in rows]))
    return path


def wall_clock() -> str:
    """The host's Unix time as the log writes it (`record_one`'s `wall`)."""
    return f"{time.time():.6f}"


def _action(action) -> int | str:
    """A discrete action's index; a continuous one as DeepRacer logs it, "[steer speed]"."""
    if isinstance(action, (int, str)):  # an index, or already in DeepRacer's "[steer speed]"
        return action
    if np.ndim(action) == 0:
        return int(action)
    return "[" + " ".join(f"{float(a):.4f}" for a in action) + "]"


def _closest(waypoints: list, around: list, x: float, y: float) -> int:
    """DeepRacer's closest_waypoint: the nearer of the two waypoints around the car."""
    (ax, ay), (bx, by) = waypoints[around[0]], waypoints[around[1]]
    return around[0] if math.hypot(ax - x, ay - y) <= math.hypot(bx - x, by - y) else around[1]
