"""Gazebo Harmonic worlds of racer's tracks: the systems, the light, the ground and the car model.

The ground is one textured plane whose picture is baked from the embedded simulator's own ground
raster (`racer_core.scenery`, default look), so asphalt, white borders, dashed centre line, start
line and grass are one definition seen by both simulators. The car is a separate model file,
spawned at the start line by the launch files (`gazebo_car`).

Layout of a generated world directory (what `racer gazebo world TRACK --out DIR` writes):
    world.sdf                     the world, named `racer` whatever the track (racer_core.gazebo_interface)
    track.png                     the ground texture, north up, one pixel per `texture_resolution` metres
    models/racer_car/model.sdf    the car, and its model.config

In an object-avoidance or head-to-bot race (`WorldConfig.race`) the world also holds the obstacles
and bot cars, named `object_<i>` in the order racer lists them, where the race's first episode lays
them out (forward, seed 0): boxes of the reference's size and colour, bots kinematic with gravity
off as the reference's are. The Gazebo client moves them with set_pose wherever the race puts them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from racer_core import gazebo_interface as gz
from racer_core.camera import CameraConfig, camera_from
from racer_core.objects import RaceObjects
from racer_core.objects_on_track import BOT, ObjectsOnTrack
from racer_core.scenery import BASE_PALETTE, OBJECT_PALETTE, SKY_HORIZON, Look, Scenery
from racer_core.track import Track
from racer_core.vehicle import VehicleParams
from racer_sim.gazebo_car import car_sdf
from racer_sim.sdf import document, el, plugin, pose, values

WORLD_FILE = "world.sdf"
TEXTURE_FILE = "track.png"
CAR_MODEL_DIR = "models/racer_car"


@dataclass(frozen=True)
class WorldConfig:
    """What a world is generated from besides its track."""

    steps_per_frame: int = 60  # physics iterations per control period (1/15 s): a 1.111 ms step
    real_time_factor: float = 0.0  # 0 = as fast as possible; lock-step training pauses the world anyway
    texture_resolution: float = 0.02  # m per ground-texture pixel (the embedded raster's 1 cm, averaged 2x2)
    camera: CameraConfig = field(default_factory=camera_from)
    vehicle: VehicleParams = field(default_factory=VehicleParams)
    race: RaceObjects = field(default_factory=RaceObjects)  # a time trial: no objects

    @property
    def physics_step(self) -> float:
        return gz.physics_step(self.vehicle.dt, self.steps_per_frame)

    def check(self) -> None:
        if self.steps_per_frame < 1:
            raise ValueError(f"steps_per_frame must be at least 1, got {self.steps_per_frame}")
        if self.real_time_factor < 0:
            raise ValueError(f"real_time_factor must be 0 (as fast as possible) or more, got {self.real_time_factor}")
        if self.texture_resolution < 0.01:
            raise ValueError("texture_resolution must be at least the ground raster's 0.01 m")


def write_world(track: Track, out: str | Path, config: WorldConfig | None = None) -> list[Path]:
    """Write the world, its ground texture and the car model into `out`; returns the files written."""
    config = config or WorldConfig()
    config.check()
    out = Path(out)
    (out / CAR_MODEL_DIR).mkdir(parents=True, exist_ok=True)
    scenery = Scenery.from_track(track)
    texture = ground_texture(scenery, config.texture_resolution)
    files = {
        out / WORLD_FILE: world_sdf(track, scenery, config),
        out / CAR_MODEL_DIR / "model.sdf": car_sdf(config.vehicle, config.camera),
        out / CAR_MODEL_DIR / "model.config": _model_config("racer_car", "racer's 1/18 Ackermann car"),
    }
    for path, text in files.items():
        path.write_text(text)
    if not cv2.imwrite(str(out / TEXTURE_FILE), texture[:, :, ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f"could not write {out / TEXTURE_FILE}")
    return [*files, out / TEXTURE_FILE]


def ground_texture(scenery: Scenery, resolution: float) -> np.ndarray:
    """The ground as an RGB picture, row 0 at the raster's largest y (north up, as images are read)."""
    rgb = Look().texel_lut(grayscale=False)[scenery.texels]
    factor = resolution / scenery.resolution
    if factor != 1.0:
        h, w = scenery.texels.shape
        rgb = cv2.resize(rgb, (round(w / factor), round(h / factor)), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb[::-1])


def ground_extent(scenery: Scenery) -> tuple[np.ndarray, np.ndarray]:
    """(centre x, y), (size x, y) in metres of the textured plane: exactly the raster's area."""
    h, w = scenery.texels.shape
    size = np.array([w, h]) * scenery.resolution
    return scenery.origin + size / 2, size


