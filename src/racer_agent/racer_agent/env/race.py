"""A race for N cars at once: the embedded simulator plus DeepRacer's rules and rewards.

A time trial, or with `RaceConfig.objects` an object-avoidance or head-to-bot race: each car drives
its own episode with its own obstacles and bots (`racer_core.objects_on_track`), sees them in its
camera, crashes into them and gets their reward params.

`TimeTrialEnv` (one car) and `TimeTrialVectorEnv` (many cars, one batched render) are thin
Gymnasium faces over this class, so both follow exactly the same rules.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from racer_agent.env import episode
from racer_agent.env.actions import ActionSpace
from racer_agent.env.episode import EpisodeTracker
from racer_agent.env.reward_function import RewardFunction
from racer_agent.env.reward_params import ParamsBuilder
from racer_core import simulator as sim_cols
from racer_core.builtin_tracks import load as load_track
from racer_core.camera import CameraConfig, camera_from
from racer_core.objects import RESET_BEHIND, RaceObjects
from racer_core.objects_on_track import ObjectsOnTrack
from racer_core.scenery import Look
from racer_core.sim_to_real import RANDOMIZED, CarDelays, SimToReal
from racer_core.simulator import Simulator, SimulatorControl
from racer_core.topdown import TopDownView
from racer_core.track import Track

DIRECTIONS = episode.DIRECTIONS
STARTS = ("round_robin", "start_line")


@dataclass
class RaceConfig:
    """Everything that defines the task, with DeepRacer's defaults."""

    track: object = "circuit"  # built-in name, route-file path or Track
    reward_function: object = None  # callable or file; None = racer's default
    action_space: object = None  # model_metadata action_space (list/dict/path); None = default
    camera: object = "deepracer_car"  # preset name, CameraConfig, or dict of CameraConfig fields
    max_steps: int = 2000  # step() calls per episode before truncation (status time_up)
    direction: str = "forward"
    start: str = "round_robin"
    round_robin_advance: float = 0.05  # fraction of the track the start moves per episode
    start_offset: float = 0.0  # fraction of the track added to every round-robin start (spreads one-car envs)
    randomize: bool = False  # per-episode domain randomisation of the look and camera mount
    objects: object = None  # RaceObjects, or a dict of its keys (race_type, number_of_obstacles, ...); None: time trial
    sim_to_real: object = None  # SimToReal or a dict of its keys (latency, camera rate, actuation error); None: with
    # `randomize`, racer_core.sim_to_real.RANDOMIZED, else none

    def sim_to_real_spec(self) -> SimToReal:
        if isinstance(self.sim_to_real, SimToReal):
            return self.sim_to_real
        if self.sim_to_real is None:
            return RANDOMIZED if self.randomize else SimToReal()
        return SimToReal.from_dict(self.sim_to_real)

    def race_objects(self) -> RaceObjects:
        return self.objects if isinstance(self.objects, RaceObjects) else RaceObjects.from_dict(self.objects)

    def camera_config(self) -> CameraConfig:
        if isinstance(self.camera, CameraConfig):
            return self.camera
        if isinstance(self.camera, dict):
            spec = dict(self.camera)
            return camera_from(spec.pop("preset", "deepracer_car"), **spec)
        return camera_from(str(self.camera))


SimulatorFactory = Callable[[Track, int, CameraConfig], SimulatorControl]


