"""Stable-Baselines3 PPO set up as racer's own trainer is, for a race that measures the algorithm.

Same network and preprocessing (racer's trunk as an SB3 features extractor over SB3's own /255
scaling, linear heads), the same speed curriculum, the same number of cars with the same spread of
round-robin starts, the same bootstrap at the end of a lap, the same PPO numbers wherever SB3 has
them, the same greedy evaluation on the same sample schedule, the same early stop, and the same
checkpoint selection (the best evaluation's weights are kept and judged). What stays SB3's: its
rollout of a fixed `n_steps` per car (racer collects until enough episodes end), its MSE value loss
(racer's default is DeepRacer's Huber), and its entropy coefficient default, which the benchmark
runs beside racer's.
"""

from __future__ import annotations

import copy
import time

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.vec_env import DummyVecEnv
from torch.nn import functional as F

import racer_agent  # noqa: F401  (registers the env)
from racer_agent.env.actions import ActionSpace
from racer_agent.env.episode import LAP_COMPLETE, drives_on
from racer_agent.training import ppo
from racer_agent.training.config import TrainConfig, threads_allowed
from racer_agent.training.curriculum import SpeedCurriculum
from racer_agent.training.greedy_eval import EvalState, GreedyEvaluation
from racer_agent.training.networks import ARCHITECTURES, Trunk

SB3_DEFAULT_ENT_COEF = 0.0  # stable_baselines3.PPO's documented default
ROLLOUT_SAMPLES = 2048  # per update, about what racer's 40 episodes give early on circuit


class RacerFeatures(BaseFeaturesExtractor):
    """racer's trunk on SB3's channel-first, already-scaled frames: block average, convs, dense."""

    def __init__(self, observation_space: gym.spaces.Box, network: str = "RACER_SMALL"):
        arch = ARCHITECTURES[network]
        super().__init__(observation_space, arch.dense)
        c, h, w = observation_space.shape
        self.downscale = arch.downscale
        self.trunk = Trunk(arch, (h, w, c))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) in [0, 1]
        x = F.avg_pool2d(obs, self.downscale) if self.downscale > 1 else obs
        return self.trunk(x)


