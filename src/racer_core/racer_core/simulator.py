"""The embedded simulator: N cars on one track, stepped together, each with its own camera.

It knows physics, pictures and geometry, not rules: episodes, rewards and ROS live elsewhere and
read what `measure` reports. Every per-car array has the car as its first axis so that one compiled
call serves one car or a hundred.
"""

from __future__ import annotations

from typing import Protocol

import numba as nb
import numpy as np

from racer_core import camera as cam
from racer_core import track_math, vehicle
from racer_core.scenery import OBJECT_KINDS, Look, Scenery
from racer_core.track import Track
from racer_core.vehicle import VehicleParams

FRONT_OFFSET = 0.14  # m: DeepRacer reports the position of a point this far ahead of the car origin

# Columns of `measure`'s result.
FRONT_X, FRONT_Y, SEGMENT, SEG_T, DIST_ALONG, DIST_CENTER, LEFT, WIDTH, WHEELS_ON = range(9)
MEASURE_SIZE = 9


@nb.njit(cache=True)
def _measure(state, center, inner, outer, cum, closed, wheels, front, reach, hints, out):
    n_wheels = wheels.shape[0]
    for k in range(state.shape[0]):
        x, y, yaw = state[k, 0], state[k, 1], state[k, 2]
        c, s = np.cos(yaw), np.sin(yaw)
        fx, fy = x + front * c, y + front * s
        i, t, dist = track_math.closest_segment(center, fx, fy, hints[k], closed, reach)
        hints[k] = i
        ax, ay, bx, by = center[i, 0], center[i, 1], center[i + 1, 0], center[i + 1, 1]
        cross = (bx - ax) * (fy - ay) - (by - ay) * (fx - ax)
        on = 0
        for w in range(n_wheels):
            wx = x + c * wheels[w, 0] - s * wheels[w, 1]
            wy = y + s * wheels[w, 0] + c * wheels[w, 1]
            if track_math.on_road(inner, outer, wx, wy, i, closed):
                on += 1
        out[k, 0], out[k, 1], out[k, 2], out[k, 3] = fx, fy, i, t
        out[k, 4] = cum[i] + t * (cum[i + 1] - cum[i])
        out[k, 5] = dist
        out[k, 6] = 1.0 if cross > 0 else 0.0
        out[k, 7] = track_math.border_gap(inner, outer, ax + t * (bx - ax), ay + t * (by - ay), i, closed, reach)
        out[k, 8] = on


class SimulatorControl(Protocol):
    """What the rules (`racer_agent.env.race.Race`) need from a simulator. `Simulator` is the embedded
    implementation; `racer_agent.ros.simulator.RosSimulator` reaches any node speaking racer's ROS
    interface (the embedded sim node, Gazebo)."""

    num_cars: int
    state: np.ndarray  # (N, STATE_SIZE) poses and speeds, see racer_core.vehicle
    frames: np.ndarray  # (N, H, W, C) uint8 camera pictures of the current states
    time: np.ndarray  # (N,) sim seconds since each car's last placement
    scenery: Scenery

    def place(self, car: int, x: float, y: float, yaw: float, speed: float = 0.0) -> None: ...

    def move(self, commands: np.ndarray) -> None: ...

    def render(self) -> np.ndarray: ...

    def measure(self, car: int | None = None) -> np.ndarray: ...

    def set_look(self, car: int, look: Look, camera: cam.CameraConfig | None = None) -> None: ...

    def set_objects(self, car: int, boxes: np.ndarray) -> None: ...


class TrackProbe:
    """Where cars stand relative to the track (see `measure`'s columns), from their poses alone.

    Separate from the physics so that a client of a remote simulator (ROS, Gazebo) measures the
    poses it receives with exactly the code the embedded simulator uses.
    """

    def __init__(self, track: Track, num_cars: int, vehicle_params: VehicleParams | None = None):
        self.track = track
        self._wheels = (vehicle_params or VehicleParams()).wheel_offsets()
        self._hints = np.full(num_cars, -1, np.int64)
        self._measures = np.zeros((num_cars, MEASURE_SIZE))

    def state_dict(self) -> dict:
        """What changes as the cars move (for a resume that continues exactly): copies."""
        return {"hints": self._hints.copy(), "measures": self._measures.copy()}

    def load_state_dict(self, state: dict) -> None:
        self._hints[...] = state["hints"]  # in place: compiled kernels may hold the arrays
        self._measures[...] = state["measures"]

    def forget(self, car: int) -> None:
        """The car jumped (placed or reset): search the whole track next time, not near the last segment."""
        self._hints[car] = -1

    def measure(self, state: np.ndarray, car: int | None = None) -> np.ndarray:
        """Per car: front point, its projection on the centre line and wheels on the road (see columns).

        With `car`, only that car is measured (a reset need not re-measure the whole field) and its
        row is returned. `state` holds every car's row.
        """
        t = self.track
        rows = slice(None) if car is None else slice(car, car + 1)
        _measure(state[rows], t.center, t.inner, t.outer, t.cum_length, t.closed, self._wheels,
                 FRONT_OFFSET, t.median_width, self._hints[rows], self._measures[rows])
        return self._measures if car is None else self._measures[car]


