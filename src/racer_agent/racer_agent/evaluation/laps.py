"""Greedy laps, as DeepRacer's evaluation drives them, timed in sim seconds.

The same loop serves the checks during training (several cars from evenly spaced starts, one lap
each, ending at the first mistake) and `racer evaluate` (one continuous run of consecutive laps
from the start line; with a penalty, a car that leaves the road waits out the penalty and is put
back on the nearer lane where its progress stands).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from racer_agent.env import episode
from racer_agent.env.race import Race
from racer_agent.env.simtrace import EpisodeSteps, wall_clock
from racer_core import vehicle
from racer_core.objects import COLLISION_PENALTY

Policy = Callable[[np.ndarray], np.ndarray]  # frames (B, H, W, C) uint8 -> actions (B,) or (B, 2)
MISTAKES = (episode.OFF_TRACK, episode.CRASHED, episode.REVERSED, episode.IMMOBILIZED)
MAX_RESETS_PER_LAP = 20
SLOWEST_LAP_SPEED = 0.3  # m/s: a lap slower than this on average is abandoned


class StepListener(Protocol):
    """Hears every judged step of every car before anything moves it (the live view)."""

    def car_step(self, race: Race, car: int, command: np.ndarray) -> None: ...


class StepRecorder(StepListener, Protocol):
    """A listener that writes a file (racer_sim's MCAP recording)."""

    path: Path

    def close(self) -> Path: ...


@dataclass
class LapResult:
    completed: bool
    lap_time_s: float  # sim seconds including penalties (up to the end of the attempt if not completed)
    progress: float  # percent
    off_track: int = 0
    crashed: int = 0
    reversed: int = 0
    immobilized: int = 0
    status: str = episode.IN_PROGRESS  # how the attempt ended
    flying: bool = False  # began at speed, crossing the line (not the first lap of a run)
    path: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)), repr=False)  # (T, 2) car origin
    speeds: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)  # (T,)
    frames: list[np.ndarray] | None = field(default=None, repr=False)  # camera frames, when recorded
    steps: list[str] | None = field(default=None, repr=False)  # its sim-trace lines, when traced

    def summary(self) -> dict:
        d = asdict(self)
        for key in ("path", "speeds", "frames", "steps"):
            d.pop(key)
        d["lap_time_s"] = round(self.lap_time_s, 3)
        d["progress"] = round(self.progress, 2)
        return d


