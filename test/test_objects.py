"""Object avoidance and head-to-bot: keys, placement, bot motion, crashes, the object params worked
out by hand on a circle, and the camera drawing boxes where the pinhole model puts them."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from racer_agent.env import episode
from racer_agent.env.race import Race, RaceConfig
from racer_agent.evaluation.laps import drive_laps
from racer_agent.evaluation.scripted import CentreLineDriver
from racer_agent.training import config as train_config
from racer_agent.training.options import session_arguments
from racer_core import builtin_tracks
from racer_core.camera import BOX_COLUMNS, camera_from
from racer_core.objects import (
    CAR_FOOTPRINT,
    CLEAR_BEFORE_LINE,
    COLLISION_PENALTY,
    ObjectsError,
    RaceObjects,
    rectangles_overlap,
)
from racer_core.objects_on_track import ObjectsOnTrack
from racer_core.scenery import Look
from racer_core.simulator import Simulator
from racer_core.topdown import TopDownView
from racer_core.track import Track

RADIUS, HALF_WIDTH, POINTS = 5.0, 0.5, 720


@pytest.fixture(scope="module")
def circle() -> Track:
    """A counter-clockwise circle: lanes at radius 5 -+ 0.25 (inner first), heading = angle + 90 deg."""
    a = np.linspace(0, 2 * np.pi, POINTS, endpoint=False)
    ring = np.stack([np.cos(a), np.sin(a)], axis=1)
    return Track("circle", RADIUS * ring, (RADIUS - HALF_WIDTH) * ring, (RADIUS + HALF_WIDTH) * ring)


def angle_at(track: Track, along: float) -> float:
    return 2 * np.pi * along / track.length


# ----------------------------------------------------------------------------------- keys
def test_keys_defaults_drfc_names_and_refusals(circle, tmp_path):
    assert RaceObjects().obstacles == 0 and RaceObjects().bots == 0
    oa, h2b = RaceObjects(race_type="object_avoidance"), RaceObjects(race_type="head_to_bot")
    assert (oa.obstacles, oa.bots, h2b.obstacles, h2b.bots, h2b.bot_car_speed) == (6, 0, 0, 3, 0.2)
    drfc = RaceObjects.from_dict({"DR_RACE_TYPE": "HEAD_TO_BOT", "DR_H2B_NUMBER_OF_BOT_CARS": "2",
                                  "DR_H2B_IS_LANE_CHANGE": "True", "DR_H2B_BOT_CAR_SPEED": "0.5"})
    assert (drfc.race_type, drfc.bots, drfc.is_lane_change, drfc.bot_car_speed) == ("head_to_bot", 2, True, 0.5)
    assert RaceObjects.from_dict({"OBJECT_POSITIONS": "0.23,-1;0.46,1"}).positions == [(0.23, -1), (0.46, 1)]
    for bad, words in (({"number_of_obstacles": -1}, "whole number"), ({"number_of_obstacles": 2.5}, "whole number"),
                       ({"object_positions": "0.2;0.4,1"}, "fraction,lane"), ({"race_type": "f1"}, "race_type"),
                       ({"obstacle_type": "cone"}, "obstacle_type"), ({"bot_car_speed": -1}, ">= 0"),
                       ({"number_of_obstacles": 20, "min_distance_between_obstacles": 2.0}, "do not fit")):
        with pytest.raises(ObjectsError, match=words):
            RaceObjects.from_dict(bad).check(circle.length)
    with pytest.raises(ObjectsError, match="unknown race key"):
        RaceObjects.from_dict({"number_of_boxes": 3})
    # the same keys from a racer config, a run.env and the command line's flags
    env = tmp_path / "run.env"
    env.write_text("DR_WORLD_NAME=reInvent2019_track\nDR_RACE_TYPE=OBJECT_AVOIDANCE\n"
                   "DR_OA_NUMBER_OF_OBSTACLES=4  # four boxes\nDR_OA_RANDOMIZE_OBSTACLE_LOCATIONS=True\n")
    loaded = train_config.load(env)
    assert RaceObjects.from_dict(loaded.race) == RaceObjects(race_type="object_avoidance", number_of_obstacles=4,
                                                             randomize_obstacle_locations=True)
    values = {"race": "head_to_bot", "bots": 2, "bot_speed": 0.5, "lane_change": True}
    overrides = session_arguments(values)["overrides"]
    assert train_config.load(None, **overrides).race == {"race_type": "head_to_bot", "number_of_bot_cars": 2,
                                                         "bot_car_speed": 0.5, "is_lane_change": True}
    merged = train_config.load(env, **session_arguments({"obstacles": 2})["overrides"]).race
    assert merged["number_of_obstacles"] == 2 and merged["randomize_obstacle_locations"] is True
    with pytest.raises(train_config.ConfigError, match="race: .*whole number"):
        train_config.load(None, race={"number_of_obstacles": -2})


# ------------------------------------------------------------------------------ placement
def test_fixed_placement_alternates_lanes_and_keeps_the_start_clear(circle):
    objects = ObjectsOnTrack(RaceObjects(race_type="object_avoidance"), circle)
    objects.reset(np.random.default_rng(0), reversed_=False)
    expected = np.linspace(2.0, circle.length - CLEAR_BEFORE_LINE, 6)
    np.testing.assert_allclose(objects.along, expected)
    np.testing.assert_array_equal(objects.lateral, [1, -1, 1, -1, 1, -1])  # inner first
    radii = np.hypot(objects.poses[:, 0], objects.poses[:, 1])
    np.testing.assert_allclose(radii, RADIUS - 0.25 * objects.lateral, atol=2e-3)  # lanes halfway to the borders
    # the yaw follows the lane: on a CCW circle, the angle plus 90 degrees
    yaw = np.arctan2(objects.poses[:, 1], objects.poses[:, 0]) + np.pi / 2
    np.testing.assert_allclose(np.angle(np.exp(1j * (objects.poses[:, 2] - yaw))), 0, atol=1e-2)


def test_randomised_placement_keeps_order_and_gaps_and_changes_every_episode(circle):
    cfg = RaceObjects(race_type="object_avoidance", randomize_obstacle_locations=True,
                      min_distance_between_obstacles=1.5)
    objects = ObjectsOnTrack(cfg, circle)
    rng = np.random.default_rng(3)
    layouts = []
    for _ in range(20):
        objects.reset(rng, reversed_=False)
        along = objects.along.copy()
        assert np.all(np.diff(along) >= 1.5 - 1e-9)
        assert along[0] >= 1.5 and along[-1] <= circle.length - CLEAR_BEFORE_LINE
        layouts.append(along)
    assert len({tuple(np.round(a, 6)) for a in layouts}) == 20
    again = ObjectsOnTrack(cfg, circle)
    again.reset(np.random.default_rng(3), reversed_=False)
    np.testing.assert_array_equal(again.along, layouts[0])  # seeded


def test_an_object_near_the_start_puts_the_car_on_the_other_lane(circle):
    race = Race(RaceConfig(track=circle, objects={"object_positions": "0.01,1"}, start="start_line"))
    race.reset_car(0)
    x, y = race.sim.state[0, :2]
    assert math.hypot(x, y) == pytest.approx(RADIUS + 0.25, abs=5e-3)  # outer lane: the box is on the inner
    free = Race(RaceConfig(track=circle, objects={"object_positions": "0.5,1"}, start="start_line"))
    free.reset_car(0)
    assert math.hypot(*free.sim.state[0, :2]) == pytest.approx(RADIUS, abs=5e-3)


# --------------------------------------------------------------------------------- params
@pytest.mark.parametrize("reverse", [False, True])
def test_object_params_by_hand(circle, reverse):
    race = Race(RaceConfig(track=circle, objects={"object_positions": "0.25,1;0.5,-1;0.75,1"}, start="start_line"))
    race.reset_car(0, start_fraction=0.1, reverse=reverse)
    m = race.sim.measure()
    _, _, params, _ = race.judge(0, 0, m[0])
    length = circle.length
    assert params["objects_distance"] == pytest.approx([0.25 * length, 0.5 * length, 0.75 * length])
    sign = -1 if reverse else 1  # reversed, the circle is driven clockwise from the same line
    for k, (fraction, lane) in enumerate(((0.25, 1), (0.5, -1), (0.75, 1))):
        theta = sign * 2 * np.pi * fraction
        r = RADIUS - 0.25 * lane
        assert params["objects_location"][k] == pytest.approx([r * math.cos(theta), r * math.sin(theta)], abs=3e-3)
        heading = theta + sign * np.pi / 2
        assert math.cos(params["objects_heading"][k] - heading) == pytest.approx(1.0, abs=1e-4)  # radians
        assert params["objects_distance_from_center"][k] == pytest.approx(0.25, abs=2e-3)
        # the inner lane is on the left going counter-clockwise, on the right going clockwise
        assert params["objects_left_of_center"][k] == ((lane == 1) != reverse)
    assert isinstance(params["objects_location"][0], list) and isinstance(params["objects_heading"][0], float)
    assert params["objects_speed"] == [0.0, 0.0, 0.0]
    assert params["closest_objects"] == [2, 0]  # behind: the last one (wrapping), ahead: the first
    assert params["object_in_camera"] is True  # 4.7 m round the bend, 27 degrees off the heading
    assert params["is_crashed"] is False
    x, y, yaw = race.sim.state[0, :3]
    race.sim.place(0, x, y, yaw - sign * np.pi / 2)  # facing out of the circle: the next box is 63 degrees
    _, _, params, _ = race.judge(0, 0, race.sim.measure()[0])  # off the 60-degree half field of view
    assert params["closest_objects"] == [2, 0] and params["object_in_camera"] is False
    # half a metre before the middle box, facing it: it is in view, and between the first and it
    race.reset_car(0, start_fraction=0.5 - 0.5 / length, reverse=reverse)
    _, _, params, _ = race.judge(0, 0, race.sim.measure()[0])
    assert params["closest_objects"] == [0, 1] and params["object_in_camera"] is True
    # on the closing stretch of the lap, the next object is the first one again
    race.reset_car(0, start_fraction=0.95, reverse=reverse)
    _, _, params, _ = race.judge(0, 0, race.sim.measure()[0])
    assert params["closest_objects"] == [2, 0]


# ------------------------------------------------------------------------------- crashes
def test_true_overlap_catches_a_corner_in_the_cars_side():
    car = np.array([0.0, 0.0, 0.0])
    # a box turned 45 degrees whose corner pokes 3 cm into the car's left side, no car corner inside it
    diagonal = 0.5 * math.hypot(0.5, 0.4)
    box = np.array([[0.0, CAR_FOOTPRINT[1] / 2 + diagonal * math.sin(math.atan2(0.4, 0.5) + math.pi / 4) - 0.03,
                     math.pi / 4]])
    assert rectangles_overlap(car, CAR_FOOTPRINT, box, np.array([[0.5, 0.4]]))[0]
    box[0, 1] += 0.06
    assert not rectangles_overlap(car, CAR_FOOTPRINT, box, np.array([[0.5, 0.4]]))[0]


def test_running_into_a_box_ends_the_episode_as_crashed_with_is_crashed(circle):
    seen = []

    def reward_function(params):
        seen.append(params["is_crashed"])
        return 1.0

    race = Race(RaceConfig(track=circle, objects={"object_positions": "0.5,1"}, start="start_line",
                           reward_function=reward_function))
    race.reset_car(0, start_fraction=0.5 - 1.0 / circle.length)
    lane = race.objects[0].lanes[False].poses(np.array([0.5 * circle.length - 1.0]), np.array([1.0]))[0]
    race.sim.place(0, *lane)
    statuses = []
    for _ in range(30):
        _, status, params, command = race.judge(0, 0, race.sim.measure()[0])
        statuses.append(status)
        if status != episode.IN_PROGRESS:
            break
        race.advance(np.array([[0.0, 1.0]]))
    assert statuses[-1] == episode.CRASHED and seen[-1] is True and not any(seen[:-1])
    assert race.hit[0] == 0


# ----------------------------------------------------------------------------------- bots
def test_bots_drive_their_lane_change_smoothly_and_pause_when_they_run_into_the_car(circle):
    cfg = RaceObjects(race_type="head_to_bot", number_of_bot_cars=2, bot_car_speed=0.5, is_lane_change=True,
                      lower_lane_change_time=1.0, upper_lane_change_time=1.0, lane_change_distance=1.0,
                      bot_car_penalty=2.0)
    bots = ObjectsOnTrack(cfg, circle)
    bots.reset(np.random.default_rng(0), reversed_=False)
    start = bots.along.copy()
    lateral = []
    for _ in range(45):  # 3 s: wait 1 s, change lanes over 1 m / 0.5 m/s = 2 s
        bots.advance(1 / 15)
        lateral.append(bots.lateral[0])
    np.testing.assert_allclose(bots.along, (start + 0.5 * 3.0) % circle.length, atol=1e-9)
    lateral = np.array(lateral)
    assert lateral[13] == pytest.approx(1.0) and lateral[-1] == pytest.approx(-1.0, abs=1e-6)
    steps = np.diff(lateral)  # one way, smoothly: a smoothstep's steepest is 1.5 times its mean
    assert np.all(steps <= 1e-12) and np.max(np.abs(steps)) < 1.5 * 2 / 30 + 1e-3
    # a bot rear-ending the car: not the car's crash, and every bot waits out the penalty
    bot = bots.poses[0]
    car = np.array([bot[0] + 0.25 * math.cos(bot[2]), bot[1] + 0.25 * math.sin(bot[2]), bot[2]])
    assert bots.collide(car, bots.along[0] + 0.25 + 0.14) == -1
    held = bots.along.copy()
    for _ in range(29):
        bots.advance(1 / 15)
    np.testing.assert_array_equal(bots.along, held)
    assert bots.params(0.0, car, camera_from())["objects_speed"] == [0.0, 0.0]
    bots.advance(1 / 15)
    bots.advance(1 / 15)
    assert np.all(bots.along != held) and bots.bot_pauses == 1
    # the car running into a bot from behind is its crash
    bot = bots.poses[1]
    behind = np.array([bot[0] - 0.25 * math.cos(bot[2]), bot[1] - 0.25 * math.sin(bot[2]), bot[2]])
    assert bots.collide(behind, bots.along[1] - 0.25 + 0.14) == 1


# --------------------------------------------------------------------------------- camera
def pinhole_pixel(car, camera, point):
    """Row and column of a world point through a pinhole at the camera's mount, computed apart
    from the renderer: rotate into the camera frame, divide by depth."""
    x, y, yaw = car
    p = math.radians(camera.pitch_deg)
    f = camera.width / 2 / math.tan(math.radians(camera.hfov_deg) / 2)
    rel = np.asarray(point, float) - np.array([x + camera.mount_x * math.cos(yaw),
                                               y + camera.mount_x * math.sin(yaw), camera.mount_z])
    yaw_rot = np.array([[math.cos(yaw), math.sin(yaw), 0], [-math.sin(yaw), math.cos(yaw), 0], [0, 0, 1]])
    ahead, left, up = yaw_rot @ rel
    depth = ahead * math.cos(p) - up * math.sin(p)
    height = ahead * math.sin(p) + up * math.cos(p)
    return camera.height / 2 - height / depth * f - 0.5, camera.width / 2 - left / depth * f - 0.5


@pytest.mark.parametrize("preset", ["deepracer_car", "deepracer_sim"])
def test_a_box_lands_where_the_pinhole_puts_it_and_hides_what_is_behind(preset):
    track = builtin_tracks.build("oval")
    camera = camera_from(preset, grayscale=False)
    sim = Simulator(track, num_cars=2, camera=camera)
    for car in (0, 1):
        sim.place_on_track(car, 1.0)
    car = sim.state[0, :3].copy()
    yaw = car[2]
    ahead = np.array([math.cos(yaw), math.sin(yaw)])
    centre = car[:2] + 1.2 * ahead
    box = np.array([[*centre, yaw, 0.40, 0.30, 0.25, 0]])
    sim.set_objects(0, box)
    frames = sim.render()
    drawn = np.any(frames[0] != frames[1], axis=2)
    rows, cols = np.nonzero(drawn)
    # the near face: its bottom edge and its top corners, through the pinhole
    side = np.array([-ahead[1], ahead[0]])
    near = centre - 0.2 * ahead
    bottom, _ = pinhole_pixel(car, camera, [*near, 0.0])
    top, left_col = pinhole_pixel(car, camera, [*(near + 0.15 * side), 0.25])
    _, right_col = pinhole_pixel(car, camera, [*(near - 0.15 * side), 0.25])
    assert abs(rows.max() - bottom) <= 1.0 and abs(rows.min() - top) <= 1.0
    assert abs(cols.min() - left_col) <= 1.0 and abs(cols.max() - right_col) <= 1.0
    colours = Look().object_colours(grayscale=False)
    assert (frames[0][drawn] == colours[0, 1]).all()  # the end face, seen square on: one shade
    # a bot car just in front of the box hides part of it, whichever order they are listed in
    bot = np.array([[*(centre - 0.5 * ahead), yaw, 0.32, 0.19, 0.21, 1]])
    for order in (np.vstack([box, bot]), np.vstack([bot, box])):
        sim.set_objects(0, order)
        frame = sim.render()[0]
        r, c = pinhole_pixel(car, camera, [*(centre - 0.5 * ahead - 0.16 * ahead), 0.1])
        assert (frame[round(r), round(c)] == colours[1, 1]).all()
    # taken away, the sky and ground it covered come back exactly
    sim.set_objects(0, np.zeros((0, BOX_COLUMNS)))
    frames = sim.render()
    np.testing.assert_array_equal(frames[0], frames[1])


def test_domain_randomisation_recolours_objects_and_top_down_shows_them():
    rng = np.random.default_rng(1)
    looks = [Look.random(rng).object_colours(grayscale=True) for _ in range(3)]
    assert len({lk.tobytes() for lk in looks}) == 3
    race = Race(RaceConfig(track="oval", objects={"race_type": "object_avoidance", "number_of_obstacles": 3}))
    race.reset_car(0)
    boxes = race.objects[0].boxes()
    view = TopDownView(race.sim.scenery)
    img = race.top_down()
    px = np.round(view.to_pixels(boxes[:, :2])).astype(int)
    for x, y in px:
        assert tuple(img[y, x]) == (123, 97, 79)


# ----------------------------------------------------------------------------- evaluation
def test_evaluation_counts_crashes_and_with_penalties_goes_on_behind_the_box():
    track = builtin_tracks.build("oval")
    objects = {"object_positions": "0.3,1;0.3,-1"}  # a box on each lane: the centre line is blocked
    race = Race(RaceConfig(track=track, objects=objects, start="start_line"))
    driver = CentreLineDriver(race.actions, speed=1.0)
    params = [None]

    def policy(frames):
        return np.array([driver(params[0])])

    original = race.judge

    def judge(car, action, m):
        out = original(car, action, m)
        params[0] = out[2]
        return out

    race.judge = judge
    laps, _ = drive_laps(race, policy, [0.0])
    assert laps[0].status == episode.CRASHED and laps[0].crashed == 1 and not laps[0].completed
    laps, _ = drive_laps(race, policy, [0.0], penalty_seconds=2.0, crash_penalty_seconds=5.0)
    lap = laps[0]
    assert lap.crashed >= 1 and lap.lap_time_s > 5.0 * lap.crashed


# ---------------------------------------------------------------------- training, evaluation
def test_a_run_trains_among_objects_records_its_race_and_is_evaluated_in_it(tmp_path):
    """A short object-avoidance run with the shipped example reward: the race reaches the cars, the
    iteration log counts crashes, the model's metadata records the race, and racer evaluate
    drives the same race (or another one when told), counting crashes per lap."""
    from racer_agent.evaluation.report import evaluate_as_trained
    from racer_agent.training.run_directory import RunDirectory, read_csv
    from racer_agent.training.trainer import Trainer

    example = Path(__file__).resolve().parents[1] / "examples" / "object_avoidance_reward.py"
    cfg = train_config.load(track="oval", num_cars=4, eval_laps=1, eval_every_samples=10**9, torch_threads=1,
                            steps=600, reward=str(example), race={"race_type": "object_avoidance",
                                                                  "number_of_obstacles": 3},
                            hyperparameters={"num_episodes_between_training": 4, "batch_size": 128})
    Trainer(cfg, tmp_path / "run", show_progress=False).train()
    run = RunDirectory(tmp_path / "run")
    assert json.loads(run.metadata.read_text())["racer"]["trained_on"]["race"] == {
        "race_type": "object_avoidance", "number_of_obstacles": 3}
    rows = read_csv(run.iterations_csv)
    episodes = [r for r in read_csv(run.episodes_csv) if r["phase"] == "train"]
    crashes = sum(r["status"] == episode.CRASHED for r in episodes)
    assert crashes > 0 and sum(int(r["crashes"]) for r in rows) == crashes  # the boxes reached the cars
    report = evaluate_as_trained(run.root, laps=1, out_dir=tmp_path / "eval")[0]
    assert report["race"] == {"race_type": "object_avoidance", "number_of_obstacles": 3}
    assert "crashed" in report["laps"][0] and report["crash_count"] == report["laps"][0]["crashed"]
    bots = evaluate_as_trained(run.root, laps=1, out_dir=tmp_path / "bots", race={"race_type": "head_to_bot",
                                                                                   "number_of_obstacles": 0})[0]
    assert bots["race"] == {"race_type": "head_to_bot", "number_of_obstacles": 0}
    assert (tmp_path / "bots" / "driven_lines.png").is_file()


# ------------------------------------------------------------------------------ racer race
def fixed_action_model(out: Path, action: int) -> Path:
    """An exported model that always picks one action: a known driver for a race between models."""
    import torch

    from racer_agent.env.actions import ActionSpace
    from racer_agent.evaluation import model_metadata
    from racer_agent.evaluation.export import export
    from racer_agent.evaluation.policy import TorchPolicy, build_model

    camera, actions = camera_from(), ActionSpace.from_spec()
    model = build_model("RACER_SMALL", camera.shape, actions)
    with torch.no_grad():
        model.actor_head.weight.zero_()
        model.actor_head.bias.copy_(torch.nn.functional.one_hot(torch.tensor(action), len(actions.table)) * 20.0)
    export(TorchPolicy(model, model_metadata.build(actions, "RACER_SMALL", camera, ["oval"])), out)
    return out


def test_models_race_each_other_seeing_each_other_and_are_ranked_by_finish_time(tmp_path):
    from racer_agent.evaluation.head_to_head import HeadToHead, race

    fast = fixed_action_model(tmp_path / "fast", 3)  # straight at 4 m/s
    slow = fixed_action_model(tmp_path / "slow", 7)  # straight at 2 m/s
    head = HeadToHead([slow, fast], ["slow", "fast"], builtin_tracks.build("oval"), laps=1)
    head._show_each_other()
    seen = head.sim.render().copy()
    for car in (0, 1):
        head.sim.set_objects(car, np.zeros((0, BOX_COLUMNS)))
    alone = head.sim.render()
    assert (seen[1] != alone[1]).sum() > 20  # the second car sees the first one ahead
    np.testing.assert_array_equal(seen[0], alone[0])  # the first sees nobody: the other is behind
    # touching: the car behind ran into the one ahead and waits out the collision penalty where it is
    x, y, yaw = head.sim.state[0, :3]
    head.sim.place(1, x - 0.25 * math.cos(yaw), y - 0.25 * math.sin(yaw), yaw)
    head._judge()
    assert [c.crashes for c in head.cars] == [0, 1] and head.cars[1].waiting_s == COLLISION_PENALTY
    result = race([slow, fast], track="oval", laps=1, out_dir=tmp_path / "race", video=tmp_path / "race.mp4")
    ranking = result["ranking"]
    assert {r["name"] for r in ranking} == {"fast", "slow"} and [r["place"] for r in ranking] == [1, 2]
    assert all(r["finish_s"] is not None and r["laps"] == 1 for r in ranking)
    assert ranking[0]["finish_s"] <= ranking[1]["finish_s"] == pytest.approx(sum(ranking[1]["lap_times_s"]))
    # driving straight round an oval: put back on the road each time, and the waits are in the time
    assert all(r["off_track"] >= 3 and r["finish_s"] > 2.0 * r["off_track"] for r in ranking)
    assert json.loads((tmp_path / "race" / "race.json").read_text())["ranking"] == ranking
    assert (tmp_path / "race.mp4").stat().st_size > 10_000


def test_a_race_with_objects_resumes_exactly():
    """The race's state carries the objects' (layouts, bot clocks, the shared random generator)."""
    keys = {"race_type": "head_to_bot", "number_of_obstacles": 2, "randomize_obstacle_locations": True,
            "number_of_bot_cars": 2, "is_lane_change": True, "lower_lane_change_time": 0.2,
            "upper_lane_change_time": 0.4, "bot_car_speed": 0.5}
    race = Race(RaceConfig(track="oval", objects=keys), num_cars=2)
    race.seed(4)
    for car in (0, 1):
        race.reset_car(car)

    def drive(steps: int) -> list:
        seen = []
        for step in range(steps):
            for car in (0, 1):
                _, status, params, _ = race.judge(car, 3, race.sim.measure()[car])
                seen.append((params["objects_location"], params["closest_objects"], status))
                if status != episode.IN_PROGRESS or step % 7 == 6:
                    race.reset_car(car)  # new random layouts from the race's generator
            race.advance(np.array([[0.0, 1.0], [5.0, 1.5]]))
        return seen

    drive(10)
    saved = race.state_dict()
    after = drive(20)
    race.load_state_dict(saved)
    assert drive(20) == after


def test_bench_learn_judges_a_race_the_console_way_and_on_unseen_layouts(monkeypatch):
    from racer_agent.bench import learn

    monkeypatch.setattr(learn, "UNSEEN_LAPS", 4)  # the count is the benchmark's; the test checks the tally
    result = learn.run(["oval"], 1, 0.05, None, race={"race_type": "object_avoidance", "number_of_obstacles": 2,
                                                     "randomize_obstacle_locations": True}, time_trial=False)
    assert result["race"] == {"race_type": "object_avoidance", "number_of_obstacles": 2,
                              "randomize_obstacle_locations": True}
    assert result["race_eval_laps"] == learn.train_config.EVAL_CARS_DRAWN  # a draw per car: 8 layouts a check
    oval = result["tracks"]["oval"]
    assert "racer" not in oval and oval["runs"]["racer"] == []  # the time trial was not asked for
    (row,) = oval["runs"]["object_avoidance"]
    assert row["unseen_layout_laps"] == learn.UNSEEN_LAPS
    assert 0 <= row["unseen_layout_completed"] <= learn.UNSEEN_LAPS
    assert oval["object_avoidance"]["unseen_layout_completion"] == round(row["unseen_layout_completed"]
                                                                         / learn.UNSEEN_LAPS, 3)
    clean = row["consecutive_laps"] == learn.CONSOLE_LAPS and not row["consecutive_crashes"] \
        and not row["consecutive_off_track"]
    assert oval["object_avoidance"]["every_seed_consecutive_clean"] == clean
    assert len(row["consecutive_lap_times_s"]) == row["consecutive_laps"]
