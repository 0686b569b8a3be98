"""The greedy check's decisions: which evaluation is the best, and when training has converged."""

import math

import numpy as np
import pytest

from racer_agent.training.greedy_eval import EvalState, GreedyEvaluation, patience


def summary(completed: int, laps: int, progress: float, mean_lap: float | None) -> dict:
    return {"completed_laps": completed, "laps": [{}] * laps, "mean_progress": progress, "mean_lap_time_s": mean_lap}


def record(state: EvalState, completed: int, progress: float, ratio: float, samples: int = 1000) -> bool:
    lap = 5.0 * ratio if completed else None
    return GreedyEvaluation._record(state, summary(completed, 3, round(progress, 2), lap), progress,
                                    ratio if completed else math.inf, samples, samples / 1000, 3)


def test_patience_grows_with_the_gap_to_the_reference():
    assert patience(6, 1.0) == 6
    assert patience(6, 0.95) == 6  # a lap "under" the bound (a shorter start) does not shrink the window
    assert patience(6, 1.1) == 18
    assert patience(6, 1.318) == 45  # longer than the 35-check plateau measured there before a gain
    assert patience(6, 2.0) == 126  # at 2x the reference the whole budget is still worth spending
    assert patience(6, math.inf) == 6  # no complete evaluation yet: the counter does not run anyway


def test_best_is_progress_first_then_lap_ratio():
    s = EvalState()
    assert record(s, 0, 40.0, math.inf)
    assert not record(s, 0, 30.0, math.inf)
    assert record(s, 3, 100.0, 1.5, samples=5000)
    assert (s.best_lap_ratio, s.best_lap_time_s) == (1.5, 7.5)
    assert not record(s, 3, 100.0, 1.6, samples=6000)
    assert record(s, 3, 100.0, 1.4, samples=7000)
    assert s.best_lap_ratio == 1.4
    assert (s.first_lap_samples, s.all_laps_samples, s.evaluations) == (5000, 5000, 5)


def test_converged_only_after_a_window_scaled_to_the_gap():
    s = EvalState()
    record(s, 3, 100.0, 1.5)  # best 1.5x: window 6 * (1 + 20 * 0.5) = 66 evaluations
    for _ in range(65):
        record(s, 3, 100.0, 1.499)  # better by less than 0.5 %: not an improvement
    assert s.evals_without_improvement == 65 and not GreedyEvaluation.converged(s, 6)
    record(s, 3, 100.0, 1.499)
    assert GreedyEvaluation.converged(s, 6)
    record(s, 3, 100.0, 1.2)  # a real improvement resets the counter and shrinks the window to 30
    assert s.evals_without_improvement == 0 and not GreedyEvaluation.converged(s, 6)


def test_incomplete_evaluations_never_count_toward_convergence():
    s = EvalState()
    for _ in range(100):
        record(s, 2, 90.0, 1.3)
    assert s.evals_without_improvement == 0 and not GreedyEvaluation.converged(s, 1)
    assert s.first_lap_samples == 1000 and s.all_laps_samples == math.inf and s.best_lap_ratio == math.inf


@pytest.mark.parametrize("tracks", [["oval"], ["oval", "circuit"]])
def test_laps_are_measured_against_each_tracks_reference(tracks):
    evaluation = GreedyEvaluation(tracks, 2)
    assert len(evaluation.references) == len(tracks) and min(s for s, _ in evaluation.references) > 0

    def centre_follower(frames: np.ndarray) -> np.ndarray:  # straight on at the slow speed: leaves every loop
        return np.full(len(frames), 2)

    verdict = evaluation.run(centre_follower, EvalState(), 100, 1.0)
    assert [name for name, _ in verdict.laps] == [t for t in tracks for _ in range(2)]
    assert verdict.summary["completed_laps"] == 0 and verdict.summary["lap_time_over_reference"] is None


def test_races_with_objects_are_judged_on_the_consoles_consecutive_laps():
    from racer_agent.training import config

    assert config.load().eval_consecutive == 1
    assert config.load(race={"race_type": "head_to_bot"}).eval_consecutive == config.CONSOLE_LAPS
    assert config.load(race={"race_type": "head_to_bot"}, eval_consecutive=2).eval_consecutive == 2
    with pytest.raises(config.ConfigError, match="eval_consecutive"):
        config.load(eval_consecutive=0)


def test_objects_drawn_anew_every_episode_are_judged_on_more_draws():
    from racer_agent.training import config

    def cars(race: dict, **given) -> int:
        return config.load(race=race, **given).eval_laps

    assert cars({}) == cars({"race_type": "object_avoidance"}) == config.EVAL_CARS  # the same boxes every episode
    assert cars({"race_type": "head_to_bot"}) == config.EVAL_CARS  # bots in their lanes, no lane changes
    drawn = [{"race_type": "object_avoidance", "randomize_obstacle_locations": True},
             {"race_type": "head_to_bot", "is_lane_change": True},
             {"race_type": "head_to_bot", "randomize_bot_car_locations": True}]
    assert [cars(race) for race in drawn] == [config.EVAL_CARS_DRAWN] * 3
    assert cars({**drawn[0], "object_positions": "0.3,1;0.6,-1"}) == config.EVAL_CARS  # placed by hand: fixed
    assert cars(drawn[0], eval_laps=2) == 2


def test_laps_a_car_never_reached_count_as_no_progress():
    evaluation = GreedyEvaluation(["oval"], 2, consecutive=2)
    state = EvalState()
    verdict = evaluation.run(lambda frames: np.full(len(frames), 2), state, 100, 1.0)  # off in the first lap
    assert evaluation.laps_judged == 4 and len(verdict.laps) == 2
    driven = [lap.progress for _, lap in verdict.laps]
    assert min(driven) > 0 and state.best_eval_progress == pytest.approx(sum(driven) / 4)
    standing, flying = evaluation.references[0]  # a lap after the first is measured against the flying bound
    assert 0 < flying < standing