def settings(cfg: TrainConfig, ent_coef: float, rollout_samples: int = ROLLOUT_SAMPLES) -> dict:
    """The SB3 PPO arguments for a racer config, printed with the benchmark's results."""
    hp = cfg.hyperparameters
    arch = ARCHITECTURES[cfg.network]
    continuous = ActionSpace.from_spec(cfg.actions).kind == "continuous"
    return {"policy": "CnnPolicy", "n_envs": cfg.num_cars, "n_steps": max(1, rollout_samples // cfg.num_cars),
            "batch_size": hp.batch_size, "n_epochs": hp.num_epochs, "learning_rate": hp.lr,
            "gamma": hp.discount_factor, "gae_lambda": ppo.GAE_LAMBDA, "clip_range": ppo.CLIP_EPSILON,
            "ent_coef": ent_coef, "vf_coef": ppo.VALUE_COEF, "max_grad_norm": ppo.MAX_GRAD_NORM,
            "policy_kwargs": {"features_extractor_class": "RacerFeatures", "network": cfg.network, "net_arch": [],
                              "share_features_extractor": arch.shared_trunk,
                              **({"log_std_init": -0.5} if continuous else {})}}  # racer's initial std


class LapDrivesOn(gym.Wrapper):
    """A completed lap of a loop reported as truncated, so SB3 bootstraps it as racer's trainer does
    (SB3 bootstraps what the env truncates, racer decides in its rollout)."""

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated and drives_on(info["episode_status"], self.env.unwrapped.race.track.closed):
            terminated, truncated = False, True
        return obs, reward, terminated, truncated, info


def _env(cfg: TrainConfig, start_offset: float) -> gym.Env:
    return LapDrivesOn(gym.make("racer/TimeTrial-v0", track=cfg.tracks[0], direction=cfg.direction,
                                start_offset=start_offset, **cfg.race_options()))


def action_probabilities(model: PPO, frames: np.ndarray) -> np.ndarray:
    """(B, K) probabilities of a discrete policy on camera frames (B, H, W, C)."""
    with torch.no_grad():
        obs, _ = model.policy.obs_to_tensor(frames)
        return model.policy.get_distribution(obs).distribution.probs.numpy()


def train(cfg: TrainConfig, ent_coef: float, evaluation: GreedyEvaluation, probe: np.ndarray | None = None,
          rollout_samples: int = ROLLOUT_SAMPLES) -> dict:
    """Train SB3 PPO under racer's budget and early stop; returns the eval state and the best policy's
    verdict. With `probe` frames (discrete actions), also the action probabilities on them before and
    after learning (before the best weights are put back), which is what the tests measure."""
    torch.set_num_threads(threads_allowed(cfg.torch_threads))
    n = cfg.num_cars
    env = DummyVecEnv([lambda i=i: _env(cfg, i / n) for i in range(n)])
    env.seed(cfg.seed)
    args = settings(cfg, ent_coef, rollout_samples)
    kwargs = dict(args["policy_kwargs"])
    kwargs["features_extractor_class"] = RacerFeatures
    kwargs["features_extractor_kwargs"] = {"network": kwargs.pop("network")}
    model = PPO(args["policy"], env, n_steps=args["n_steps"], batch_size=args["batch_size"],
                n_epochs=args["n_epochs"], learning_rate=args["learning_rate"], gamma=args["gamma"],
                gae_lambda=args["gae_lambda"], clip_range=args["clip_range"], ent_coef=ent_coef,
                vf_coef=args["vf_coef"], max_grad_norm=args["max_grad_norm"], policy_kwargs=kwargs,
                seed=cfg.seed, device="cpu", verbose=0)
    model.set_logger(Logger(folder=None, output_formats=[]))  # SB3's default logger leaves a /tmp/SB3-* folder per run
    races = [e.unwrapped.race for e in env.envs]
    curriculum = SpeedCurriculum.start(races[0].full_actions.max_speed, cfg.speed_curriculum)

    def apply_cap() -> None:
        for race in races:
            race.limit_speed(None if curriculum.done else curriculum.cap)

    apply_cap()
    state = EvalState()
    start = time.perf_counter()
    kept = {"weights": copy.deepcopy(model.policy.state_dict()), "last_eval": 0, "stopped": "time budget"}
    ended: list[str] = []  # statuses of the episodes that ended in this rollout

    def policy(frames):
        return model.predict(frames, deterministic=True)[0]

    class Schedule(BaseCallback):
        def _on_rollout_end(self) -> None:  # racer raises its cap after an iteration; this is SB3's
            if ended and curriculum.update(sum(s == LAP_COMPLETE for s in ended) / len(ended)):
                apply_cap()
            ended.clear()

        def _on_step(self) -> bool:
            ended.extend(info["episode_status"] for info, done in zip(self.locals["infos"], self.locals["dones"],
                                                                       strict=True) if done)
            wall = time.perf_counter() - start
            samples = self.num_timesteps
            if samples - kept["last_eval"] >= cfg.eval_every_samples:
                kept["last_eval"] = samples
                if evaluation.run(policy, state, samples, wall).best:
                    kept["weights"] = copy.deepcopy(model.policy.state_dict())
                if evaluation.converged(state, cfg.patience_evals):
                    kept["stopped"] = "converged"
                    return False
            if cfg.steps is not None and samples >= cfg.steps:
                kept["stopped"] = "step budget"
                return False
            return wall < cfg.minutes * 60

    probed = {"probe_before": action_probabilities(model, probe)} if probe is not None else {}
    model.learn(total_timesteps=10**12, callback=Schedule())
    wall = time.perf_counter() - start
    if probe is not None:
        probed["probe_after"] = action_probabilities(model, probe)
    model.policy.load_state_dict(kept["weights"])
    final = evaluation.run(policy, EvalState(), model.num_timesteps, wall)
    env.close()
    return {"state": state, "final": final.summary, "samples": int(model.num_timesteps), "wall_s": wall,
            "speed_cap": curriculum.cap,
            "stopped": kept["stopped"], "settings": args, **probed}
