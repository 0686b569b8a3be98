import itertools
import json
import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import racer_agent  # noqa: F401
from racer_agent.env import episode
from racer_agent.env.actions import DEFAULT_ACTIONS, ActionSpace, ActionSpaceError
from racer_agent.env.reward_function import RewardFunctionError
from racer_agent.env.time_trial import TimeTrialEnv
from racer_agent.evaluation.scripted import CentreLineDriver, choose_action

SLOW_STRAIGHT = [{"steering_angle": 0, "speed": 1.0}]  # stays on the road for the few steps a test drives
# Five angles at 1 and 2 m/s: what the scripted centre-line driver needs to hold 1 m/s in a corner.
FINE_STEERING = [{"steering_angle": a, "speed": v} for v in (1.0, 2.0) for a in (-30.0, -15.0, 0.0, 15.0, 30.0)]
REFERENCE_KEYS = {
    "all_wheels_on_track", "x", "y", "heading", "distance_from_center", "is_left_of_center", "progress",
    "steps", "speed", "steering_angle", "track_width", "track_length", "waypoints", "closest_waypoints",
    "is_reversed", "is_offtrack", "is_crashed", "projection_distance", "closest_objects", "objects_location",
    "objects_left_of_center", "objects_speed", "objects_heading", "objects_distance_from_center",
    "objects_distance", "object_in_camera", "sim_time",
}


def run_episode(env, driver_speed=1.0, options=None, seed=0, limit=5000):
    obs, info = env.reset(seed=seed, options=options)
    driver = CentreLineDriver(env.unwrapped.race.actions, speed=driver_speed)
    params, history = None, []
    for _ in range(limit):
        _obs, reward, terminated, truncated, info = env.step(driver(params))
        params = info["params"]
        history.append((reward, info))
        if terminated or truncated:
            break
    return history, terminated, truncated


def test_env_checker_passes():
    check_env(gym.make("racer/TimeTrial-v0").unwrapped)
    check_env(gym.make("racer/TimeTrial-v0", action_space={"steering_angle": {"low": -30, "high": 30},
                                                          "speed": {"low": 0.5, "high": 2}}).unwrapped)


def test_make_by_module_path_and_spaces():
    env = gym.make("racer_agent:racer/TimeTrial-v0", track="oval", camera={"grayscale": False})
    assert env.observation_space.shape == (120, 160, 3)
    assert env.action_space.n == len(DEFAULT_ACTIONS)


def test_scripted_driver_laps_and_params_follow_the_reference():
    env = gym.make("racer/TimeTrial-v0", track="circuit", action_space=FINE_STEERING)
    history, terminated, truncated = run_episode(env, options={"start": 0.0})
    final = history[-1][1]
    assert terminated and not truncated and final["episode_status"] == episode.LAP_COMPLETE
    assert final["progress"] == 100.0
    assert 15 < final["lap_time"] < 25  # ~19.3 m at 1 m/s
    first = history[0][1]["params"]
    assert set(first) == REFERENCE_KEYS
    assert first["steps"] == 2  # reset was the 'prepare' step
    race = env.unwrapped.race
    start, heading = race.track.point_at(0.0)
    # x, y is the front of the car, 0.14 m ahead of its origin, at decision time (before moving).
    assert math.hypot(first["x"] - start[0] - 0.14 * math.cos(heading),
                      first["y"] - start[1] - 0.14 * math.sin(heading)) < 1e-6
    progress = [info["progress"] for _, info in history]
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(progress))


def test_progress_wraps_at_the_finish_line():
    env = gym.make("racer/TimeTrial-v0", track="oval", action_space=FINE_STEERING)
    history, *_ = run_episode(env, options={"start": 0.9})
    progress = [info["progress"] for _, info in history]
    assert history[-1][1]["episode_status"] == episode.LAP_COMPLETE
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(progress))  # no jump when crossing the line
    crossed = [info["params"]["projection_distance"] for _, info in history]
    assert min(crossed) < 0.5 and max(crossed) > 0.85 * history[0][1]["params"]["track_length"]


def test_closest_waypoints_bracket_the_car():
    env = gym.make("racer/TimeTrial-v0", track="technical", action_space=FINE_STEERING)
    history, *_ = run_episode(env, options={"start": 0.3}, limit=200)
    for _, info in history:
        p = info["params"]
        prev_i, next_i = p["closest_waypoints"]
        assert next_i == (prev_i + 1) % len(p["waypoints"])
        a, b = np.array(p["waypoints"][prev_i]), np.array(p["waypoints"][next_i])
        along = np.dot(np.array([p["x"], p["y"]]) - a, b - a) / np.dot(b - a, b - a)
        assert -0.05 <= along <= 1.05


