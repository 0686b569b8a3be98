"""Policy and value networks over one camera frame.

`DEEP_CONVOLUTIONAL_NETWORK_SHALLOW` reproduces DeepRacer's default layer shapes (for models that
must match the console's); `RACER_SMALL` is racer's CPU-first design: the frame is block-averaged
4x (160x120 -> 40x30, which also anti-aliases the far field) before two small convolutions, since
network cost per sample decides wall-clock time on a laptop and the shallow net's 11,264 x 512
dense layer dominates its cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class Architecture:
    name: str
    downscale: int  # block-average factor applied to the frame first
    convs: tuple[tuple[int, int, int], ...]  # (channels, kernel, stride), VALID padding, ReLU
    dense: int


SHALLOW = Architecture("DEEP_CONVOLUTIONAL_NETWORK_SHALLOW", 1, ((32, 8, 4), (64, 4, 2), (64, 3, 1)), 512)
RACER_SMALL = Architecture("RACER_SMALL", 4, ((16, 4, 2), (32, 3, 2)), 128)
ARCHITECTURES = {a.name: a for a in (SHALLOW, RACER_SMALL)}


def preprocess(frames: torch.Tensor, downscale: int) -> torch.Tensor:
    """uint8 (B, H, W, C) -> float (B, C, H/d, W/d) in [0, 1]."""
    x = frames.permute(0, 3, 1, 2).float().div_(255.0)
    return F.avg_pool2d(x, downscale) if downscale > 1 else x


class Trunk(nn.Module):
    """Convolutions + one dense layer: frame -> feature vector."""

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
        self.dense = nn.Sequential(nn.Linear(flat, arch.dense), nn.ReLU())
        self.features = flat

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dense(self.convs(x))


class ActorCritic(nn.Module):
    """Separate actor and critic trunks, as DeepRacer's clipped PPO has.

    Discrete: the actor outputs logits (B, K). Continuous: means (B, 2) in [-1, 1] (tanh) and a
    learned state-independent log standard deviation.
    """

    def __init__(self, arch: Architecture, frame_shape: tuple[int, int, int], num_actions: int | None):
        super().__init__()
        self.arch = arch
        self.frame_shape = frame_shape
        self.discrete = num_actions is not None
        self.actor_trunk = Trunk(arch, frame_shape)
        self.critic_trunk = Trunk(arch, frame_shape)
        self.actor_head = nn.Linear(arch.dense, num_actions if self.discrete else 2)
        self.critic_head = nn.Linear(arch.dense, 1)
        self.log_std = nn.Parameter(torch.full((2,), -0.5)) if not self.discrete else None
        nn.init.orthogonal_(self.actor_head.weight, 0.01)
        nn.init.zeros_(self.actor_head.bias)

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 frames (B, H, W, C) -> (actor output (B, K or 2), value (B,))."""
        x = preprocess(frames, self.arch.downscale)
        out = self.actor_head(self.actor_trunk(x))
        if not self.discrete:
            out = torch.tanh(out)
        return out, self.critic_head(self.critic_trunk(x)).squeeze(-1)

    def distribution(self, actor_out: torch.Tensor) -> torch.distributions.Distribution:
        if self.discrete:
            return torch.distributions.Categorical(logits=actor_out)
        return torch.distributions.Independent(torch.distributions.Normal(actor_out, self.log_std.exp()), 1)
