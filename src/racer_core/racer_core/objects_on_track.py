"""One car's episode among objects: where the obstacles stand, how the bots drive, what the car hit
and the object params its reward function sees. Pure numpy; a Race keeps one per car, since every
car drives its own episode (cars do not see each other).

Objects are listed in spawn order, obstacles then bots, as the reference lists them.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from racer_core.camera import CameraConfig
from racer_core.objects import (
    CAR_FOOTPRINT,
    CAR_HEIGHT,
    INNER,
    OUTER,
    START_CLEARANCE,
    VIEW_FAR,
    VIEW_NEAR,
    Lanes,
    RaceObjects,
    _overlaps,
    alternating,
    scattered,
    spaced,
)
from racer_core.scenery import OBJECT_KINDS
from racer_core.track import Track

OBSTACLE, BOT = 0, 1


class ObjectsOnTrack:
    """The obstacles and bots of one car's episodes: laid out at `reset`, driven by `advance`, judged
    against the car by `judge` (crash and params at once), drawn from `boxes`."""

    def __init__(self, config: RaceObjects, track: Track):
        config.check(track.length)
        self.config = config
        self.track = track
        self.lanes = {False: Lanes(track), True: Lanes(track.reversed())}
        self.n_obstacles, self.n_bots = config.obstacles, config.bots
        n = self.n_obstacles + self.n_bots
        self.kinds = np.array([OBSTACLE] * self.n_obstacles + [BOT] * self.n_bots)
        self.crash_sizes = np.array([config.crash_size()] * self.n_obstacles
                                    + [CAR_FOOTPRINT] * self.n_bots).reshape(n, 2)
        self.boxes_size = np.array([config.obstacle_box()] * self.n_obstacles
                                   + [(*CAR_FOOTPRINT, CAR_HEIGHT)] * self.n_bots).reshape(n, 3)
        self.box_kinds = np.array([config.obstacle_kind()] * self.n_obstacles
                                  + [OBJECT_KINDS.index("bot_car")] * self.n_bots, float)
        self.reversed = False
        self.along = np.zeros(n)  # centre-line distance from the start line, driving direction
        self.lateral = np.zeros(n)  # +1 inner lane, -1 outer, between during a lane change
        # what the camera sees (camera.BOX_COLUMNS); its first three columns are the poses, kept in place
        self._boxes = np.column_stack([np.zeros((n, 3)), self.boxes_size, self.box_kinds])
        self.poses = self._boxes[:, :3]  # (K, 3) x, y, yaw: a view
        self._hits = np.zeros(n, np.bool_)
        self._is_bot = (self.kinds == BOT).tolist()
        self._mounts: dict[int, tuple[CameraConfig, np.ndarray]] = {}  # by id: each camera's mount, made once
        self._fixed: dict[bool, tuple[np.ndarray, ...]] = {}  # per direction: obstacles that never move
        self._car_size = np.asarray(CAR_FOOTPRINT, float)
        self._order = np.arange(n)  # the objects in order along the track
        self._left, self._from_centre = np.zeros(n, np.bool_), np.zeros(n)
        self._view_points = np.zeros((n, 5, 2))  # the view-volume test's points per object
        # bots: where each began, its lane, and its lane-change clock
        self._bot_start = np.zeros(self.n_bots)
        self._bot_lane = np.zeros(self.n_bots)
        self._change_at = np.zeros(self.n_bots)  # episode time its next lane change begins
        self._next_lane = np.inf  # episode time the first of the bots' lane changes in progress ends
        self.elapsed = 0.0  # bot-driving seconds of this episode (paused time excluded)
        self.pause_left = 0.0
        self.bot_pauses = 0

    def __len__(self) -> int:
        return len(self.kinds)

    # ---------------------------------------------------------------------------- episodes
    def reset(self, rng: np.random.Generator, reversed_: bool) -> None:
        """Lay out this episode's objects (fixed, given, or randomised as the config asks)."""
        cfg = self.config
        self.reversed = reversed_
        if self.n_obstacles:
            layout = self._fixed.get(reversed_) or self._obstacle_layout(rng, reversed_)
            if not cfg.randomize_obstacle_locations:
                self._fixed[reversed_] = layout  # the same every episode: laid out once per direction
            self.along[: self.n_obstacles], self.lateral[: self.n_obstacles] = layout[0], layout[1]
            self.poses[: self.n_obstacles] = layout[2]
        length = self.track.length
        bots = spaced(self.n_bots, cfg.min_distance_between_bot_cars, length)
        bot_lanes = alternating(self.n_bots)
        if cfg.randomize_bot_car_locations:
            bots = scattered(bots, cfg.min_distance_between_bot_cars, cfg.min_distance_between_bot_cars, length, rng)
            bot_lanes = rng.choice([INNER, OUTER], self.n_bots).astype(float)
        self._bot_start, self._bot_lane = bots, bot_lanes
        self.elapsed, self.pause_left, self.bot_pauses = 0.0, 0.0, 0
        self._change_at = rng.uniform(cfg.lower_lane_change_time, cfg.upper_lane_change_time, self.n_bots)
        self._next_lane = self._change_at.min(initial=np.inf) + self._lane_change_time()
        self._rng = rng
        if self.n_bots:
            self._move_bots()  # drives the bots and describes every object
        else:
            self._describe()

    def _obstacle_layout(self, rng: np.random.Generator, reversed_: bool) -> tuple[np.ndarray, ...]:
        """The obstacles' distances, lanes and poses: as given, spaced, or randomised."""
        cfg, length = self.config, self.track.length
        if cfg.positions:
            along = np.array([f * length for f, _ in cfg.positions])
            lanes = np.array([lane for _, lane in cfg.positions], float)
        else:
            along = spaced(self.n_obstacles, cfg.min_distance_between_obstacles, length)
            lanes = alternating(self.n_obstacles)
            if cfg.randomize_obstacle_locations:
                along = scattered(along, cfg.min_distance_between_obstacles, cfg.min_distance_between_obstacles,
                                  length, rng)
                lanes = rng.choice([INNER, OUTER], self.n_obstacles).astype(float)
        return along, lanes, self.lanes[reversed_].poses(along, lanes)

    def start_lateral(self, start_along: float) -> float:
        """Where across the road the car starts: the centre line, or the lane away from an object
        within START_CLEARANCE of its start (the nearest such object decides)."""
        if not len(self):
            return 0.0
        gap = np.abs(self._wrapped(self.along - start_along))
        k = int(np.argmin(gap))
        return -float(np.sign(self.lateral[k]) or INNER) if gap[k] <= START_CLEARANCE else 0.0

    # ------------------------------------------------------------------------------- motion
    def advance(self, dt: float) -> None:
        """The bots drive one control period (or wait out a penalty)."""
        if not self.n_bots:
            return
        if self.pause_left > 0:
            self.pause_left = self.pause_left - dt if self.pause_left - dt > 1e-9 else 0.0
            return
        self.elapsed += dt
        self._move_bots()

    def _lane_change_time(self) -> float:
        """Seconds a bot's lane change lasts (inf: bots keep their lanes)."""
        cfg = self.config
        changing = cfg.is_lane_change and cfg.bot_car_speed > 0
        return cfg.lane_change_distance / cfg.bot_car_speed if changing else np.inf

    def _move_bots(self) -> None:
        """Drive the bots to `elapsed` and describe every object anew (one compiled call)."""
        if not self.n_bots:
            return
        cfg, duration = self.config, self._lane_change_time()
        if self.elapsed >= self._next_lane:
            for k in np.flatnonzero(self.elapsed >= self._change_at + duration):
                while self.elapsed >= self._change_at[k] + duration:  # a change finished: the next is drawn
                    self._bot_lane[k] = -self._bot_lane[k]
                    self._change_at[k] += duration + self._rng.uniform(cfg.lower_lane_change_time,
                                                                       cfg.upper_lane_change_time)
            self._next_lane = self._change_at.min() + duration
        self.lanes[self.reversed].drive_described(
            self._bot_start, self._bot_lane, self._change_at, self.elapsed, cfg.bot_car_speed, duration, self.along,
            self.lateral, self._boxes, self.crash_sizes, self._left, self._from_centre, self._view_points,
            self._order)

    # ------------------------------------------------------------------------------ crashes
    def collide(self, car_pose: np.ndarray, car_along: float) -> int:
        """The first object the car's footprint overlaps, or -1. Running into a bot from behind is a
        crash; a bot running into the car from behind is not: the bots wait out their penalty."""
        if not _overlaps(car_pose, self._car_size, self.poses, self.crash_sizes, self._hits):
            return -1
        return self._crash(car_along)

    def judge(self, car_pose: np.ndarray, front_along: float, camera: CameraConfig) -> tuple[int, dict]:
        """`collide` and `params` at once (one compiled call for the overlaps and the view volume:
        this runs for every car at every step)."""
        hits, seen, nxt, prev = _contact(car_pose, self._car_size, self.poses, self.crash_sizes, self._hits,
                                         self.along, self._order, front_along, self._view_points, self._mount(camera),
                                         0.5 * camera.width, 0.5 * camera.height)
        return (self._crash(front_along) if hits else -1), self._params(nxt, prev, seen)

    def _crash(self, car_along: float) -> int:
        for k in np.flatnonzero(self._hits):
            if self.kinds[k] == BOT and self._wrapped(self.along[k] - car_along) <= 0:  # the car is ahead
                if self.pause_left <= 0:
                    self.pause_left = self.config.bot_car_penalty
                    self.bot_pauses += 1
                continue
            return int(k)
        return -1

    def _wrapped(self, delta):
        if not self.track.closed:
            return delta
        half = 0.5 * self.track.length
        return np.mod(np.asarray(delta) + half, self.track.length) - half

    # ------------------------------------------------------------------------------- params
    def _describe(self) -> None:
        """The params that follow from the objects' poses alone, kept until they move (every step for
        bots, once an episode for obstacles): the per-step params then only copy them."""
        if not len(self):
            return
        self.lanes[self.reversed].describe(self.along, self.poses, self.crash_sizes, self._left, self._from_centre,
                                           self._view_points, self._order)

    def params(self, front_along: float, car_pose: np.ndarray, camera: CameraConfig) -> dict:
        """The reward function's object keys, in the reference's types (new lists of Python floats)."""
        if not len(self):
            return {}
        nxt, prev = self._around(front_along)
        return self._params(nxt, prev, self.in_view(nxt, car_pose, camera))

    def _around(self, front_along: float) -> tuple[int, int]:
        """The next object along the track from the car's front point and the one before (wrapping)."""
        return _around(self.along, self._order, front_along)

    def _params(self, nxt: int, prev: int, seen: bool) -> dict:
        speed = float(self.config.bot_car_speed) if self.pause_left <= 0 else 0.0
        return {
            "objects_location": self.poses[:, :2].tolist(),
            "objects_distance": self.along.tolist(),
            "closest_objects": [int(prev), int(nxt)],
            "objects_left_of_center": self._left.tolist(),
            "objects_distance_from_center": self._from_centre.tolist(),
            "objects_heading": self.poses[:, 2].tolist(),
            "objects_speed": [speed if bot else 0.0 for bot in self._is_bot],
            "object_in_camera": bool(seen),
        }

    def in_view(self, k: int, car_pose: np.ndarray, camera: CameraConfig) -> bool:
        """Whether any of object k's crash-rectangle corners (at its base) or its centre lies inside
        the camera's view volume (near 0.2 m, far 300 m, the camera's own field of view and pitch)."""
        return bool(_any_in_view(self._view_points[k], car_pose, self._mount(camera), 0.5 * camera.width,
                                 0.5 * camera.height))

    def _mount(self, camera: CameraConfig) -> np.ndarray:
        known = self._mounts.get(id(camera))  # by identity: hashing a dataclass costs more than the test
        if known is None or known[0] is not camera:
            known = self._mounts[id(camera)] = (camera, camera.mount())
        return known[1]

    # ----------------------------------------------------------------------------- pictures
    def boxes(self) -> np.ndarray:
        """(K, camera.BOX_COLUMNS) rows of what the camera sees: pose, size and colour kind (read only:
        the objects' own array, updated as they move)."""
        return self._boxes

    _STATE = ("reversed", "along", "lateral", "poses", "_bot_start", "_bot_lane", "_change_at", "elapsed",
              "pause_left", "bot_pauses", "_rng")

    def state_dict(self) -> dict:
        """Where the objects stand and the bots' clocks (copies; the random generator is the race's own)."""
        return {k: (getattr(self, k).copy() if isinstance(getattr(self, k), np.ndarray) else getattr(self, k))
                for k in self._STATE if hasattr(self, k)}

    def load_state_dict(self, state: dict) -> None:
        for k, v in state.items():
            if isinstance(v, np.ndarray):
                getattr(self, k)[...] = v  # in place: `poses` is a view of the camera's box rows
            else:
                setattr(self, k, v)
        self._describe()


