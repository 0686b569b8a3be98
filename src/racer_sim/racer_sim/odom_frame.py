"""REP-105 for a simulator that teleports its car: `odom` stays continuous, and the `map -> odom`
transform absorbs every jump a reset makes. Poses are planar (x, y, yaw)."""

from __future__ import annotations

import math

Pose2D = tuple[float, float, float]


def compose(a: Pose2D, b: Pose2D) -> Pose2D:
    """a * b: the pose b, given in frame a, expressed in a's parent frame."""
    c, s = math.cos(a[2]), math.sin(a[2])
    return a[0] + c * b[0] - s * b[1], a[1] + s * b[0] + c * b[1], math.remainder(a[2] + b[2], math.tau)


def inverse(a: Pose2D) -> Pose2D:
    c, s = math.cos(a[2]), math.sin(a[2])
    return -c * a[0] - s * a[1], s * a[0] - c * a[1], math.remainder(-a[2], math.tau)


class OdomFrame:
    """Where `odom` sits in `map`. Until the first teleport the two coincide."""

    def __init__(self) -> None:
        self.map_to_odom: Pose2D = (0.0, 0.0, 0.0)

    def to_odom(self, map_pose: Pose2D) -> Pose2D:
        return compose(inverse(self.map_to_odom), map_pose)

    def teleport(self, before: Pose2D, after: Pose2D) -> None:
        """The car jumps from `before` to `after` (map poses); its odom pose stays where it was."""
        self.map_to_odom = compose(after, inverse(self.to_odom(before)))
