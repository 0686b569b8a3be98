"""The greedy check run during training, and what it decides: the best checkpoint and when to stop.

One definition serves racer's trainer and the Stable-Baselines3 peer in `racer bench learn`, so
both are judged, kept and stopped by the same rule. Laps are compared as lap time over the track's
reference lap, which lets several tracks add up and lets the early-stop window scale with what is
left to gain.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

from racer_agent.env.episode import evaluated_reversals
from racer_agent.env.race import Race, RaceConfig
from racer_agent.evaluation.laps import LapResult, Policy, spread_laps, summarise
from racer_core.racing_line import ReferenceLapError, reference_lap

IMPROVEMENT = 0.995  # a lap counts as better when it beats the best by 0.5 %
PATIENCE_PER_GAP = 20.0  # the early-stop window grows by the base for every 5 % above the reference


@dataclass
class EvalState:
    """What the evaluations of one run have found so far (stored with the run's checkpoints)."""

    evaluations: int = 0
    best_eval_progress: float = -1.0
    best_lap_time_s: float = math.inf  # mean lap time of the best evaluation with every lap complete
    best_lap_ratio: float = math.inf  # that evaluation's mean lap time over the reference
    evals_without_improvement: int = 0
    first_lap_samples: float = math.inf  # first evaluation with a completed lap
    all_laps_samples: float = math.inf  # first evaluation with every lap completed
    first_lap_wall_s: float = math.inf  # the same two in wall seconds (reported; they do not repeat)
    all_laps_wall_s: float = math.inf


def patience(base_evals: int, lap_over_reference: float) -> int:
    """Evaluations without a better lap before training counts as converged.

    A driver at 2x the reference has most of its lap still to gain and improves in jumps (a braking
    point found, a corner cut) with long flat stretches between them, so it gets 21x the base
    window; a driver at the bound gets the base window. Measured (circuit seed 0, 2026-12-03):
    35 checks at 1.318x before the next gain (1.308x, then 1.283x); the window there is 45.
    """
    gap = max(0.0, lap_over_reference - 1.0) if math.isfinite(lap_over_reference) else 0.0
    return math.ceil(round(base_evals * (1.0 + PATIENCE_PER_GAP * gap), 6))  # 1.1 - 1.0 is not quite 0.1


def reference_times(race: Race, reverse: bool = False, flying: bool = False) -> tuple[float, float]:
    """The standing and (with `flying`, else NaN) flying reference laps, of the track the other way
    round with `reverse`: a lap of a consecutive run starts at speed and is measured against the
    flying bound, as `summarise` does. Without a solvable bound, the centre line at top speed for
    both, which no driver beats either."""
    try:
        lap = reference_lap(race.track.reversed() if reverse else race.track, race.actions.max_speed,
                            flying=flying)
        return lap.time_s, lap.flying_time_s
    except ReferenceLapError as exc:
        print(f"racer: warning: no reference lap for {race.track.name} ({exc}); laps are measured against "
              "the centre line at top speed", file=sys.stderr)
        centre = race.track.length / race.actions.max_speed
        return centre, centre


@dataclass
class Verdict:
    summary: dict  # `summarise` over every lap of every track, plus lap_time_over_reference
    laps: list[tuple[str, LapResult]]  # (track name, lap), track by track
    best: bool  # the best evaluation so far: keep this policy


EVAL_SEED = 12345  # the layouts randomised objects take in every greedy evaluation (never a training seed's)


class GreedyEvaluation:
    """`laps_per_track` greedy cars from evenly spaced starts on each track, each driving
    `consecutive` laps in one run that ends at its first mistake, in the direction the run trains in
    (both ways round for alternate): the best checkpoint is the one that drives the run's own task
    best. A lap a car never reached (its run ended before) counts as no progress."""

    def __init__(self, tracks: list, laps_per_track: int, direction: str = "forward", consecutive: int = 1,
                 **race: object):
        self.races = [Race(RaceConfig(track=t, start="start_line", **race), num_cars=laps_per_track)
                      for t in tracks]
        self.consecutive = consecutive
        self.judged = [(r, reverse) for r in self.races for reverse in evaluated_reversals(direction)]
        self.references = [reference_times(r, reverse, flying=consecutive > 1) for r, reverse in self.judged]
        self.laps_judged = len(self.judged) * laps_per_track * consecutive

    @classmethod
    def for_config(cls, config) -> GreedyEvaluation:
        """The evaluation of a TrainConfig's run: its tracks, laps, direction and task. A run given
        `sim_to_real` effects explicitly trains for a real car's latency and calibration: its best
        checkpoint and early stop are judged under them too (randomize's defaults stay out of it)."""
        return cls(config.tracks, config.eval_laps, config.direction, config.eval_consecutive or 1,
                   **config.race_options(), sim_to_real=config.sim_to_real or {})

    def run(self, policy: Policy, state: EvalState, samples: int, wall_s: float) -> Verdict:
        laps: list[tuple[str, LapResult]] = []
        ratios = []
        for (race, reverse), (standing, flying) in zip(self.judged, self.references, strict=True):
            if race.objects or race.delays is not None:
                race.seed(EVAL_SEED)  # randomised objects or latency: every evaluation meets the same draws
            track_laps = spread_laps(race, policy, reverse, self.consecutive)
            laps += [(race.track.name + (" reversed" if reverse else ""), lap) for lap in track_laps]
            ratios += [lap.lap_time_s / (flying if lap.flying else standing) for lap in track_laps if lap.completed]
        summary = summarise([lap for _, lap in laps])
        ratio = float(np.mean(ratios)) if ratios else math.inf
        summary["lap_time_over_reference"] = round(ratio, 4) if ratios else None
        progress = float(sum(lap.progress for _, lap in laps)) / self.laps_judged  # laps never reached add 0
        return Verdict(summary, laps, self._record(state, summary, progress, ratio, samples, wall_s, self.laps_judged))

    @staticmethod
    def _record(s: EvalState, summary: dict, progress: float, ratio: float, samples: int, wall_s: float,
                laps_judged: int) -> bool:
        s.evaluations += 1
        completed = summary["completed_laps"]
        if completed:
            s.first_lap_samples = min(s.first_lap_samples, samples)
            s.first_lap_wall_s = min(s.first_lap_wall_s, wall_s)
        all_done = completed == laps_judged
        if all_done:
            s.all_laps_samples = min(s.all_laps_samples, samples)
            s.all_laps_wall_s = min(s.all_laps_wall_s, wall_s)
            improved = ratio < s.best_lap_ratio * IMPROVEMENT
            s.evals_without_improvement = 0 if improved else s.evals_without_improvement + 1
        best = (progress, -ratio) > (s.best_eval_progress, -s.best_lap_ratio)
        if best:
            s.best_eval_progress = progress
            if all_done:
                s.best_lap_ratio, s.best_lap_time_s = ratio, summary["mean_lap_time_s"]
        return best

    @staticmethod
    def converged(state: EvalState, patience_evals: int) -> bool:
        return state.evals_without_improvement >= patience(patience_evals, state.best_lap_ratio)
