"""A client written elsewhere (Stable-Baselines3) trains on the env unchanged."""

import gymnasium as gym
import pytest

import racer_agent  # noqa: F401

sb3 = pytest.importorskip("stable_baselines3")


def test_sb3_ppo_short_run_completes():
    env = gym.make("racer/TimeTrial-v0", track="oval", max_steps=100)
    model = sb3.PPO("CnnPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0, device="cpu", verbose=0)
    model.learn(total_timesteps=128)
    action, _ = model.predict(env.reset(seed=0)[0], deterministic=True)
    assert env.action_space.contains(int(action))
