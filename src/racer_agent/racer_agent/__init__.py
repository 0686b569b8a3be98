"""Gymnasium env, DeepRacer reward functions, PPO, evaluation and export.

Importing the package registers `racer/TimeTrial-v0`; `gymnasium.make("racer_agent:racer/TimeTrial-v0")`
imports it on demand.
"""

import gymnasium as gym

ENV_ID = "racer/TimeTrial-v0"

if ENV_ID not in gym.registry:
    gym.register(
        id=ENV_ID,
        entry_point="racer_agent.env.time_trial:TimeTrialEnv",
        vector_entry_point="racer_agent.env.vector:TimeTrialVectorEnv",
        disable_env_checker=False,
    )
