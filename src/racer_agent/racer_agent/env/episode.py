"""DeepRacer's episode rules: progress with finish-line wrap, and what ends an episode.

Progress is measured as DeepRacer measures it: the front point's distance along the centre line,
counted from where the car ORIGIN was placed (so the first step already shows 0.14 m of progress),
over the whole track length (on an open track too). It is integrated step by step (wrapping each
step's change into +-half a lap, which is DeepRacer's 50 % jump rule), so crossing the finish line
mid-episode is seamless.
"""

from __future__ import annotations

from dataclasses import dataclass

IN_PROGRESS = "in_progress"
LAP_COMPLETE = "lap_complete"
OFF_TRACK = "off_track"
CRASHED = "crashed"  # ran into an obstacle or a bot car (object avoidance, head-to-bot)
REVERSED = "reversed"
IMMOBILIZED = "immobilized"
TIME_UP = "time_up"
PREPARE = "prepare"

# Which way round a run's cars drive: alternate turns each car round every episode.
DIRECTIONS = ("forward", "reverse", "alternate")
CONSOLE_LAPS = 3  # the DeepRacer console's evaluation: laps in one run from the start line


def evaluated_reversals(direction: str) -> tuple[bool, ...]:
    """The ways round a run is judged (reversed or not): the one it trains in, both for alternate."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    return {"forward": (False,), "reverse": (True,), "alternate": (False, True)}[direction]


PATIENCE_STEPS = 15  # consecutive steps of going backwards / standing still that end an episode
IMMOBILE_METRES = 0.0003  # moved at most this far in one step counts as standing still


def drives_on(status, closed):
    """Whether an ended episode's car could have driven on (status and closed: scalars or arrays):
    a completed lap of a loop. DeepRacer ends the episode there; a learner bootstraps its value
    as it does at the step cap (training/rollout.py says why)."""
    return (status == LAP_COMPLETE) & closed


@dataclass
class EpisodeTracker:
    """One car's episode: where it started, how far it got, and whether the episode is over."""

    track_length: float
    closed: bool
    start_along: float = 0.0  # driving-direction distance of the start point from the start line
    steps: int = 0
    covered: float = 0.0  # metres along the centre line since the start, negative when behind it
    last_along: float = 0.0
    backwards_steps: int = 0
    still_steps: int = 0
    last_xy: tuple[float, float] = (0.0, 0.0)

    def reset(self, start_along: float, along: float, xy: tuple[float, float]) -> None:
        """Start an episode with the car origin at `start_along` and its front point at `along`;
        the reset itself is DeepRacer's 'prepare' step (steps = 1)."""
        self.start_along = start_along
        self.last_along = along
        self.steps = 1
        self.covered = self._wrap(along - start_along)
        self.backwards_steps = self.still_steps = 0
        self.last_xy = xy

    def recovered(self, along: float, xy: tuple[float, float], count_move: bool = False) -> None:
        """The car was put back on the road mid-episode: keep its progress (or, `count_move`, move it
        with the car: put back behind an obstacle, it has that far again to go), forget its streaks."""
        if count_move:
            self.covered += self._wrap(along - self.last_along)
        self.last_along = along
        self.last_xy = xy
        self.backwards_steps = self.still_steps = 0

    def next_lap(self) -> None:
        """A continuous run goes on past the line: the next lap counts from this crossing."""
        self.covered -= self.track_length

    def update(self, along: float, xy: tuple[float, float]) -> None:
        """Account for the car's new position at a decision step."""
        self.steps += 1
        delta = self._wrap(along - self.last_along)
        self.backwards_steps = self.backwards_steps + 1 if delta < 0 else 0
        moved = ((xy[0] - self.last_xy[0]) ** 2 + (xy[1] - self.last_xy[1]) ** 2) ** 0.5
        self.still_steps = self.still_steps + 1 if moved <= IMMOBILE_METRES else 0
        self.covered += delta
        self.last_along = along
        self.last_xy = xy

    def _wrap(self, delta: float) -> float:
        if not self.closed:
            return delta
        half = 0.5 * self.track_length
        return (delta + half) % self.track_length - half

    @property
    def progress(self) -> float:
        """0..100 % of the track length covered since the start (capped, never negative)."""
        return min(100.0, max(0.0, 100.0 * self.covered / max(self.track_length, 1e-9)))

    @property
    def finished(self) -> bool:
        """A lap is complete; on an open track, the end of the road is reached (from a start part-way
        along, progress then stays below 100 %)."""
        if self.closed:
            return self.covered >= self.track_length
        return self.start_along + self.covered >= self.track_length - 1e-6  # the front point stops at the end

    def status(self, wheels_on_road: int, crashed: bool = False) -> str:
        """DeepRacer's order: a finished lap wins over anything else that happened on that step, then
        off track, crashed, reversed, immobilized."""
        if self.finished:
            return LAP_COMPLETE
        if wheels_on_road == 0:
            return OFF_TRACK
        if crashed:
            return CRASHED
        if self.backwards_steps >= PATIENCE_STEPS:
            return REVERSED
        if self.still_steps >= PATIENCE_STEPS:
            return IMMOBILIZED
        return IN_PROGRESS