class RemoteSimulator:
    """What every client of a simulator running elsewhere (a ROS node, Gazebo) shares: the state and
    frames it last received, measured against the track here by the embedded simulator's own probe."""

    def __init__(self, track: Track, num_cars: int, camera: cam.CameraConfig, vehicle_params: VehicleParams | None):
        self.track = track
        self.num_cars = num_cars
        self.camera = camera
        self.vehicle = vehicle_params or VehicleParams()
        self.state = vehicle.new_state(num_cars)
        self.frames = np.zeros((num_cars, *camera.shape), np.uint8)
        self.time = np.zeros(num_cars)
        self.probe = TrackProbe(track, num_cars, self.vehicle)
        self._scenery: Scenery | None = None

    def render(self) -> np.ndarray:
        return self.frames  # the frames came with the states they show

    def set_objects(self, car: int, boxes: np.ndarray) -> None:
        """A remote simulator shows a race's objects only if it can be told where they are."""
        if len(boxes):
            raise ValueError(f"{type(self).__name__} cannot show a race's obstacles and bots: race with objects "
                             "on the embedded simulator or in a Gazebo world generated with them")

    def measure(self, car: int | None = None) -> np.ndarray:
        return self.probe.measure(self.state, car)

    @property
    def scenery(self) -> Scenery:
        """The track's ground as the embedded simulator draws it (for pictures, made when first asked)."""
        if self._scenery is None:
            self._scenery = Scenery.from_track(self.track)
        return self._scenery


