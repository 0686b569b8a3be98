"""Generalised advantage estimation for rollouts from many cars, with DeepRacer's step cap in mind.

Two ways an episode ends, treated differently (a detail famous implementations get wrong):
- terminated (off track, reversed, immobilised): the future is worth nothing, the value is zeroed;
- truncated (the step cap, and a completed lap of a loop, rollout.py): the car could have driven
  on, so the value of the state it reached is bootstrapped, even though the next observation the
  env returns belongs to a new episode.
"""

from __future__ import annotations

import torch


def gae(rewards: torch.Tensor, values: torch.Tensor, next_values: torch.Tensor, terminated: torch.Tensor,
        ended: torch.Tensor, gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns, all tensors (T, N) for T steps of N cars.

    `values[t]` is V(s_t); `next_values[t]` is V(s_{t+1}) of the state step t led to (for a
    truncated step, the final state of that episode, not the next episode's first); `terminated[t]`
    marks a true end (no bootstrap); `ended[t]` marks any end (terminated or truncated), which stops
    the advantage from leaking across episodes.
    """
    steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in reversed(range(steps)):
        bootstrap = next_values[t] * (1.0 - terminated[t].float())
        delta = rewards[t] + gamma * bootstrap - values[t]
        running = delta + gamma * lam * (1.0 - ended[t].float()) * running
        advantages[t] = running
    return advantages, advantages + values
