"""`racer race`: trained models racing each other on one track, each car driven by its own exported
ONNX policy (so models trained by anyone with racer can meet), something no DeepRacer tool offers.

The cars start staggered, STAGGER metres apart on alternating lanes, and each races the same
distance: `laps` laps from its own start. Every car sees the others in its camera. The rules are
DeepRacer's evaluation rules applied to every car at once:
- a car that leaves the road (or drives backwards, or stands still) waits OFF_TRACK_PENALTY seconds
  and is put back on the nearer lane where its progress stands;
- two cars that touch: the one behind ran into the one ahead and waits COLLISION_PENALTY seconds
  where it is; the car ahead drives on. A waiting car is out of the way (it cannot be hit), as
  the reference's blinking car is.
Time runs for a waiting car too, so penalties cost what they cost in a console evaluation. The
result ranks the cars by finish time, then the unfinished by distance covered.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from racer_agent.env import episode
from racer_agent.env.actions import ActionSpace
from racer_agent.env.race import put_back_on_lane
from racer_agent.evaluation import model_metadata
from racer_agent.evaluation.onnx_policy import OnnxPolicy
from racer_agent.evaluation.report import write_mp4
from racer_core import simulator as sim_cols
from racer_core.builtin_tracks import load as load_track
from racer_core.camera import BOX_COLUMNS
from racer_core.objects import CAR_FOOTPRINT, CAR_HEIGHT, COLLISION_PENALTY, Lanes, rectangles_overlap
from racer_core.scenery import OBJECT_KINDS, Look
from racer_core.simulator import Simulator
from racer_core.topdown import TopDownView
from racer_core.track import Track

STAGGER = 1.0  # metres between consecutive cars' starts
OFF_TRACK_PENALTY = 2.0  # seconds, the community simulator's evaluation default
SLOWEST_SPEED = 0.3  # m/s: the race is called off when the slowest car could not finish at this pace
RACER_CAR = OBJECT_KINDS.index("racer_car")


@dataclass
class Entrant:
    """One car in the race and how it is doing."""

    name: str
    source: str
    policy: OnnxPolicy = field(repr=False)
    actions: ActionSpace = field(repr=False)
    tracker: episode.EpisodeTracker = field(repr=False)
    laps: int = 0
    lap_times_s: list[float] = field(default_factory=list)
    finish_s: float | None = None
    off_track: int = 0
    crashes: int = 0
    waiting_s: float = 0.0  # penalty time still to wait
    path: list[tuple[float, float]] = field(default_factory=list, repr=False)

    def distance(self, length: float) -> float:
        return self.laps * length + max(self.tracker.covered, 0.0)

    def summary(self, length: float) -> dict:
        return {"name": self.name, "model": self.source, "finish_s": self.finish_s, "laps": self.laps,
                "lap_times_s": [round(t, 3) for t in self.lap_times_s], "distance_m": round(self.distance(length), 2),
                "off_track": self.off_track, "crashes": self.crashes}


def exported_model(source: str | Path, scratch: Path) -> Path:
    """The ONNX model directory of a run (its `model/`, exported now if it has none) or an export."""
    source = Path(source)
    for directory in (source, source / "model"):
        if (directory / "model.onnx").is_file():
            return directory
    if (source / "config.json").is_file():
        from racer_agent.evaluation.export import export

        out = scratch / source.name
        export(source, out)
        return out
    raise ValueError(f"{source} is neither a run directory nor a directory with model.onnx")


class HeadToHead:
    """The cars, the simulator they share and the rules between them."""

    def __init__(self, models: list[Path], names: list[str], track: Track, laps: int):
        if len(models) < 2:
            raise ValueError("a race needs at least two models")
        self.track, self.laps = track, laps
        policies = [OnnxPolicy(m) for m in models]
        cameras = [model_metadata.camera_of(p.metadata) for p in policies]
        shapes = {c.shape for c in cameras}
        if len(shapes) > 1:
            raise ValueError(f"the models see different image shapes {sorted(shapes)}; one simulator renders one shape")
        self.sim = Simulator(track, num_cars=len(models), camera=cameras[0])
        self.lanes = Lanes(track)
        self.cars = []
        for k, (policy, camera) in enumerate(zip(policies, cameras, strict=True)):
            self.sim.set_look(k, Look(), camera)
            tracker = episode.EpisodeTracker(track.length, track.closed)
            self.cars.append(Entrant(names[k], str(models[k]), policy, policy.actions, tracker))
            self._start(k)
        self.time = 0.0
        self.view = TopDownView(self.sim.scenery)

    def _start(self, k: int) -> None:
        along = (-k * STAGGER) % self.track.length
        lane = 1.0 if k % 2 == 0 else -1.0
        x, y, yaw = self.lanes.poses(np.array([along]), np.array([lane]))[0]
        self.sim.place(k, float(x), float(y), float(yaw))
        m = self.sim.measure(k)
        self.cars[k].tracker.reset(along, float(m[sim_cols.DIST_ALONG]), (m[sim_cols.FRONT_X], m[sim_cols.FRONT_Y]))
        self.cars[k].path = [(float(x), float(y))]

    # ------------------------------------------------------------------------------- running
    def run(self, record: bool = False) -> tuple[list[dict], list[np.ndarray]]:
        """Race to the end; returns the ranking and, with `record`, one video frame per step."""
        dt = self.sim.vehicle.dt
        limit = self.laps * self.track.length / SLOWEST_SPEED + STAGGER * len(self.cars) / SLOWEST_SPEED
        frames = []
        commands = np.zeros((len(self.cars), 2))
        while self.time < limit and any(c.finish_s is None for c in self.cars):
            self._show_each_other()
            pictures = self.sim.render()
            if record:
                frames.append(self._video_frame(pictures))
            for k, car in enumerate(self.cars):
                commands[k] = self._decide(k, car, pictures[k: k + 1])
            held = self.sim.state.copy()
            self.sim.move(commands)
            self.time += dt
            for k, car in enumerate(self.cars):
                if car.waiting_s > 0 or car.finish_s is not None:  # waits (or is done) where it stands
                    self.sim.state[k] = held[k]
                    self.sim.state[k, 3] = 0.0
                    car.waiting_s = max(0.0, car.waiting_s - dt)
                else:
                    car.path.append((float(self.sim.state[k, 0]), float(self.sim.state[k, 1])))
            self._judge()
        return self.ranking(), frames

    def _decide(self, k: int, car: Entrant, picture: np.ndarray) -> tuple[float, float]:
        if car.waiting_s > 0 or car.finish_s is not None:
            return 0.0, 0.0
        steer_deg, speed = car.actions.command(car.policy(picture)[0])
        return math.radians(steer_deg), speed

    def _show_each_other(self) -> None:
        boxes = np.zeros((len(self.cars), BOX_COLUMNS))
        boxes[:, :3] = self.sim.state[:, :3]
        boxes[:, 3:6] = (*CAR_FOOTPRINT, CAR_HEIGHT)
        boxes[:, 6] = RACER_CAR
        for k in range(len(self.cars)):
            self.sim.set_objects(k, np.delete(boxes, k, axis=0))

    def _judge(self) -> None:
        measures = self.sim.measure()
        for k, car in enumerate(self.cars):
            if car.finish_s is not None or car.waiting_s > 0:
                continue
            m = measures[k]
            car.tracker.update(float(m[sim_cols.DIST_ALONG]), (m[sim_cols.FRONT_X], m[sim_cols.FRONT_Y]))
            status = car.tracker.status(int(m[sim_cols.WHEELS_ON]))
            if status == episode.LAP_COMPLETE:
                car.lap_times_s.append(self.time - sum(car.lap_times_s))
                car.laps += 1
                car.tracker.next_lap()
                if car.laps == self.laps:
                    car.finish_s = round(self.time, 3)
            elif status != episode.IN_PROGRESS:
                car.off_track += 1
                car.waiting_s = OFF_TRACK_PENALTY
                put_back_on_lane(self.sim, self.track, k, car.tracker, reverse=False)
        self._collide(measures)

    def _collide(self, measures: np.ndarray) -> None:
        """Each pair that touches: the car behind (less distance covered) ran into the other."""
        racing = [k for k, c in enumerate(self.cars) if c.finish_s is None and c.waiting_s <= 0]
        sizes = np.array([CAR_FOOTPRINT])
        for i, a in enumerate(racing):
            for b in racing[i + 1:]:
                if self.cars[a].waiting_s > 0 or self.cars[b].waiting_s > 0:
                    continue
                if rectangles_overlap(self.sim.state[a, :3], CAR_FOOTPRINT, self.sim.state[b: b + 1, :3], sizes)[0]:
                    behind = a if self._ahead_of(b, a) else b
                    self.cars[behind].crashes += 1
                    self.cars[behind].waiting_s = COLLISION_PENALTY

    def _ahead_of(self, a: int, b: int) -> bool:
        """Whether car a is ahead of car b on the road (along the track, wrapping)."""
        half = 0.5 * self.track.length
        pa, pb = (self.cars[k].tracker.last_along for k in (a, b))
        return (pa - pb + half) % self.track.length - half > 0

    # ------------------------------------------------------------------------------- results
    def ranking(self) -> list[dict]:
        length = self.track.length
        order = sorted(self.cars, key=lambda c: (c.finish_s is None, c.finish_s or 0.0, -c.distance(length)))
        return [{"place": i + 1, **c.summary(length)} for i, c in enumerate(order)]

    def _video_frame(self, pictures: np.ndarray) -> np.ndarray:
        """The top-down view with every car and its path, over a strip of every car's camera."""
        top = self.view.draw(self.sim.state, [c.path for c in self.cars])
        width = top.shape[1] // len(self.cars)
        cams = []
        for picture in pictures:
            rgb = np.repeat(picture, 3, axis=2) if picture.shape[2] == 1 else picture
            cams.append(cv2.resize(rgb, (width, width * rgb.shape[0] // rgb.shape[1]), interpolation=cv2.INTER_NEAREST))
        strip = np.concatenate(cams, axis=1)
        strip = np.pad(strip, ((0, 0), (0, top.shape[1] - strip.shape[1]), (0, 0)))
        return np.concatenate([top, strip], axis=0)


def race(sources: list[str | Path], track: str | None = None, laps: int = 3, out_dir: str | Path | None = None,
         video: str | Path | None = None) -> dict:
    """Race the models (run or export directories) and write race.json (and the video) to `out_dir`."""
    with tempfile.TemporaryDirectory() as scratch:
        models = [exported_model(s, Path(scratch)) for s in sources]
        names = _names(sources)
        if track is None:
            track = model_metadata.trained_on(OnnxPolicy(models[0]).metadata)[0][0]
        head = HeadToHead(models, names, load_track(track), laps)
        ranking, frames = head.run(record=video is not None)
    result = {"track": head.track.name, "laps": laps, "stagger_m": STAGGER, "off_track_penalty_s": OFF_TRACK_PENALTY,
              "collision_penalty_s": COLLISION_PENALTY, "ranking": ranking}
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "race.json").write_text(json.dumps(result, indent=2) + "\n")
        result["folder"] = str(out)
    if video is not None:
        result["video"] = str(write_mp4(frames, Path(video)))
    return result


def _names(sources: list) -> list[str]:
    """Each model's folder name, numbered when two are the same model."""
    names = [Path(s).resolve().name if Path(s).name != "model" else Path(s).resolve().parent.name for s in sources]
    return [f"{n} #{i + 1}" if names.count(n) > 1 else n for i, n in enumerate(names)]