def test_reverse_direction_laps_with_reversed_waypoints():
    env = gym.make("racer/TimeTrial-v0", track="circuit", direction="reverse", action_space=FINE_STEERING)
    history, _terminated, _ = run_episode(env, options={"start": 0.0})
    assert history[-1][1]["episode_status"] == episode.LAP_COMPLETE
    p = history[0][1]["params"]
    assert p["is_reversed"]
    forward = gym.make("racer/TimeTrial-v0", track="circuit").unwrapped.race.params.waypoints[False]
    assert p["waypoints"][0] == forward[-1] == forward[0] and p["waypoints"][1] == forward[-2]


def test_alternate_direction_and_round_robin_start():
    env = gym.make("racer/TimeTrial-v0", track="oval", direction="alternate")
    starts, directions = [], []
    env.reset(seed=3)
    for _ in range(3):
        _, _, _, _, info = env.step(0)
        starts.append(info["params"]["projection_distance"])
        directions.append(info["params"]["is_reversed"])
        env.reset()
    assert directions == [False, True, False]
    length = info["params"]["track_length"]
    assert starts[2] - starts[0] == pytest.approx(0.10 * length, abs=0.2)


def test_off_track_reversed_immobilized_and_time_up():
    env = gym.make("racer/TimeTrial-v0", track="oval", action_space=[
        {"steering_angle": 30, "speed": 2.0}, {"steering_angle": 0, "speed": 0.1}, {"steering_angle": 0, "speed": 1}])
    env.reset(seed=0, options={"start": 0.0})
    for _ in range(200):
        *_, terminated, truncated, info = env.step(0)
        if terminated:
            break
    assert info["episode_status"] == episode.OFF_TRACK and info["params"]["is_offtrack"]

    env.reset(seed=0, options={"start": 0.5})
    race = env.unwrapped.race
    race.sim.state[0, 2] += math.pi  # face backwards along the track
    for _ in range(100):
        *_, terminated, truncated, info = env.step(2)
        if terminated:
            break
    assert info["episode_status"] == episode.REVERSED

    env.reset(seed=0, options={"start": 0.2})
    race.sim.state[0, 3] = 0.0
    race.actions = ActionSpace.from_spec([{"steering_angle": 0, "speed": 0.1}])
    for _ in range(100):
        race.sim.state[0, 3] = 0.0
        race.sim.commands[:] = 0
        *_, terminated, truncated, info = env.step(0)
        race.sim.state[0, :2] = race.paths[0][0]  # pinned in place
        if terminated:
            break
    assert info["episode_status"] == episode.IMMOBILIZED

    capped = gym.make("racer/TimeTrial-v0", track="oval", max_steps=20)
    history, terminated, truncated = run_episode(capped)
    assert truncated and not terminated and history[-1][1]["episode_status"] == episode.TIME_UP
    assert len(history) == 20  # max_steps calls of step(), params steps 2..21


def test_same_seed_same_actions_same_observations():
    def rollout():
        env = gym.make("racer/TimeTrial-v0", track="technical", randomize=True)
        obs, _ = env.reset(seed=42)
        frames, rewards = [obs], []
        rng = np.random.default_rng(0)
        for _ in range(60):
            obs, r, term, trunc, _ = env.step(int(rng.integers(env.action_space.n)))
            frames.append(obs)
            rewards.append(r)
            if term or trunc:
                obs, _ = env.reset()
        return np.array(frames), rewards

    (f1, r1), (f2, r2) = rollout(), rollout()
    np.testing.assert_array_equal(f1, f2)
    assert r1 == r2


@pytest.mark.parametrize("fn, message", [
    (lambda params: 1 / 0, "raised ZeroDivisionError"),
    (lambda params: "fast", "not a number"),
    (lambda params: float("nan"), "outside the finite range"),
    (lambda params: 2e5, "outside the finite range"),
])
def test_broken_reward_function_names_function_step_and_params(fn, message):
    env = gym.make("racer/TimeTrial-v0", reward_function=fn)
    env.reset(seed=0)
    with pytest.raises(RewardFunctionError, match=message) as err:
        env.step(0)
    text = str(err.value)
    assert "<lambda>" in text and "at step 2" in text and "'distance_from_center'" in text


