"""The networks a run can ask for, by the names model_metadata.json's `neural_network` uses.

Layer shapes only, no torch: the option table (`racer train --network`, the train node's
parameter, the launch argument) offers these names without loading the learner.

`DEEP_CONVOLUTIONAL_NETWORK_SHALLOW` (DeepRacer's default, 3 convolutions) and
`DEEP_CONVOLUTIONAL_NETWORK` (its "5-layer": 4 convolutions, dense 64 then 512) reproduce the
console's layer shapes, for models that must match the console's; `RACER_SMALL` is racer's CPU-first
design: the frame is block-averaged 4x (160x120 -> 40x30, which also anti-aliases the far field)
before two small convolutions, since network cost per sample decides wall-clock time on a laptop and
the shallow net's 11,264 x 512 dense layer dominates its cost.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Architecture:
    name: str
    downscale: int  # block-average factor applied to the frame first
    convs: tuple[tuple[int, int, int], ...]  # (channels, kernel, stride), VALID padding, ReLU
    dense: int  # the feature vector the heads read
    shared_trunk: bool = False  # one trunk for actor and critic (value regression shapes the features)
    hidden: tuple[int, ...] = ()  # dense layers (ReLU) between the convolutions and `dense`


SHALLOW = Architecture("DEEP_CONVOLUTIONAL_NETWORK_SHALLOW", 1, ((32, 8, 4), (64, 4, 2), (64, 3, 1)), 512)
FIVE_LAYER = Architecture("DEEP_CONVOLUTIONAL_NETWORK", 1, ((32, 5, 2), (32, 3, 1), (64, 3, 2), (64, 3, 1)), 512,
                          hidden=(64,))
RACER_SMALL = Architecture("RACER_SMALL", 4, ((16, 8, 4), (32, 4, 2)), 256, shared_trunk=True)
ARCHITECTURES = {a.name: a for a in (SHALLOW, FIVE_LAYER, RACER_SMALL)}
