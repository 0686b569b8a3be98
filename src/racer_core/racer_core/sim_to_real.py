"""What a real car adds between the picture and the wheels: latency, a slower camera, dropped
frames, and an actuation that is not the calibration's.

A model that laps in simulation often weaves on the real car because the simulator answers at
once and steers exactly as told. Here, per car and drawn anew each episode (`reset_car`):
- the picture the policy acts on is `observation_delay` control periods old;
- the command takes effect `action_delay` periods after it is chosen (until then the previous one
  holds; a car starts still);
- the camera runs at `camera_hz` (the car's is 10-15 fps against 15 Hz control) and loses a frame
  with probability `frame_drop`: the policy then sees the last frame the camera delivered;
- steering is off by an offset and a gain, speed by a gain, within the configured bounds;
- with `stock_mapping`, the command goes through what the stock car's navigation node makes of an
  action (`stock_command`), so an evaluation shows what the car's own software will do with a model.

Everything is batched over the cars (one ring buffer of frames and one of commands), so the
per-step cost is one gather of N frames. Pure numpy: the embedded simulator, ROS and Gazebo
targets get the same effects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

CONTROL_HZ = 15.0


class SimToRealError(ValueError):
    pass


@dataclass(frozen=True)
class SimToReal:
    """Bounds of each effect; an episode draws its own values uniformly within them."""

    observation_delay: tuple[int, int] = (0, 0)  # control periods the picture is old (low, high)
    action_delay: tuple[int, int] = (0, 0)  # control periods before a command takes effect (low, high)
    camera_hz: tuple[float, float] = (CONTROL_HZ, CONTROL_HZ)  # the camera's frame rate (low, high)
    frame_drop: float = 0.0  # chance that a frame the camera takes is lost
    steering_offset_deg: float = 0.0  # offset drawn in [-b, b]
    steering_gain: float = 0.0  # gain drawn in [1 - b, 1 + b]
    speed_gain: float = 0.0  # gain drawn in [1 - b, 1 + b]
    stock_mapping: bool = False  # the stock navigation node's mapping of actions to steering and throttle
    max_speed: float = 4.0  # the action space's top speed (m/s): the stock mapping's full throttle
    max_steering_deg: float = 30.0  # the action space's largest angle: the stock mapping's full lock

    @classmethod
    def from_dict(cls, spec: dict | None) -> SimToReal:
        """From a config's `sim_to_real` block (lists for the ranges); unknown keys are refused."""
        spec = dict(spec or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise SimToRealError(f"sim_to_real has no {', '.join(unknown)} (it has: {', '.join(sorted(known))})")
        for key in ("observation_delay", "action_delay", "camera_hz"):
            if key in spec:
                value = spec[key]
                spec[key] = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
        made = cls(**spec)
        made.check()
        return made

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def check(self) -> None:
        for key in ("observation_delay", "action_delay"):
            low, high = getattr(self, key)
            if not (0 <= low <= high <= 10 and int(low) == low and int(high) == high):
                raise SimToRealError(f"sim_to_real.{key} must be whole periods 0 <= low <= high <= 10, got {low, high}")
        low, high = self.camera_hz
        if not 0 < low <= high <= CONTROL_HZ:
            raise SimToRealError(f"sim_to_real.camera_hz must lie in (0, {CONTROL_HZ}], low <= high, got {low, high}")
        for key in ("frame_drop", "steering_gain", "speed_gain"):
            if not 0.0 <= getattr(self, key) < 1.0:
                raise SimToRealError(f"sim_to_real.{key} must lie in [0, 1), got {getattr(self, key)}")
        if not 0.0 <= self.steering_offset_deg <= 10.0:
            raise SimToRealError(f"sim_to_real.steering_offset_deg must lie in [0, 10], got {self.steering_offset_deg}")

    @property
    def any(self) -> bool:
        return self != SimToReal()


# Defaults of `randomize`. Measured on racer's own model of the car (`racer bench inference`): camera
# Image -> cmd_drive over DDS p99 1.2 ms (RACER_SMALL) to 2.6 ms (the shallow net), far under the
# 66.7 ms control period, so racer's own pipeline adds no period. What it cannot measure here, the
# camera's exposure and transfer and the servo's response, is bounded at one period each; the
# camera at 10-15 fps as the car's is documented, 2 % of frames lost, steering off by up to 2 degrees
# and 10 %, speed by 10 % (a calibration's typical slack, not a measurement).
RANDOMIZED = SimToReal(observation_delay=(0, 1), action_delay=(0, 1), camera_hz=(10.0, 15.0), frame_drop=0.02,
                       steering_offset_deg=2.0, steering_gain=0.1, speed_gain=0.1)
CAR_MAX_STEERING_DEG = 30.0  # the servo's full lock, which the car's calibration maps to +-1
THROTTLE_AT_HALF_SPEED = 0.8  # the stock mapping's throttle curve passes (0, 0), (max/2, 0.8), (max, 1)


def stock_command(commands: np.ndarray, max_steering_deg: float, max_speed: float) -> np.ndarray:
    """What the stock DeepRacer's navigation node does with (steering deg, speed m/s) actions:
    steering divided by the action space's largest angle (so its largest action is the servo's full
    lock, whatever its angle), speed through a throttle curve a x^2 + b x of x = speed / top speed
    that gives 0.8 at half the top speed and 1 at it. Returned as the steering (deg, on a servo whose
    full lock is CAR_MAX_STEERING_DEG) and the speed (m/s, full throttle being the top speed) the
    car then drives, under the calibration's own assumption that full throttle is the top speed."""
    x = np.clip(commands[:, 1] / max_speed, 0.0, 1.0)
    b = 4.0 * THROTTLE_AT_HALF_SPEED - 1.0  # through (0.5, 0.8) and (1, 1): a = 1 - b
    out = np.empty_like(commands)
    out[:, 0] = commands[:, 0] / max(max_steering_deg, 1e-9) * CAR_MAX_STEERING_DEG
    out[:, 1] = ((1.0 - b) * x * x + b * x) * max_speed
    return out


# `racer evaluate --actuation-error`: randomize's bounds
ACTUATION_ERROR = {k: getattr(RANDOMIZED, k) for k in ("steering_offset_deg", "steering_gain", "speed_gain")}


def for_evaluation(latency: int = 0, actuation_error: bool = False, stock_mapping: dict | None = None) -> dict:
    """`racer evaluate --latency N --actuation-error --stock-mapping`: the picture N periods old, the
    randomised actuation's bounds, the stock car's mapping (`{"max_steering_deg", "max_speed"}` of the
    model's action space); none by default (an evaluation judges the model as trained)."""
    return {"observation_delay": [latency, latency], **(ACTUATION_ERROR if actuation_error else {}),
            **({"stock_mapping": True, **stock_mapping} if stock_mapping else {})}


class CarDelays:
    """The effects for N cars: frames in through `observe`, commands out through `act`."""

    def __init__(self, spec: SimToReal, num_cars: int):
        self.spec = spec
        self.n = num_cars
        self.depth = spec.observation_delay[1] + 1
        self.frames: np.ndarray | None = None  # (depth, N, H, W, C) ring of delivered frames
        self.commands = np.zeros((spec.action_delay[1] + 1, num_cars, 2))  # ring of chosen commands
        self.obs_delay = np.zeros(num_cars, np.int64)
        self.act_delay = np.zeros(num_cars, np.int64)
        self.camera_period = np.ones(num_cars)  # control periods per camera frame
        self.camera_phase = np.zeros(num_cars)
        self.steer_offset = np.zeros(num_cars)
        self.steer_gain = np.ones(num_cars)
        self.speed_gain = np.ones(num_cars)
        self.fresh = np.ones(num_cars, bool)  # a new episode: its history is its first frame
        self.frame_t = 0  # frames observed: the frame ring's write position
        self.command_t = 0  # commands chosen: the command ring's write position

    def state_dict(self) -> dict:
        """Every car's draws and both rings: what an exact resume needs (copies)."""
        return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in vars(self).items() if k != "spec"}

    def load_state_dict(self, state: dict) -> None:
        for key, value in state.items():
            setattr(self, key, value.copy() if isinstance(value, np.ndarray) else value)

    def reset_car(self, car: int, rng: np.random.Generator) -> None:
        s = self.spec
        self.obs_delay[car] = rng.integers(s.observation_delay[0], s.observation_delay[1] + 1)
        self.act_delay[car] = rng.integers(s.action_delay[0], s.action_delay[1] + 1)
        self.camera_period[car] = CONTROL_HZ / rng.uniform(*s.camera_hz)
        self.camera_phase[car] = rng.uniform(0.0, self.camera_period[car])
        self.steer_offset[car] = rng.uniform(-s.steering_offset_deg, s.steering_offset_deg)
        self.steer_gain[car] = rng.uniform(1 - s.steering_gain, 1 + s.steering_gain)
        self.speed_gain[car] = rng.uniform(1 - s.speed_gain, 1 + s.speed_gain)
        self.commands[:, car] = 0.0  # nothing chosen yet: the car stands
        self.fresh[car] = True

    def observe(self, rendered: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """What each car's policy sees this period, from what the simulator rendered."""
        if self.frames is None:
            self.frames = np.repeat(rendered[None], self.depth, axis=0)
        slot = self.frame_t % self.depth
        self.camera_phase += 1.0
        taken = self.camera_phase >= self.camera_period
        self.camera_phase[taken] -= self.camera_period[taken]
        if self.spec.frame_drop:
            taken &= rng.random(self.n) >= self.spec.frame_drop
        delivered = taken | self.fresh
        previous = self.frames[(self.frame_t - 1) % self.depth]
        self.frames[slot] = np.where(delivered[:, None, None, None], rendered, previous)
        if self.fresh.any():  # a new episode's past is its first picture
            self.frames[:, self.fresh] = rendered[self.fresh]
            self.fresh[:] = False
        out = self.frames[(self.frame_t - self.obs_delay) % self.depth, np.arange(self.n)]
        self.frame_t += 1
        return out

    def act(self, commands: np.ndarray) -> np.ndarray:
        """The (steering deg, speed) each car's wheels get this period from the commands just chosen."""
        slot = self.command_t % len(self.commands)
        self.commands[slot] = commands
        applied = self.commands[(self.command_t - self.act_delay) % len(self.commands), np.arange(self.n)]
        self.command_t += 1
        if self.spec.stock_mapping:
            applied = stock_command(applied, self.spec.max_steering_deg, self.spec.max_speed)
        out = np.empty_like(applied)
        out[:, 0] = applied[:, 0] * self.steer_gain + self.steer_offset
        out[:, 1] = applied[:, 1] * self.speed_gain
        return out
