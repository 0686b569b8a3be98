"""A client written elsewhere (Stable-Baselines3) trains on the env unchanged, and the benchmark's
peer (SB3 with racer's network) learns what its reward asks for."""

import tempfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import racer_agent  # noqa: F401
from racer_agent.training import config
from racer_agent.training.networks import RACER_SMALL, preprocess

sb3 = pytest.importorskip("stable_baselines3")

LEFT_REWARD = """
def reward_function(params):
    return 1.0 if params["steering_angle"] > 0 else 0.0
"""


def test_sb3_ppo_short_run_completes():
    env = gym.make("racer/TimeTrial-v0", track="oval", max_steps=100)
    model = sb3.PPO("CnnPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu", verbose=0)
    model.learn(total_timesteps=128)
    action, _ = model.predict(env.reset(seed=0)[0], deterministic=True)
    assert env.action_space.contains(int(action))


def test_racer_features_match_racers_preprocessing():
    """SB3 scales by 255 itself; the extractor's block average must then equal racer's own input."""
    from racer_agent.bench.sb3_peer import RacerFeatures

    space = gym.spaces.Box(0.0, 1.0, (1, 120, 160), np.float32)
    features = RacerFeatures(space)
    frames = torch.randint(0, 256, (2, 120, 160, 1), dtype=torch.uint8)
    sb3_input = frames.permute(0, 3, 1, 2).float() / 255.0
    x = torch.nn.functional.avg_pool2d(sb3_input, RACER_SMALL.downscale)
    assert torch.allclose(x, preprocess(frames, RACER_SMALL.downscale), atol=1e-6)
    assert features(sb3_input).shape == (2, RACER_SMALL.dense)


def test_sb3_peer_learns_what_the_reward_asks_for(tmp_path, monkeypatch):
    """On a tiny budget SB3 PPO (racer's network, cars and PPO numbers) must move its greedy policy
    onto the actions the reward pays for: a measurable change, not just a run that ends."""
    from racer_agent.bench import sb3_peer
    from racer_agent.training.greedy_eval import GreedyEvaluation

    reward = tmp_path / "left.py"
    reward.write_text(LEFT_REWARD)
    cfg = config.load(track="oval", reward=str(reward), num_cars=4, steps=6000, eval_every_samples=2000,
                      eval_laps=1, torch_threads=1, seed=0, hyperparameters={"batch_size": 128})
    evaluation = GreedyEvaluation(cfg.tracks, 1, **cfg.race_options())
    frames = np.stack([gym.make("racer/TimeTrial-v0", track="oval", start_offset=f).reset(seed=0)[0]
                       for f in np.linspace(0, 0.9, 8)])
    private_tmp = tmp_path / "tmp"  # this process's temp dir alone: other workers' SB3 runs stay out of it
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    sb3_folders = set(Path(tempfile.gettempdir()).glob("SB3-*"))
    out = sb3_peer.train(cfg, 0.0, evaluation, probe=frames, rollout_samples=256)
    assert set(Path(tempfile.gettempdir()).glob("SB3-*")) == sb3_folders  # the peer leaves no logger folder
    table = np.array(evaluation.races[0].actions.table)
    left = table[:, 0] > 0
    assert out["probe_before"][:, left].sum(1).mean() == pytest.approx(left.mean(), abs=0.05)
    assert out["probe_after"][:, left].sum(1).mean() > 0.8
    assert out["samples"] >= 6000 and out["state"].evaluations >= 2
    assert out["settings"]["n_envs"] == 4 and out["settings"]["policy_kwargs"]["network"] == "RACER_SMALL"


def test_the_peer_sees_a_lap_of_a_loop_as_truncated_so_sb3_bootstraps_it_as_racer_does():
    from racer_agent.bench.sb3_peer import _env

    env = _env(config.load(track="oval"), start_offset=0.0)
    env.reset(seed=0)
    race = env.unwrapped.race
    race.trackers[0].covered = race.track.length  # at the line: the next step completes the lap
    _, _, terminated, truncated, info = env.step(0)
    assert info["episode_status"] == "lap_complete" and (terminated, truncated) == (False, True)
    env.reset(seed=0)
    race.sim.place(0, 100.0, 100.0, 0.0)  # far off the road: that ends everything
    _, _, terminated, truncated, info = env.step(0)
    assert info["episode_status"] == "off_track" and (terminated, truncated) == (True, False)
