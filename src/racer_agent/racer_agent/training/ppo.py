"""Clipped PPO: one optimisation phase over a finished rollout.

The constants are the ones DeepRacer fixes (clip 0.2, GAE lambda 0.95, Adam eps 1e-5, standardised
advantages); the tunable numbers come from `Hyperparameters` under DeepRacer's names.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from racer_agent.training.config import Hyperparameters
from racer_agent.training.networks import ActorCritic

CLIP_EPSILON = 0.2
GAE_LAMBDA = 0.95
ADAM_EPS = 1e-5
VALUE_COEF = 0.5
MAX_GRAD_NORM = 0.5


class NaNLossError(RuntimeError):
    """The loss became NaN or infinite; DeepRacer aborts training here, and so do we."""


@dataclass
class Batch:
    """S usable samples, flattened from (T steps, N cars) with the autoreset steps removed."""

    frames: torch.Tensor  # (S, C, h, w) network input (ActorCritic.prepare)
    actions: torch.Tensor  # (S,) int64 or (S, 2) float
    logprobs: torch.Tensor  # (S,)
    values: torch.Tensor  # (S,)
    advantages: torch.Tensor  # (S,)
    returns: torch.Tensor  # (S,)

    def __len__(self) -> int:
        return self.frames.shape[0]


def make_optimizer(model: ActorCritic, hp: Hyperparameters) -> torch.optim.Adam:
    return torch.optim.Adam(model.parameters(), lr=hp.lr, eps=ADAM_EPS)


def update(model: ActorCritic, optimizer: torch.optim.Optimizer, batch: Batch, hp: Hyperparameters,
           generator: torch.Generator) -> dict[str, float]:
    """`num_epochs` passes of minibatch gradient steps; returns the last epoch's mean losses."""
    size = len(batch)
    minibatch = min(hp.batch_size, size)
    stats: dict[str, list[float]] = {"policy_loss": [], "value_loss": [], "entropy": [], "approx_kl": [],
                                     "clip_fraction": []}
    for _epoch in range(hp.num_epochs):
        for k in stats.values():
            k.clear()
        order = torch.randperm(size, generator=generator)
        for start in range(0, size - minibatch + 1, minibatch):
            idx = order[start:start + minibatch]  # (B,)
            actor_out, values = model(batch.frames[idx])  # (B, K|2), (B,)
            dist = model.distribution(actor_out)
            logprobs = dist.log_prob(batch.actions[idx])  # (B,)
            entropy = dist.entropy().mean()

            adv = batch.advantages[idx]
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            log_ratio = logprobs - batch.logprobs[idx]
            ratio = log_ratio.exp()
            policy_loss = torch.max(-adv * ratio,
                                    -adv * ratio.clamp(1.0 - CLIP_EPSILON, 1.0 + CLIP_EPSILON)).mean()
            value_loss = _value_loss(values, batch.returns[idx], hp.loss_type)
            loss = policy_loss + VALUE_COEF * value_loss - hp.beta_entropy * entropy
            if not torch.isfinite(loss):
                raise NaNLossError(f"PPO loss is {loss.item()} (policy {policy_loss.item()}, value "
                                   f"{value_loss.item()}, entropy {entropy.item()}); training stopped")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
            optimizer.step()

            with torch.no_grad():
                stats["policy_loss"].append(policy_loss.item())
                stats["value_loss"].append(value_loss.item())
                stats["entropy"].append(entropy.item())
                stats["approx_kl"].append(((ratio - 1) - log_ratio).mean().item())
                stats["clip_fraction"].append(((ratio - 1.0).abs() > CLIP_EPSILON).float().mean().item())
    return {k: sum(v) / max(len(v), 1) for k, v in stats.items()}


def _value_loss(values: torch.Tensor, returns: torch.Tensor, loss_type: str) -> torch.Tensor:
    if loss_type == "huber":
        return F.huber_loss(values, returns)
    return F.mse_loss(values, returns)