def drive_laps(race: Race, policy: Policy, starts: list[float], penalty_seconds: float | None = None,
               record_frames: bool = False, record_top_down: bool = False,
               consecutive: int = 1, reverse: bool = False,
               crash_penalty_seconds: float = COLLISION_PENALTY,
               trace: EpisodeSteps | None = None,
               listeners: Sequence[StepListener] = ()) -> tuple[list[LapResult], list]:
    """`consecutive` laps per car of `race` (which needs len(starts) cars), all cars driven at once.

    Laps after a car's first are flying laps of one continuous run, each timed from one crossing of
    the line to the next, as the DeepRacer console times an evaluation; a lap that ends in a mistake
    without resets ends that car's run. With `penalty_seconds` (resets allowed) an off-track costs
    that and a crash `crash_penalty_seconds` (the reference's separate collision penalty), the car
    put back as DeepRacer's evaluation does. `reverse`: every car drives the track the other way round.
    Returns the laps (car by car, in order) and, with
    `record_top_down`, the bird's-eye pictures of every step.
    """
    n = len(starts)
    if race.num_cars != n:
        raise ValueError(f"race has {race.num_cars} cars for {n} starts")
    if consecutive > 1 and not race.track.closed:
        raise ValueError("consecutive laps need a loop; an open track is driven one run at a time")
    for car, start in enumerate(starts):
        race.reset_car(car, start_fraction=start, reverse=reverse)
    dt = race.sim.vehicle.dt
    max_steps = int(consecutive * race.track.length / SLOWEST_LAP_SPEED / dt)
    done: list[list[LapResult]] = [[] for _ in range(n)]
    laps = [LapResult(False, 0.0, 0.0) for _ in range(n)]
    paths: list[list[np.ndarray]] = [[race.sim.state[c, :2].copy()] for c in range(n)]
    speeds: list[list[float]] = [[0.0] for _ in range(n)]
    frames: list[list[np.ndarray]] = [[] for _ in range(n)]
    top_down: list[np.ndarray] = []
    active = np.ones(n, bool)
    served = np.zeros(n)  # penalty seconds of each car's current lap (the sim-trace's pause_duration)
    commands = np.zeros((n, 2))
    race.render()

    def close_lap(car: int, status: str) -> None:
        lap = laps[car]
        lap.status = status
        lap.completed = status == episode.LAP_COMPLETE
        lap.path, lap.speeds = np.array(paths[car]), np.array(speeds[car])
        lap.frames = frames[car] if record_frames else None
        done[car].append(lap)
        flying_on = lap.completed and len(done[car]) < consecutive
        if trace is not None:
            lap.steps = trace.end(car, flying_on)
        if flying_on:  # fly on into the next lap
            served[car] = 0.0
            race.trackers[car].next_lap()
            laps[car] = LapResult(False, 0.0, 0.0, flying=True)
            paths[car], speeds[car], frames[car] = [paths[car][-1]], [speeds[car][-1]], []
        else:
            active[car] = False

    for _step in range(max_steps):
        if record_frames:
            for car in np.nonzero(active)[0]:
                frames[car].append(race.frames[car].copy())
        if record_top_down:
            top_down.append(race.top_down())
        actions = policy(race.frames)
        measures = race.sim.measure()
        wall = wall_clock()
        for car in np.nonzero(active)[0]:
            reward, status, params, commands[car] = race.judge(car, actions[car], measures[car])
            lap = laps[car]
            lap.progress = race.trackers[car].progress
            if status in MISTAKES:
                setattr(lap, status, getattr(lap, status) + 1)  # the statuses name the counters
            resets = lap.off_track + lap.crashed + lap.reversed + lap.immobilized
            ends = status == episode.LAP_COMPLETE or (
                status in MISTAKES and (penalty_seconds is None or resets > MAX_RESETS_PER_LAP))
            for listener in listeners:
                listener.car_step(race, car, commands[car])
            if trace is not None:
                trace.record_one(car, params, actions[car], reward, status, race.sim.state[car, vehicle.SPEED], wall,
                                 done=ends, pause=served[car], lap=len(done[car]) + 1)
            if ends:
                close_lap(car, status)
            elif status in MISTAKES:
                penalty = crash_penalty_seconds if status == episode.CRASHED else penalty_seconds
                lap.lap_time_s += penalty
                served[car] += penalty
                if status == episode.CRASHED:
                    race.recover_from_crash(car, penalty)
                else:
                    race.recover_car(car)
                commands[car] = 0.0
        if not active.any():
            break
        commands[~active] = 0.0
        race.advance(commands)
        race.render()
        for car in np.nonzero(active)[0]:
            laps[car].lap_time_s += dt
            paths[car].append(race.sim.state[car, :2].copy())
            speeds[car].append(float(race.sim.state[car, vehicle.SPEED]))
    for car in np.nonzero(active)[0]:
        close_lap(car, episode.TIME_UP)
    return [lap for car_laps in done for lap in car_laps], top_down


def spread_laps(race: Race, policy: Policy, reverse: bool = False, consecutive: int = 1) -> list[LapResult]:
    """Greedy laps from evenly spaced starts, one car each, each car's run ending at its first
    mistake: the check run during training and by the learning benchmark (a lap from every part of
    the track)."""
    n = race.num_cars
    return drive_laps(race, policy, [i / n for i in range(n)], reverse=reverse, consecutive=consecutive)[0]


def summarise(laps: list[LapResult], reference=None) -> dict:
    """The numbers the DeepRacer console shows for an evaluation, plus lap time / reference: each
    completed lap against its own bound (the first lap of a run from standing, later ones flying)."""
    times = [lap.lap_time_s for lap in laps if lap.completed]
    mean = float(np.mean(times)) if times else None
    reference_lap_time_s = reference.time_s if reference is not None else None
    out = {
        "laps": [lap.summary() for lap in laps],
        "completed_laps": len(times),
        "mean_progress": round(float(np.mean([lap.progress for lap in laps])), 2),
        "mean_lap_time_s": round(mean, 3) if mean is not None else None,
        "best_lap_time_s": round(min(times), 3) if times else None,
        "off_track_count": int(sum(lap.off_track for lap in laps)),
        "crash_count": int(sum(lap.crashed for lap in laps)),
        "reference_lap_time_s": round(reference_lap_time_s, 3) if reference_lap_time_s else None,
    }
    out["reference_flying_lap_time_s"] = round(reference.flying_time_s, 3) if reference is not None else None
    ratios = [lap.lap_time_s / (reference.flying_time_s if lap.flying else reference.time_s)
              for lap in laps if lap.completed and reference is not None]
    out["lap_time_over_reference"] = round(float(np.mean(ratios)), 3) if ratios else None
    return out
