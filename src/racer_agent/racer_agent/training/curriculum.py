"""A speed curriculum: learn to steer slowly, then raise the top speed as the cars keep lapping.

At 4 m/s a fresh policy leaves the road at the first corner in nearly every episode and learns
little but "slow is safe"; at 2 m/s it learns to steer within a minute. So training cars start with
the top speed capped at `start` (every action slowed by the same factor, `ActionSpace.limited`, so
the fast action stays the fast one) and the cap rises by `step` after every iteration in which at least
`completion` of the training episodes completed a lap, until the action space's own top speed.
Each stage asks for a little more braking than the last, from a policy that already follows the
road. Evaluation always drives the full action space, so the best checkpoint, the early stop and
the exported model never see the cap.
"""

from __future__ import annotations

from dataclasses import dataclass

START_SPEED = 2.0  # m/s: the speed at which a fresh policy reliably learns to steer
STEP = 0.1  # m/s per iteration that laps often enough
COMPLETION = 0.25  # share of an iteration's training episodes that must complete a lap


@dataclass
class SpeedCurriculum:
    top_speed: float  # the action space's
    cap: float  # the cap now

    @classmethod
    def start(cls, top_speed: float, enabled: bool = True) -> SpeedCurriculum:
        return cls(top_speed, min(START_SPEED, top_speed) if enabled else top_speed)

    @property
    def done(self) -> bool:
        return self.cap >= self.top_speed

    def update(self, completion_rate: float) -> bool:
        """After an iteration: raise the cap if the cars lapped often enough. True when it rose."""
        if self.done or completion_rate < COMPLETION:
            return False
        self.cap = min(self.top_speed, round(self.cap + STEP, 6))
        return True