class Race:
    """N cars on one track, each in its own episode.

    `simulator` builds what moves the cars and takes their pictures: the embedded simulator by
    default, or any other implementation of `SimulatorControl` (a ROS or Gazebo simulator).
    """

    def __init__(self, config: RaceConfig, num_cars: int = 1, simulator: SimulatorFactory | None = None):
        if config.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {config.direction!r}")
        if config.start not in STARTS:
            raise ValueError(f"start must be one of {STARTS}, got {config.start!r}")
        self.config = config
        self.num_cars = num_cars
        self.track = load_track(config.track)
        self.camera = config.camera_config()
        self.full_actions = ActionSpace.from_spec(config.action_space)
        self.actions = self.full_actions  # what the cars drive: the full space, or a curriculum's stage of it
        self.reward_function = RewardFunction.load(config.reward_function)
        self.reward_functions = [self.reward_function.for_one_car() for _ in range(num_cars)]
        self.sim: SimulatorControl = (simulator or Simulator)(self.track, num_cars, self.camera)
        self.params = ParamsBuilder(self.track)
        self.race_objects = config.race_objects()
        self.race_objects.check(self.track.length)
        # each car's own obstacles and bots (none in a time trial)
        self.objects = ([ObjectsOnTrack(self.race_objects, self.track) for _ in range(num_cars)]
                        if self.race_objects.any else [])
        self.hit = np.full(num_cars, -1)  # the object each car ran into at its last judged step, or -1
        spec = config.sim_to_real_spec()
        self.delays = CarDelays(spec, num_cars) if spec.any else None  # latency and actuation error, if any
        self.frames = self.sim.frames  # what the cars' policies see (rendered, or as late as the camera delivers)
        self.trackers = [EpisodeTracker(self.track.length, self.track.closed) for _ in range(num_cars)]
        self.reversed = np.zeros(num_cars, bool)
        self.episodes = np.zeros(num_cars, np.int64)  # episodes started per car
        self.sim_time = np.zeros(num_cars)  # sim seconds each car has driven since the race began (params' sim_time)
        self.paths: list[list[tuple[float, float]]] = [[] for _ in range(num_cars)]
        self.rng = np.random.default_rng()
        self._view: TopDownView | None = None

    def state_dict(self) -> dict:
        """The episodes, random numbers, reward functions' memory and the simulator's cars (what an
        exact resume needs; the driven paths only draw pictures): copies."""
        return copy.deepcopy({"reversed": self.reversed, "episodes": self.episodes, "sim_time": self.sim_time,
                              "rng": self.rng, "trackers": self.trackers,
                              "rewards": [f.state_dict() for f in self.reward_functions],
                              "objects": [o.state_dict() for o in self.objects], "hit": self.hit,
                              "delays": self.delays.state_dict() if self.delays else None,
                              "sim": self.sim.state_dict()})

    def load_state_dict(self, state: dict) -> None:
        state = copy.deepcopy(state)
        self.reversed[...] = state["reversed"]
        self.episodes[...] = state["episodes"]
        self.sim_time[...] = state["sim_time"]
        self.rng, self.trackers = state["rng"], state["trackers"]
        for f, saved in zip(self.reward_functions, state["rewards"], strict=True):
            f.load_state_dict(saved)
        for o, saved in zip(self.objects, state.get("objects", []), strict=True):
            o.load_state_dict(saved)
        self.hit[...] = state.get("hit", -1)
        if self.delays is not None and state.get("delays") is not None:
            self.delays.load_state_dict(state["delays"])
        self.sim.load_state_dict(state["sim"])

    def limit_speed(self, top_speed: float | None) -> None:
        """Drive the action space with no speed above `top_speed` (None: the full space)."""
        self.actions = self.full_actions if top_speed is None else self.full_actions.limited(top_speed)

    def seed(self, seed: int | None) -> None:
        self.rng = np.random.default_rng(seed)
        self.episodes[:] = 0
        self.sim_time[:] = 0.0  # a seeded reset starts the race's clock again, so it repeats exactly

    # --------------------------------------------------------------------------- episodes
    def reset_car(self, car: int, start_fraction: float | None = None, reverse: bool | None = None) -> None:
        """Begin a new episode for one car (DeepRacer's round-robin start unless told otherwise)."""
        cfg = self.config
        n = self.episodes[car]
        if reverse is None:
            reverse = cfg.direction == "reverse" or (cfg.direction == "alternate" and n % 2 == 1)
        if start_fraction is None:
            start_fraction = 0.0
            if cfg.start == "round_robin":
                start_fraction = (cfg.start_offset + car / self.num_cars + n * cfg.round_robin_advance) % 1.0
        self.episodes[car] += 1
        self.reversed[car] = reverse
        if not self.track.closed:
            start_fraction = min(start_fraction, 0.9)
        start = start_fraction * self.track.length
        lateral = 0.0
        if self.objects:
            self.objects[car].reset(self.rng, reverse)
            lateral = self.objects[car].start_lateral(start)
            self.sim.set_objects(car, self.objects[car].boxes())
        self._place(car, start, lateral)
        self.hit[car] = -1
        if self.delays is not None:
            self.delays.reset_car(car, self.rng)
        if cfg.randomize:
            self.sim.set_look(car, Look.random(self.rng), self.camera.jittered(self.rng))
        m = self.sim.measure(car)
        self.trackers[car].reset(start, self._driving_along(car, m), (m[sim_cols.FRONT_X], m[sim_cols.FRONT_Y]))
        self.paths[car] = [(float(self.sim.state[car, 0]), float(self.sim.state[car, 1]))]

    def recover_car(self, car: int) -> None:
        """Put a car that left the road back where its progress stands, on the lane (halfway between
        the centre line and a border) nearer to where it was, keeping the episode: DeepRacer's
        evaluation reset (the caller adds the time penalty)."""
        put_back_on_lane(self.sim, self.track, car, self.trackers[car], bool(self.reversed[car]))

    def recover_from_crash(self, car: int, penalty_seconds: float) -> None:
        """DeepRacer's evaluation reset after a crash (the caller adds the time penalty): the car waits
        out the penalty while the bots drive on; after an obstacle it is put RESET_BEHIND metres
        before it on the other lane (its progress goes back with it), after a bot it stays put."""
        objects, k = self.objects[car], int(self.hit[car])
        objects.advance(penalty_seconds)
        self.sim.set_objects(car, objects.boxes())
        if k < 0 or k >= objects.n_obstacles:
            return
        along = objects.along[k] - RESET_BEHIND
        self._place(car, along % self.track.length if self.track.closed else max(along, 0.0), -objects.lateral[k])
        m = self.sim.measure(car)
        self.trackers[car].recovered(self._driving_along(car, m), (m[sim_cols.FRONT_X], m[sim_cols.FRONT_Y]),
                                     count_move=True)
        self.hit[car] = -1

    def _place(self, car: int, driving: float, lateral: float = 0.0) -> None:
        """At a driving-direction distance from the start line, facing the way of travel: on the centre
        line, or with `lateral` +-1 on the inner / outer lane."""
        reverse = bool(self.reversed[car])
        if lateral and self.objects:
            x, y, yaw = self.objects[car].lanes[reverse].poses(np.array([driving]), np.array([lateral]))[0]
            self.sim.place(car, float(x), float(y), float(yaw))
        else:
            self.sim.place(car, *self.track.pose_at(driving, reverse))

    def _driving_along(self, car: int, m: np.ndarray) -> float:
        return self.params.driving_distance(m[sim_cols.DIST_ALONG], bool(self.reversed[car]))

    # ------------------------------------------------------------------------------ steps
    def judge(self, car: int, action, m: np.ndarray) -> tuple[float, str, dict, tuple[float, float]]:
        """Score one car's decision at its current pose (DeepRacer judges before the physics moves).

        Returns reward, episode status, the params and the (steer deg, speed) command.
        """
        steer_deg, speed = self.actions.command(action)
        tracker = self.trackers[car]
        driving = self._driving_along(car, m)
        tracker.update(driving, (m[sim_cols.FRONT_X], m[sim_cols.FRONT_Y]))
        params = self.params.build(m, self.sim.state[car], steer_deg, speed, tracker.progress, tracker.steps,
                                   bool(self.reversed[car]), float(self.sim_time[car]))
        crashed = False
        if self.objects:
            hit, object_params = self.objects[car].judge(self.sim.state[car, :3], driving, self.camera)
            self.hit[car], crashed = hit, hit >= 0
            params.update(object_params, is_crashed=crashed)
        reward = self.reward_functions[car](params)
        status = tracker.status(int(m[sim_cols.WHEELS_ON]), crashed=crashed)
        if status == episode.IN_PROGRESS and tracker.steps - 1 >= self.config.max_steps:  # steps counts the reset
            status = episode.TIME_UP
        return reward, status, params, (steer_deg, speed)

    def advance(self, commands: np.ndarray) -> None:
        """Move every car one control period (no pictures yet); `commands` (N, 2) steering deg, speed m/s."""
        if self.delays is not None:
            commands = self.delays.act(commands)
        self.sim.move(np.stack([np.radians(commands[:, 0]), commands[:, 1]], axis=1))
        self.sim_time += self.sim.vehicle.dt
        for car in range(self.num_cars):
            self.paths[car].append((float(self.sim.state[car, 0]), float(self.sim.state[car, 1])))
        for car, objects in enumerate(self.objects):
            if objects.n_bots:
                objects.advance(self.sim.vehicle.dt)
                self.sim.set_objects(car, objects.boxes())

    def render(self) -> np.ndarray:
        """Every car's picture, as its policy gets it: the simulator's, or (sim-to-real) the one the
        camera delivered that many periods ago. Also kept as `frames`."""
        rendered = self.sim.render()
        self.frames = rendered if self.delays is None else self.delays.observe(rendered, self.rng)
        return self.frames

    def close(self) -> None:
        close = getattr(self.sim, "close", None)
        if close is not None:
            close()

    def lap_time(self, car: int) -> float:
        return float(self.sim.time[car])

    def top_down(self) -> np.ndarray:
        """Bird's-eye RGB picture of the track, the cars and their paths this episode."""
        if self._view is None:
            self._view = TopDownView(self.sim.scenery)
        return self._view.draw(self.sim.state, self.paths, self.objects[0].boxes() if self.objects else None)


def put_back_on_lane(sim: SimulatorControl, track: Track, car: int, tracker: EpisodeTracker, reverse: bool) -> None:
    """DeepRacer's evaluation reset, shared by a race and `racer race`: the car goes back where its
    progress stands, on the lane nearer to where it was, and its tracker keeps the episode."""
    driving = tracker.start_along + tracker.covered
    if track.closed:
        driving %= track.length
    sim.place(car, *track.lane_pose(driving, reverse, tuple(sim.state[car, :2])))
    m = sim.measure(car)
    tracker.recovered(track.along_in_direction(m[sim_cols.DIST_ALONG], reverse), (m[sim_cols.FRONT_X],
                                                                                  m[sim_cols.FRONT_Y]))
