"""Gazebo worlds and the car model: committed = generated, valid for libsdformat (Debian's `ign sdf -k`,
installed by scripts/setup.sh), and carrying racer's own car, camera and ground."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest

from racer_core import builtin_tracks
from racer_core import gazebo_interface as gz
from racer_core.camera import camera_from
from racer_core.scenery import ASPHALT, FLOOR, Look, Scenery
from racer_core.track import Track
from racer_core.vehicle import VehicleParams
from racer_sim.gazebo_car import kingpin_width
from racer_sim.gazebo_world import CAR_MODEL_DIR, TEXTURE_FILE, WORLD_FILE, WorldConfig, write_world

ROOT = Path(__file__).resolve().parents[1]
WORLDS = ROOT / "worlds"


def validate(path: Path) -> None:
    assert shutil.which("ign"), "ign (ignition-tools + sdformat) missing: scripts/setup.sh installs it"
    result = subprocess.run(["ign", "sdf", "-k", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Valid." in result.stdout, f"{path}:\n{result.stdout}{result.stderr}"


def files_under(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}


def plugin_params(model: ET.Element, name: str) -> dict[str, list[str]]:
    element = next(p for p in model.iter("plugin") if p.get("name") == name)
    params: dict[str, list[str]] = {}
    for child in element:
        params.setdefault(child.tag, []).append(child.text)
    return params


def floats(text: str) -> list[float]:
    return [float(v) for v in text.split()]


@pytest.mark.parametrize("track", builtin_tracks.names())
def test_committed_worlds_are_what_racer_generates(track, tmp_path):
    written = write_world(builtin_tracks.build(track), tmp_path)
    assert files_under(WORLDS / track) == {p.relative_to(tmp_path) for p in written}
    for path in written:
        committed = WORLDS / track / path.relative_to(tmp_path)
        if path.suffix == ".png":
            assert np.array_equal(cv2.imread(str(committed)), cv2.imread(str(path))), committed
        else:
            assert committed.read_text() == path.read_text(), f"{committed} differs: run racer gazebo world {track}"


@pytest.mark.parametrize("track", builtin_tracks.names())
def test_committed_worlds_and_car_validate(track):
    validate(WORLDS / track / WORLD_FILE)
    validate(WORLDS / track / CAR_MODEL_DIR / "model.sdf")


def test_worlds_of_a_deepracer_route_and_of_an_open_track_validate(reinvent_base, tmp_path):
    route = builtin_tracks.load(reinvent_base)
    for path in write_world(route, tmp_path / "route"):
        if path.suffix == ".sdf":
            validate(path)
    k = len(route.center) * 2 // 3  # two thirds of the loop, not closed
    open_track = Track("open_reinvent", route.center[:k], route.inner[:k], route.outer[:k], closed=False)
    for path in write_world(open_track, tmp_path / "open"):
        if path.suffix == ".sdf":
            validate(path)


def test_the_validator_can_fail(tmp_path):
    broken = (WORLDS / "oval" / CAR_MODEL_DIR / "model.sdf").read_text().replace(
        "<child>rear_left_wheel</child>", "<child>no_such_link</child>")
    (tmp_path / "model.sdf").write_text(broken)
    result = subprocess.run(["ign", "sdf", "-k", str(tmp_path / "model.sdf")], capture_output=True, text=True)
    assert result.returncode != 0


def test_the_car_has_racers_dimensions_and_ackermann_settings():
    vehicle = VehicleParams()
    model = ET.parse(WORLDS / "circuit" / CAR_MODEL_DIR / "model.sdf").getroot().find("model")
    assert model.get("name") == gz.CAR
    ack = plugin_params(model, "gz::sim::systems::AckermannSteering")
    assert float(ack["wheel_base"][0]) == pytest.approx(vehicle.wheelbase)
    assert float(ack["wheel_separation"][0]) == pytest.approx(vehicle.track_width)
    assert float(ack["wheel_radius"][0]) == pytest.approx(vehicle.wheel_radius)
    assert float(ack["kingpin_width"][0]) == pytest.approx(kingpin_width(vehicle))
    # the plugin's centre steering limit is atan(sin(steering_limit)): it must come out at the car's 30 degrees
    assert math.atan(math.sin(float(ack["steering_limit"][0]))) == pytest.approx(math.radians(vehicle.max_steer_deg),
                                                                               abs=1e-6)
    assert ack["topic"] == [gz.CMD_VEL] and ack["odom_topic"] == [gz.WHEEL_ODOMETRY]
    assert sorted(ack["left_joint"] + ack["right_joint"]) == sorted(
        f"{end}_{side}_wheel_joint" for end in ("front", "rear") for side in ("left", "right"))
    assert "max_velocity" not in ack  # the plugin would cap the yaw rate with it too

    links = {link.get("name"): link for link in model.findall("link")}
    r, half_base, half_track = vehicle.wheel_radius, vehicle.wheelbase / 2, vehicle.track_width / 2
    for end, x in (("front", half_base), ("rear", -half_base)):
        for side, y in (("left", half_track), ("right", -half_track)):
            wheel = links[f"{end}_{side}_wheel"]
            assert floats(wheel.findtext("pose"))[:3] == pytest.approx([x, y, r])
            assert float(wheel.findtext("collision/geometry/cylinder/radius")) == pytest.approx(r)
    joints = {j.get("name"): j for j in model.findall("joint")}
    turn_radius = vehicle.wheelbase / math.tan(math.radians(vehicle.max_steer_deg))
    inner_wheel = math.atan(vehicle.wheelbase / (turn_radius - kingpin_width(vehicle) / 2))
    for side in ("left", "right"):
        joint = joints[f"front_{side}_steering_joint"]
        assert joint.findtext("child") == f"front_{side}_steering_link"
        assert float(joint.findtext("axis/limit/upper")) > inner_wheel  # the inner wheel can turn far enough

    odom = plugin_params(model, "gz::sim::systems::OdometryPublisher")
    assert odom["odom_topic"] == [gz.ODOMETRY] and odom["tf_topic"] == [gz.POSE]
    assert float(odom["odom_publish_frequency"][0]) == vehicle.control_hz * gz.ODOMETRY_PER_FRAME


@pytest.mark.parametrize("preset", ["deepracer_car", "deepracer_sim"])
def test_the_camera_is_racers_preset(preset, tmp_path):
    camera, vehicle = camera_from(preset), VehicleParams()
    write_world(builtin_tracks.build("oval"), tmp_path, WorldConfig(camera=camera))
    sensor = ET.parse(tmp_path / CAR_MODEL_DIR / "model.sdf").getroot().find("model/link/sensor")
    assert sensor.get("type") == "camera" and sensor.get("name") == gz.CAMERA_SENSOR
    assert floats(sensor.findtext("pose")) == pytest.approx(
        [camera.mount_x, 0, camera.mount_z, 0, math.radians(camera.pitch_deg), 0])
    assert float(sensor.findtext("camera/horizontal_fov")) == pytest.approx(math.radians(camera.hfov_deg))
    assert int(sensor.findtext("camera/image/width")) == camera.width
    assert int(sensor.findtext("camera/image/height")) == camera.height
    assert sensor.findtext("camera/image/format") == ("L8" if camera.grayscale else "R8G8B8")
    assert float(sensor.findtext("update_rate")) == vehicle.control_hz
    assert sensor.findtext("topic") == gz.CAMERA_IMAGE
    assert sensor.findtext("camera/optical_frame_id") == gz.CAMERA_OPTICAL_FRAME


def test_the_world_has_the_systems_physics_and_light_asked_for(tmp_path):
    write_world(builtin_tracks.build("oval"), tmp_path, WorldConfig(steps_per_frame=30, real_time_factor=2.0))
    world = ET.parse(tmp_path / WORLD_FILE).getroot().find("world")
    assert world.get("name") == gz.WORLD
    step = float(world.findtext("physics/max_step_size"))
    assert gz.steps_per_period(step, VehicleParams().dt) == 30
    assert float(world.findtext("physics/real_time_factor")) == 2.0
    assert {p.get("name") for p in world.findall("plugin")} == {
        "gz::sim::systems::Physics", "gz::sim::systems::UserCommands", "gz::sim::systems::SceneBroadcaster",
        "gz::sim::systems::Sensors"}
    assert world.findtext("plugin/render_engine") == "ogre2"
    assert world.findtext("scene/shadows") == "false" and world.findtext("light/cast_shadows") == "false"
    committed = ET.parse(WORLDS / "oval" / WORLD_FILE).getroot().find("world")
    assert float(committed.findtext("physics/real_time_factor")) == 0.0  # as fast as possible by default
    with pytest.raises(ValueError, match="real_time_factor"):
        write_world(builtin_tracks.build("oval"), tmp_path, WorldConfig(real_time_factor=-1.0))


def test_the_ground_texture_is_the_embedded_simulators_ground():
    """Asphalt where the embedded camera sees asphalt, grass where it sees grass, north up: circuit is
    not symmetric, so a flipped or shifted texture puts grass under these road points."""
    track = builtin_tracks.build("circuit")
    scenery = Scenery.from_track(track)
    world = ET.parse(WORLDS / "circuit" / WORLD_FILE).getroot().find("world")
    ground = world.find("model")
    centre = floats(ground.findtext("pose"))[:2]
    size = floats(ground.findtext("link/visual/geometry/plane/size"))
    assert ground.findtext("link/visual/material/pbr/metal/albedo_map") == TEXTURE_FILE
    texture = cv2.imread(str(WORLDS / "circuit" / TEXTURE_FILE))[:, :, ::-1].astype(float)
    h, w = texture.shape[:2]
    assert size == pytest.approx([w * 0.02, h * 0.02], abs=0.021)
    colours = Look().colours()

    def texel(x: float, y: float) -> np.ndarray:
        col = int((x - (centre[0] - size[0] / 2)) / size[0] * w)
        row = int(((centre[1] + size[1] / 2) - y) / size[1] * h)
        return texture[row, col]

    grass_points = 0
    for distance in np.linspace(0.5, track.length - 0.5, 12):  # not on the start line
        (x, y), heading = track.point_at(distance)
        left = np.array([-math.sin(heading), math.cos(heading)])
        road = np.array([x, y]) + left * track.median_width / 4  # between the centre line and the border
        assert label(scenery, road) == ASPHALT
        assert np.abs(texel(*road) - colours[ASPHALT]).max() < 30, (distance, texel(*road))
        for side in (1, -1):
            grass = np.array([x, y]) + side * left * (track.median_width / 2 + 0.8)
            if label(scenery, grass) == FLOOR:  # not another part of the track
                grass_points += 1
                assert np.abs(texel(*grass) - colours[FLOOR]).max() < 30, (distance, texel(*grass))
    assert grass_points >= 12


def label(scenery: Scenery, point: np.ndarray) -> int:
    ix, iy = ((point - scenery.origin) / scenery.resolution).astype(int)
    return int(scenery.labels[iy, ix])


def test_sim_gazebo_starts_the_world_spawns_the_car_at_the_start_and_bridges(reinvent_base):
    from racer_sim.gazebo_processes import gazebo_processes, world_directory

    world_dir = world_directory("oval")
    processes = {p.name: p for p in gazebo_processes(world_dir, "oval", realtime=False, use_sim_time=False)}
    server = processes["gz_sim"]
    assert server.executable == "gz" and server.arguments[:2] == ["sim", "-s"] and "-r" not in server.arguments
    assert Path(server.arguments[-1]) == world_dir / WORLD_FILE and Path(server.arguments[-1]).is_file()
    assert Path(server.env["GZ_SIM_RESOURCE_PATH"]).is_dir()
    spawn = processes["spawn_car"]
    assert (spawn.package, spawn.executable) == ("ros_gz_sim", "create")
    args = dict(zip(spawn.arguments[::2], spawn.arguments[1::2], strict=True))
    assert args["-world"] == gz.WORLD and args["-name"] == gz.CAR and Path(args["-file"]).is_file()
    x, y, yaw = builtin_tracks.build("oval").pose_at(0.0)
    assert [float(args[k]) for k in ("-x", "-y", "-Y")] == pytest.approx([x, y, yaw], abs=1e-4)
    bridge = processes["gz_bridge"]
    assert (bridge.package, bridge.executable) == ("ros_gz_bridge", "parameter_bridge")
    shipped = ROOT / "src" / "racer_sim" / "config" / "gz_bridge.yaml"
    assert Path(bridge.parameters["config_file"]).read_text() == shipped.read_text()
    realtime = {p.name: p for p in gazebo_processes(world_dir, "oval", realtime=True, use_sim_time=True)}["gz_sim"]
    rate = float(realtime.arguments[realtime.arguments.index("-z") + 1])
    assert "-r" in realtime.arguments and rate * WorldConfig().physics_step == pytest.approx(1.0)  # committed step
    generated = world_directory(str(reinvent_base))  # any route file gets its world generated
    validate(generated / WORLD_FILE)
    shutil.rmtree(generated)


def test_several_gazebo_workers_are_kept_apart_by_partition(monkeypatch):
    from racer_core.gazebo_interface import default_partitions
    from racer_sim.gazebo_processes import gazebo_processes, world_directory

    monkeypatch.setenv("GZ_PARTITION", "run7")
    processes = gazebo_processes(world_directory("oval"), "oval", realtime=False, use_sim_time=False, workers=3)
    servers = [p for p in processes if p.executable == "gz"]
    spawns = [p for p in processes if p.executable == "create"]
    assert [p.env["GZ_PARTITION"] for p in servers] == [p.env["GZ_PARTITION"] for p in spawns] \
        == default_partitions(3) == ["run7_0", "run7_1", "run7_2"]
    assert [p.env.get("GZ_PARTITION") for p in processes if p.name == "gz_bridge"] == ["run7_0"]


def test_an_object_race_world_holds_its_boxes_and_bots_where_the_race_lays_them_out(tmp_path):
    """`racer gazebo world TRACK --race object_avoidance ...`: each object is a model named for its
    place in racer's list, at the first episode's pose, of the reference's size and colour; the
    bots are kinematic without gravity (the client moves them); the world validates."""
    from racer_core.objects import RaceObjects
    from racer_core.objects_on_track import ObjectsOnTrack

    track = builtin_tracks.build("oval")
    race = RaceObjects(race_type="object_avoidance", number_of_obstacles=3, number_of_bot_cars=1)
    result = subprocess.run([str(Path(sys.executable).parent / "racer"), "gazebo", "world", "oval", "--out",
                             str(tmp_path), "--race", "object_avoidance", "--obstacles", "3", "--bots", "1"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    validate(tmp_path / WORLD_FILE)
    layout = ObjectsOnTrack(race, track)
    layout.reset(np.random.default_rng(0), reversed_=False)
    world = ET.parse(tmp_path / WORLD_FILE).getroot().find("world")
    models = {m.get("name"): m for m in world.findall("model") if m.get("name").startswith("object_")}
    assert sorted(models) == [gz.object_model(k) for k in range(4)]
    for k, (x, y, yaw, length, width, height, _) in enumerate(layout.boxes()):
        model = models[gz.object_model(k)]
        assert floats(model.findtext("pose")) == pytest.approx([x, y, 0, 0, 0, yaw], abs=1e-6)
        assert floats(model.findtext("link/visual/geometry/box/size")) == pytest.approx([length, width, height])
        bot = k == 3
        assert model.findtext("static") == ("false" if bot else "true")
        assert model.findtext("link/gravity") == ("false" if bot else "true")
    box_colour = floats(models["object_0"].findtext("link/visual/material/diffuse"))
    assert box_colour == pytest.approx([123 / 255, 97 / 255, 79 / 255, 1.0])
    assert gz.read_world(tmp_path / WORLD_FILE).objects == 4
