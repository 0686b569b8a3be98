"""The per-step log in DeepRacer's sim-trace format, read back by the community's own loader
(deepracer-utils from PyPI) and checked against racer's episodes.csv and the env's lap times."""

import csv
import logging

import gymnasium as gym
import numpy as np
import pytest
from deepracer.logs import AnalysisUtils, DeepRacerLog

from racer_agent.env import episode, simtrace
from racer_agent.evaluation.scripted import CentreLineDriver
from racer_agent.training import config
from racer_agent.training.run_directory import read_values
from racer_agent.training.trainer import Trainer

logging.getLogger("deepracer").setLevel(logging.ERROR)  # it warns about files a racer run lays out otherwise


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    cfg = config.load(track="oval", num_cars=4, eval_laps=1, eval_every_samples=10**9, steps=900, torch_threads=1,
                      max_steps=60, hyperparameters={"num_episodes_between_training": 4, "batch_size": 128})
    Trainer(cfg, out, show_progress=False).train()
    return out


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_training_writes_every_step_under_episodes_csv_numbers(trained):
    files = sorted((trained / simtrace.TRAINING_FOLDER).glob("*-iteration.csv"),
                   key=lambda p: int(p.name.split("-")[0]))
    iterations = read_values(trained / "metrics" / "iterations.csv")
    assert [f.name for f in files] == [f"{k}-iteration.csv" for k in range(len(iterations))]
    with open(files[0], newline="") as f:
        assert tuple(next(csv.reader(f))) == simtrace.COLUMNS + simtrace.RACER_COLUMNS
    episodes = [r for r in read_values(trained / "metrics" / "episodes.csv") if r["phase"] == "train"]
    for k, path in enumerate(files):
        rows = _rows(path)
        ended = [e for e in episodes if e["iteration"] == k + 1]
        assert sorted({int(r["episode"]) for r in rows}) == [e["episode"] for e in ended]
        for e in ended:
            mine = [r for r in rows if int(r["episode"]) == e["episode"]]
            assert len(mine) == e["steps"]  # one row per step the policy drove
            assert mine[0]["episode_status"] == episode.PREPARE
            assert [r["done"] for r in mine] == ["False"] * (len(mine) - 1) + ["True"]
            assert mine[-1]["episode_status"] == e["status"]
            assert float(mine[-1]["progress"]) == pytest.approx(e["progress"], abs=1e-4)
            assert {int(r["car"]) for r in mine} == {e["car"]} and {r["track"] for r in mine} == {"oval"}
            steps = [int(r["steps"]) for r in mine]
            assert steps == list(range(steps[0], steps[0] + len(mine)))
            tstamp = np.array([float(r["tstamp"]) for r in mine])
            assert np.allclose(np.diff(tstamp), 1 / 15)  # the simulation clock, one control period a step


def test_deepracer_utils_loads_a_racer_run_as_a_deepracer_for_cloud_model(trained):
    log = DeepRacerLog(str(trained))
    assert log.fh.type.name == "DRFC_MODEL_SINGLE_WORKERS"
    log.load_training_trace()
    # its unique_episode assumes every iteration holds as many episodes as the first; racer's hold
    # num_episodes_between_training or a few more, so episodes are taken by (iteration, episode)
    df = log.dataframe().sort_values(["iteration", "episode", "steps"])
    agg = AnalysisUtils.simulation_agg(df)
    episodes = {e["episode"]: e for e in read_values(trained / "metrics" / "episodes.csv") if e["phase"] == "train"}
    assert sorted(agg["episode"]) == sorted(episodes)
    for _, row in agg.iterrows():
        e = episodes[int(row["episode"])]
        assert row["iteration"] == e["iteration"] - 1  # DeepRacer counts iterations from 0
        assert row["progress"] >= e["progress"] - 1e-4  # its progress is the episode's best, ours the last
        assert row["steps"] == e["steps"]  # rows per episode
        if e["status"] == "lap_complete":
            assert row["time"] == pytest.approx(e["lap_time_s"], abs=1e-4)  # episodes.csv: 6 digits


def test_deepracer_utils_lap_times_equal_the_envs(tmp_path):
    """Completed laps (a scripted driver round the oval): the loader's episode time is the lap time."""
    env = gym.make_vec("racer/TimeTrial-v0", num_envs=2, track="oval")
    race = env.unwrapped.race
    driver = CentreLineDriver(race.actions, speed=1.5)
    trace = simtrace.EpisodeSteps([0, 1], ["oval", "oval"])
    _, info = env.reset(seed=0)
    params, laps, ended = info["params"], {}, []
    while len(laps) < 5:
        actions = np.array([driver(p) if p is not None else 0 for p in params])
        _, rewards, term, trunc, info = env.step(actions)
        trace.record(info["params"], actions, rewards, info["episode_status"], info["measured_speed"])
        params = info["params"]
        for car in np.nonzero(term | trunc)[0]:
            assert info["episode_status"][car] == episode.LAP_COMPLETE
            laps[len(ended)] = float(info["lap_time"][car])
            ended.append((len(ended), trace.end(car)))
    env.close()
    # two iterations, the second with more episodes than the first (as racer's can have)
    simtrace.write_iteration(tmp_path / simtrace.TRAINING_FOLDER, 0, ended[:2])
    simtrace.write_iteration(tmp_path / simtrace.TRAINING_FOLDER, 1, ended[2:5])
    log = DeepRacerLog(str(tmp_path))
    log.load_training_trace(ignore_metadata=True)
    agg = AnalysisUtils.simulation_agg(log.dataframe().sort_values(["iteration", "episode", "steps"]))
    assert list(agg["progress"]) == [100.0] * 5 and list(agg["iteration"]) == [0, 0, 1, 1, 1]
    for _, row in agg.iterrows():
        assert row["time"] == pytest.approx(laps[int(row["episode"])], abs=1e-6), row
    speeds = log.dataframe()["measured_speed"]
    assert speeds.iloc[0] == 0.0 and speeds.max() > 1.0  # from standing, up to the driver's speed