def world_sdf(track: Track, scenery: Scenery, config: WorldConfig) -> str:
    physics = el("physics", *values(max_step_size=config.physics_step, real_time_factor=config.real_time_factor),
                 name="racer", type="ignored")
    sky = tuple(float(c) / 255 for c in BASE_PALETTE[SKY_HORIZON])
    scene = el("scene", *values(ambient=(1.0, 1.0, 1.0, 1.0), background=(*sky, 1.0), shadows=False, grid=False))
    return document(el(
        "world",
        physics,
        *_systems(),
        el("gravity", text=(0.0, 0.0, -9.81)),
        scene,
        _sun(),
        _ground(track, scenery),
        *_objects(track, config.race),
        name=gz.WORLD,
    ))


def _systems() -> list[ET.Element]:
    """Physics, set_pose and friends (UserCommands), the GUI's scene (SceneBroadcaster), the camera."""
    return [
        plugin("gz-sim-physics-system", "gz::sim::systems::Physics"),
        plugin("gz-sim-user-commands-system", "gz::sim::systems::UserCommands"),
        plugin("gz-sim-scene-broadcaster-system", "gz::sim::systems::SceneBroadcaster"),
        plugin("gz-sim-sensors-system", "gz::sim::systems::Sensors", values(render_engine="ogre2")),
    ]


def _sun() -> ET.Element:
    """A weak overhead light without shadows: the full ambient light shows the texture's own colours,
    as the embedded camera (which has no lighting) sees them; the sun only lifts the car's shape."""
    return el("light", *values(cast_shadows=False), pose(0, 0, 10), *values(
        diffuse=(0.2, 0.2, 0.2, 1.0), specular=(0.0, 0.0, 0.0, 1.0), direction=(-0.3, 0.2, -1.0)),
        name="sun", type="directional")


def _ground(track: Track, scenery: Scenery) -> ET.Element:
    """A static plane carrying the track texture; its collision is the same flat plane."""
    centre, size = ground_extent(scenery)

    def plane() -> ET.Element:  # an element has one parent: each use gets its own
        return el("geometry", el("plane", *values(normal=(0, 0, 1), size=tuple(size))))

    material = el("material", *values(ambient=(1.0, 1.0, 1.0, 1.0), diffuse=(1.0, 1.0, 1.0, 1.0),
                                      specular=(0.0, 0.0, 0.0, 1.0)),
                  el("pbr", el("metal", *values(albedo_map=TEXTURE_FILE, roughness=1.0, metalness=0.0))))
    friction = el("surface", el("friction", el("ode", *values(mu=1.0, mu2=1.0))))
    link = el("link", el("collision", plane(), friction, name="collision"),
              el("visual", plane(), material, *values(cast_shadows=False), name="track"), name="ground")
    return el("model", *values(static=True), pose(float(centre[0]), float(centre[1]), 0.0), link,
              name=f"track_{_identifier(track.name)}")


def _objects(track: Track, race: RaceObjects) -> list[ET.Element]:
    """The race's obstacles and bots where its first episode puts them (forward, seed 0)."""
    if not race.any:
        return []
    layout = ObjectsOnTrack(race, track)
    layout.reset(np.random.default_rng(0), reversed_=False)
    models = []
    for k, row in enumerate(layout.boxes()):
        x, y, yaw, length, width, height, kind = (float(v) for v in row)
        colour = (*(float(c) / 255 for c in OBJECT_PALETTE[int(kind)]), 1.0)
        box = el("geometry", el("box", *values(size=(length, width, height))))
        visual = el("visual", pose(0.0, 0.0, height / 2), box,
                    el("material", *values(ambient=colour, diffuse=colour, specular=(0.1, 0.1, 0.1, 1.0))),
                    name="visual")
        collision = el("collision", pose(0.0, 0.0, height / 2),
                       el("geometry", el("box", *values(size=(length, width, height)))), name="collision")
        moving = layout.kinds[k] == BOT
        link = el("link", *values(gravity=not moving, kinematic=moving), visual, collision, name="body")
        models.append(el("model", *values(static=not moving), pose(x, y, 0.0, yaw=yaw), link,
                         name=gz.object_model(k)))
    return models


def _identifier(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name) or "track"


def _model_config(name: str, description: str) -> str:
    root = el("model", *values(name=name, version="1.0"), el("sdf", text="model.sdf", version="1.9"),
              *values(description=description))
    ET.indent(root, space="  ")
    return '<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