def test_reward_function_from_file(tmp_path):
    good = tmp_path / "reward.py"
    good.write_text("def reward_function(params):\n    return 2.0 if params['all_wheels_on_track'] else 0.0\n")
    env = gym.make("racer/TimeTrial-v0", reward_function=str(good))
    env.reset(seed=0)
    assert env.step(0)[1] == 2.0
    bad = tmp_path / "nothing.py"
    bad.write_text("x = 1\n")
    with pytest.raises(RewardFunctionError, match="nothing.py.*no function named reward_function"):
        TimeTrialEnv(reward_function=str(bad))
    syntax = tmp_path / "syntax.py"
    syntax.write_text("def reward_function(params)\n")
    with pytest.raises(RewardFunctionError, match="syntax.py: loading failed: SyntaxError"):
        TimeTrialEnv(reward_function=str(syntax))


def test_action_space_from_model_metadata(tmp_path):
    meta = {"action_space": [{"steering_angle": -30, "speed": 0.6, "index": 0}, {"steering_angle": 0, "speed": 1.2}],
            "action_space_type": "discrete", "sensor": ["FRONT_FACING_CAMERA"]}
    path = tmp_path / "model_metadata.json"
    path.write_text(json.dumps(meta))
    space = ActionSpace.from_spec(str(path))
    assert space.command(1) == (0.0, 1.2)
    cont = ActionSpace.from_spec({"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 1, "high": 2}})
    assert cont.command([-1, -1]) == (-30.0, 1.0)
    assert cont.command([0, 1]) == (0.0, 2.0)
    assert cont.command([5, 5]) == (30.0, 2.0)  # clipped, never out of range
    for bad in ([{"steering_angle": 45, "speed": 1}], [{"steering_angle": 0, "speed": 5}], [], [{"speed": 1}]):
        with pytest.raises(ActionSpaceError):
            ActionSpace.from_spec(bad)
    assert choose_action(cont, 0.0, 1.5) == pytest.approx([0.0, 0.0])


def test_a_curriculum_stage_keeps_the_fast_action_the_fast_one():
    """Clipped at 2 m/s, straight at 4 m/s and the straight 2 m/s brake would be the same action and a
    policy could learn its straights on the brake; a stage scales every speed instead."""
    full = ActionSpace.from_spec(DEFAULT_ACTIONS)
    stage = full.limited(2.0)
    assert stage.max_speed == 2.0 and np.array_equal(stage.table[:, 0], full.table[:, 0])
    assert np.array_equal(np.argsort(stage.table[:, 1], kind="stable"), np.argsort(full.table[:, 1], kind="stable"))
    assert len(np.unique(stage.table[:, 1])) == len(np.unique(full.table[:, 1]))  # no two speeds merged
    assert full.limited(4.0) is full
    cont = ActionSpace.from_spec({"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 1, "high": 4}})
    assert cont.limited(2.0).command([0, 1]) == (0.0, 2.0) and cont.limited(2.0).command([0, -1]) == (0.0, 1.0)


def test_route_file_track_and_rgb_render(reinvent_base):
    env = gym.make("racer/TimeTrial-v0", track=str(reinvent_base), render_mode="rgb_array")
    history, *_ = run_episode(env, options={"start": 0.0})
    assert history[-1][1]["episode_status"] == episode.LAP_COMPLETE
    assert history[0][1]["params"]["track_length"] == pytest.approx(17.709, abs=1e-3)
    picture = env.render()
    assert picture.ndim == 3 and picture.shape[2] == 3 and picture.dtype == np.uint8


def test_vector_env_autoresets_next_step():
    envs = gym.make_vec("racer/TimeTrial-v0", num_envs=4, track="oval", max_steps=10, action_space=SLOW_STRAIGHT)
    assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    obs, info = envs.reset(seed=0)
    assert obs.shape == (4, 120, 160, 1)
    for _step in range(10):
        obs, rewards, terminated, truncated, info = envs.step(np.zeros(4, np.int64))
    assert truncated.all() and not terminated.any()
    obs, rewards, terminated, truncated, info = envs.step(np.zeros(4, np.int64))
    assert (rewards == 0).all() and list(info["episode_status"]) == [episode.PREPARE] * 4
    single = gym.make("racer/TimeTrial-v0", track="oval", action_space=SLOW_STRAIGHT)
    assert envs.single_observation_space == single.observation_space