class Simulator:
    """Cars, cameras and the track's ground, advanced one control period (1/15 s) at a time."""

    def __init__(self, track: Track, num_cars: int = 1, camera: cam.CameraConfig | None = None,
                 vehicle_params: VehicleParams | None = None, scenery_seed: int = 0):
        self.track = track
        self.num_cars = num_cars
        self.camera = camera or cam.camera_from()
        self.vehicle = vehicle_params or VehicleParams()
        self.scenery = Scenery.from_track(track, seed=scenery_seed)
        self.state = vehicle.new_state(num_cars)
        self.commands = np.zeros((num_cars, 2))
        self.frames = np.zeros((num_cars, *self.camera.shape), np.uint8)
        self.time = np.zeros(num_cars)  # sim seconds since each car's last placement
        self._vehicle_array = self.vehicle.as_array()
        self._wheels = self.vehicle.wheel_offsets()
        self._tiles = self.scenery.tiled()
        self._rows = np.zeros((num_cars, self.camera.height, 3), np.float32)
        self._first_rows = np.zeros(num_cars, np.int64)
        self._luts = np.zeros((num_cars, 256, self.camera.channels), np.uint8)
        self._tables: list[cam.GroundTable] = [cam.ground_table(self.camera)] * num_cars
        # what stands on the track, as each car's camera sees it (camera.render_boxes)
        self.boxes = np.zeros((num_cars, 0, cam.BOX_COLUMNS))
        self.box_counts = np.zeros(num_cars, np.int64)
        self._mounts = np.tile(self.camera.mount(), (num_cars, 1))
        self._object_colours = np.zeros((num_cars, len(OBJECT_KINDS), 3, self.camera.channels), np.uint8)
        self._sky = np.zeros((num_cars, self.camera.height, self.camera.channels), np.uint8)
        self._sky_dirty = np.zeros((num_cars, 4), np.int64)
        self._depth = np.full(self.camera.shape[:2], np.inf)
        for car in range(num_cars):
            self.set_look(car, Look(), self.camera)
        self.probe = TrackProbe(track, num_cars, self.vehicle)

    # ------------------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """The cars, their cameras and looks and the last pictures (the track and scenery do not
        change): copies, for a resume that continues exactly."""
        arrays = {"state": self.state, "commands": self.commands, "frames": self.frames, "time": self.time,
                  "rows": self._rows, "first_rows": self._first_rows, "luts": self._luts, "boxes": self.boxes,
                  "box_counts": self.box_counts, "mounts": self._mounts, "object_colours": self._object_colours,
                  "sky": self._sky, "sky_dirty": self._sky_dirty}
        return {**{k: v.copy() for k, v in arrays.items()}, "tables": list(self._tables),
                "probe": self.probe.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        for name, array in (("state", self.state), ("commands", self.commands), ("frames", self.frames),
                            ("time", self.time), ("rows", self._rows), ("first_rows", self._first_rows),
                            ("luts", self._luts), ("box_counts", self.box_counts), ("mounts", self._mounts),
                            ("object_colours", self._object_colours), ("sky", self._sky),
                            ("sky_dirty", self._sky_dirty)):
            array[...] = state[name]  # in place: compiled kernels may hold the arrays
        self.boxes = state["boxes"].copy()
        self._tables = list(state["tables"])
        self.probe.load_state_dict(state["probe"])

    # ------------------------------------------------------------------------------ set-up
    def place(self, car: int, x: float, y: float, yaw: float, speed: float = 0.0) -> None:
        """Put a car at a pose, wheels straight, clock and odometer at zero."""
        self.state[car] = (x, y, yaw, speed, 0.0, 0.0)
        self.commands[car] = 0.0
        self.time[car] = 0.0
        self.probe.forget(car)

    def place_on_track(self, car: int, distance_along: float, lateral: float = 0.0) -> None:
        """Put a car on the centre line (plus `lateral` metres to its left) facing along the track."""
        point, heading = self.track.point_at(distance_along)
        normal = np.array([-np.sin(heading), np.cos(heading)])
        x, y = point + lateral * normal
        self.place(car, x, y, heading)

    def set_look(self, car: int, look: Look, camera: cam.CameraConfig | None = None) -> None:
        """Change one car's appearance and, optionally, its camera mount (same image size)."""
        if camera is not None:
            if camera.shape != self.camera.shape:
                raise ValueError(f"camera image shape {camera.shape} differs from the simulator's {self.camera.shape}")
            self._tables[car] = cam.ground_table(camera)
            self._mounts[car] = camera.mount()
        table = self._tables[car]
        self._rows[car] = table.rows
        self._first_rows[car] = table.first_ground_row
        self._luts[car] = look.texel_lut(self.camera.grayscale)
        self._object_colours[car] = look.object_colours(self.camera.grayscale)
        self._sky[car] = look.sky_rows(table.sky, self.camera.grayscale)
        cam.paint_sky(self.frames[car], table, self._sky[car])

    def set_objects(self, car: int, boxes: np.ndarray) -> None:
        """What stands on the track in this car's view from now on: (K, BOX_COLUMNS) rows (see
        camera.render_boxes); each car has its own, as each drives its own episode."""
        if not (isinstance(boxes, np.ndarray) and boxes.ndim == 2):  # the objects' own rows pass as they are
            boxes = np.asarray(boxes, np.float64).reshape(-1, cam.BOX_COLUMNS)
        if len(boxes) > self.boxes.shape[1]:
            grown = np.zeros((self.num_cars, len(boxes), cam.BOX_COLUMNS))
            grown[:, : self.boxes.shape[1]] = self.boxes
            self.boxes = grown
        self.boxes[car, : len(boxes)] = boxes
        self.box_counts[car] = len(boxes)

    # ------------------------------------------------------------------------------ running
    def step(self, commands: np.ndarray) -> None:
        """Apply (steer rad, speed m/s) per car for one control period, then take new pictures."""
        self.move(commands)
        self.render()

    def move(self, commands: np.ndarray) -> None:
        """Physics only: apply (steer rad, speed m/s) per car for one control period."""
        self.commands[:] = commands
        vehicle.advance(self.state, self.commands, self._vehicle_array, self.vehicle.dt, self.vehicle.substeps)
        self.time += self.vehicle.dt

    def render(self) -> np.ndarray:
        s = self.scenery
        cam.render(self.frames, self.state, self._rows, self._first_rows, self._tiles, s.texels.shape, s.origin,
                   s.resolution, self._luts)
        if self.box_counts.any() or (self._sky_dirty[:, 1] > self._sky_dirty[:, 0]).any():
            cam.render_boxes(self.frames, self.state, self._mounts, self.boxes, self.box_counts,
                             self._object_colours, self._first_rows, self._sky, self._sky_dirty, self._depth)
        return self.frames

    def measure(self, car: int | None = None) -> np.ndarray:
        """See `TrackProbe.measure`."""
        return self.probe.measure(self.state, car)

    def wheel_positions(self, car: int) -> np.ndarray:
        """World (x, y) of the four wheel centres: front-left, front-right, rear-left, rear-right."""
        x, y, yaw = self.state[car, :3]
        rot = np.array([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]])
        return self._wheels @ rot.T + (x, y)