@nb.njit(cache=True)
def _any_in_view(points, car, mount, half_width, half_height):
    """Whether any ground point (K, 2) lies strictly inside the view volume of a camera (its
    `CameraConfig.mount` and half image size in pixels) on a car at `car` (x, y, yaw)."""
    c, s = np.cos(car[2]), np.sin(car[2])
    cx, cy = car[0] + c * mount[0], car[1] + s * mount[0]
    cp, sp = np.cos(mount[2]), np.sin(mount[2])
    tan_h, tan_v = half_width / mount[3], half_height / mount[3]
    z = -mount[1]
    for k in range(points.shape[0]):
        rx, ry = points[k, 0] - cx, points[k, 1] - cy
        ahead, left = rx * c + ry * s, -rx * s + ry * c
        depth = ahead * cp - z * sp
        up = ahead * sp + z * cp
        if VIEW_NEAR < depth < VIEW_FAR and abs(left) < depth * tan_h and abs(up) < depth * tan_v:
            return True
    return False


@nb.njit(cache=True)
def _around(along, order, front):
    """The next object along the track after the front point (the first with a greater distance,
    wrapping to the first) and the one before it, as indices into the objects."""
    position = 0
    while position < len(order) and along[order[position]] <= front:
        position += 1
    position %= len(order)
    return order[position], order[position - 1]


@nb.njit(cache=True)
def _contact(car, car_size, poses, sizes, hits, along, order, front, view_points, mount, half_width, half_height):
    """How many objects the car overlaps (marked in `hits`), whether the next one is in view, and
    the next and previous objects along the track."""
    nxt, prev = _around(along, order, front)
    seen = _any_in_view(view_points[nxt], car, mount, half_width, half_height)
    return _overlaps(car, car_size, poses, sizes, hits), seen, nxt, prev
