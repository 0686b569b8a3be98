"""Policy and value networks over one camera frame, built from the layer shapes in architectures.py."""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

from racer_agent.training.architectures import ARCHITECTURES, FIVE_LAYER, RACER_SMALL, SHALLOW, Architecture

__all__ = ["ARCHITECTURES", "FIVE_LAYER", "RACER_SMALL", "SHALLOW", "ActorCritic", "Architecture", "Trunk",
           "preprocess"]


def preprocess(frames: torch.Tensor, downscale: int) -> torch.Tensor:
    """uint8 (or raw-valued float) (B, H, W, C) -> float (B, C, H/d, W/d) in [0, 1].

    Block sums in integers first: converting the small downscaled image to float is cheaper than
    converting every pixel (this runs once per collected frame).
    """
    b, h, w, c = frames.shape
    d = downscale
    blocks = frames.reshape(b, h // d, d, w // d, d, c)
    summed = blocks.sum((2, 4), dtype=torch.int32) if not frames.is_floating_point() else blocks.sum((2, 4))
    return summed.permute(0, 3, 1, 2).float() * (1.0 / (255.0 * d * d))


class Trunk(nn.Module):
    """Convolutions, then dense layers (`hidden`, then `dense`): frame -> feature vector."""

    def __init__(self, arch: Architecture, frame_shape: tuple[int, int, int]):
        super().__init__()
        h, w, c = frame_shape
        layers: list[nn.Module] = []
        for channels, kernel, stride in arch.convs:
            layers += [nn.Conv2d(c, channels, kernel, stride), nn.ReLU()]
            c = channels
        self.convs = nn.Sequential(*layers, nn.Flatten())
        with torch.no_grad():
            flat = self.convs(torch.zeros(1, frame_shape[2], h // arch.downscale, w // arch.downscale)).shape[1]
        widths = (flat, *arch.hidden, arch.dense)
        self.dense = nn.Sequential(*(layer for n_in, n_out in pairwise(widths)
                                     for layer in (nn.Linear(n_in, n_out), nn.ReLU())))
        self.features = flat

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(self.convs(x))


class ActorCritic(nn.Module):
    """Actor and critic heads over separate trunks (as DeepRacer's clipped PPO has) or one shared
    trunk (racer's small net: the value loss then teaches the features the policy needs too).

    Discrete: the actor outputs logits (B, K). Continuous: means (B, 2) in [-1, 1] (tanh) and a
    learned state-independent log standard deviation.
    """

    def __init__(self, arch: Architecture, frame_shape: tuple[int, int, int], num_actions: int | None):
        super().__init__()
        self.arch = arch
        self.frame_shape = frame_shape
        self.discrete = num_actions is not None
        self.actor_trunk = Trunk(arch, frame_shape)
        self.critic_trunk = self.actor_trunk if arch.shared_trunk else Trunk(arch, frame_shape)
        self.actor_head = nn.Linear(arch.dense, num_actions if self.discrete else 2)
        self.critic_head = nn.Linear(arch.dense, 1)
        self.log_std = nn.Parameter(torch.full((2,), -0.5)) if not self.discrete else None
        nn.init.orthogonal_(self.actor_head.weight, 0.01)
        nn.init.zeros_(self.actor_head.bias)

    def prepare(self, frames: torch.Tensor) -> torch.Tensor:
        """Camera frames (B, H, W, C) -> network input (B, C, h, w); done once per frame in training."""
        return preprocess(frames, self.arch.downscale)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Prepared input (B, C, h, w) -> (actor output (B, K or 2), value (B,))."""
        if self.arch.shared_trunk:
            features = self.actor_trunk(x)
            return self._head(self.actor_head(features)), self.critic_head(features).squeeze(-1)
        return self._actor(x), self.critic_head(self.critic_trunk(x)).squeeze(-1)

    def actor(self, frames: torch.Tensor) -> torch.Tensor:
        """Actor output only (what driving needs): logits (B, K) or means (B, 2)."""
        return self._actor(preprocess(frames, self.arch.downscale))

    def _actor(self, x: torch.Tensor) -> torch.Tensor:
        return self._head(self.actor_head(self.actor_trunk(x)))

    def _head(self, out: torch.Tensor) -> torch.Tensor:
        return out if self.discrete else torch.tanh(out)

    def greedy(self, actor_out: torch.Tensor) -> torch.Tensor:
        """DeepRacer's evaluation action: argmax (discrete) or the mean (continuous)."""
        return actor_out.argmax(-1) if self.discrete else actor_out

    def distribution(self, actor_out: torch.Tensor) -> torch.distributions.Distribution:
        if self.discrete:
            return torch.distributions.Categorical(logits=actor_out)
        return torch.distributions.Independent(torch.distributions.Normal(actor_out, self.log_std.exp()), 1)
