"""Sim-to-real: the picture N periods old, the command M periods late, a slower camera that drops
frames, steering and speed off their calibration; drawn per episode, in the env and in evaluation."""

import numpy as np
import pytest

from racer_core.sim_to_real import RANDOMIZED, CarDelays, SimToReal, SimToRealError, for_evaluation


def frames_of(values: list[int]) -> np.ndarray:
    """One tiny frame per car, filled with its value (what each car 'sees')."""
    return np.array(values, np.uint8)[:, None, None, None] * np.ones((1, 2, 3, 1), np.uint8)


def test_the_picture_is_as_old_as_the_episode_drew_and_a_new_episode_starts_from_its_own():
    delays = CarDelays(SimToReal(observation_delay=(0, 2)), 3)
    rng = np.random.default_rng(0)
    for car in range(3):
        delays.reset_car(car, rng)
    delays.obs_delay[:] = [0, 1, 2]
    seen = [delays.observe(frames_of([t, t, t]), rng)[:, 0, 0, 0].tolist() for t in range(10, 15)]
    assert seen == [[10, 10, 10], [11, 10, 10], [12, 11, 10], [13, 12, 11], [14, 13, 12]]
    delays.reset_car(2, rng)
    delays.obs_delay[2] = 2
    assert delays.observe(frames_of([15, 15, 99]), rng)[:, 0, 0, 0].tolist() == [15, 14, 99]  # no previous episode


def test_a_command_takes_effect_late_with_the_cars_own_calibration_error():
    delays = CarDelays(SimToReal(action_delay=(1, 1), steering_offset_deg=2.0, steering_gain=0.1, speed_gain=0.1), 2)
    rng = np.random.default_rng(1)
    for car in range(2):
        delays.reset_car(car, rng)
    first = delays.act(np.array([[10.0, 1.0], [20.0, 2.0]]))
    assert np.allclose(first[:, 1], 0.0) and np.allclose(first[:, 0], delays.steer_offset)  # still: nothing yet
    second = delays.act(np.array([[0.0, 3.0], [0.0, 3.0]]))
    assert np.allclose(second[:, 0], np.array([10.0, 20.0]) * delays.steer_gain + delays.steer_offset)
    assert np.allclose(second[:, 1], np.array([1.0, 2.0]) * delays.speed_gain)
    assert np.all(np.abs(delays.steer_offset) <= 2.0) and np.all(np.abs(delays.speed_gain - 1) <= 0.1)
    assert delays.steer_gain[0] != delays.steer_gain[1]  # each car its own


def test_a_slower_camera_and_dropped_frames_repeat_the_last_delivered_picture():
    delays = CarDelays(SimToReal(camera_hz=(7.5, 7.5), frame_drop=0.0), 1)
    rng = np.random.default_rng(2)
    delays.reset_car(0, rng)
    seen = [int(delays.observe(frames_of([t]), rng)[0, 0, 0, 0]) for t in range(20)]
    assert len(set(seen)) == pytest.approx(10, abs=1)  # every second frame at half the control rate
    dropping = CarDelays(SimToReal(frame_drop=0.5), 1)
    dropping.reset_car(0, rng)
    seen = [int(dropping.observe(frames_of([t]), rng)[0, 0, 0, 0]) for t in range(200)]
    assert 70 < len(set(seen)) < 130


def test_bad_settings_are_refused_with_the_key():
    for bad, key in (({"observation_delay": [2, 1]}, "observation_delay"), ({"camera_hz": 30}, "camera_hz"),
                     ({"frame_drop": 1.5}, "frame_drop"), ({"latency": 2}, "latency")):
        with pytest.raises(SimToRealError, match=key):
            SimToReal.from_dict(bad)
    assert SimToReal.from_dict(RANDOMIZED.to_dict()) == RANDOMIZED
    assert SimToReal.from_dict(for_evaluation(2)).observation_delay == (2, 2)


def test_randomize_brings_them_evaluation_leaves_them_out_unless_asked():
    import gymnasium as gym

    import racer_agent  # noqa: F401
    from racer_agent.env.race import Race, RaceConfig

    assert Race(RaceConfig(track="oval", randomize=True)).delays.spec == RANDOMIZED
    assert Race(RaceConfig(track="oval", randomize=True, sim_to_real={})).delays is None
    assert Race(RaceConfig(track="oval")).delays is None
    late = gym.make("racer/TimeTrial-v0", track="oval", sim_to_real=for_evaluation(2))
    now = gym.make("racer/TimeTrial-v0", track="oval")
    a, _ = late.reset(seed=0)
    b, _ = now.reset(seed=0)
    pictures = [b]
    for _ in range(6):
        a, *_ = late.step(3)
        b, *_ = now.step(3)
        pictures.append(b)
    assert np.array_equal(a, pictures[-3]) and not np.array_equal(a, b)  # two periods old


def test_evaluate_with_latency_records_it(tmp_path):
    from racer_agent.evaluation.report import evaluate
    from racer_agent.training import config
    from racer_agent.training.trainer import Trainer

    cfg = config.load(track="oval", num_cars=2, eval_laps=1, eval_every_samples=0, steps=200,
                      hyperparameters={"num_episodes_between_training": 2, "batch_size": 64})
    Trainer(cfg, tmp_path / "run", show_progress=False).train()
    report = evaluate(tmp_path / "run", laps=1, out_dir=tmp_path / "eval", sim_to_real=for_evaluation(2, True))
    assert report["sim_to_real"]["observation_delay"] == [2, 2] and report["sim_to_real"]["steering_gain"] == 0.1
    from racer_agent.evaluation.model_metadata import stock_mapping_of

    mapping = stock_mapping_of(tmp_path / "run")
    assert mapping == {"max_steering_deg": 30.0, "max_speed": 4.0}  # racer's default action space
    stock = evaluate(tmp_path / "run", laps=1, out_dir=tmp_path / "stock",
                     sim_to_real=for_evaluation(0, False, mapping))
    assert stock["sim_to_real"]["stock_mapping"] is True


def test_bench_sim2real_trains_both_and_judges_each_under_every_condition():
    from racer_agent.bench import sim_to_real as bench

    out = bench.run(track="oval", steps=300, laps=1)
    assert set(out["models"]) == {"trained_without", "trained_with"}
    for rows in out["models"].values():
        assert set(rows) == set(bench.CONDITIONS)
        assert all(row["laps"] == 1 and 0 <= row["completed_without_resets"] <= row["completed_laps"] <= 1
                   for row in rows.values())
    assert out["trained_with"]["observation_delay"] == [0, 2]


def test_the_stock_cars_mapping_of_actions():
    """The navigation node's rules: the largest angle is full lock, half the top speed is 80 % throttle."""
    from racer_core.sim_to_real import CAR_MAX_STEERING_DEG, stock_command

    out = stock_command(np.array([[15.0, 2.0], [-7.5, 1.0], [0.0, 0.0]]), max_steering_deg=15.0, max_speed=2.0)
    assert np.allclose(out[:, 0], [CAR_MAX_STEERING_DEG, -CAR_MAX_STEERING_DEG / 2, 0.0])
    assert np.allclose(out[:, 1], [2.0, 0.8 * 2.0, 0.0])
