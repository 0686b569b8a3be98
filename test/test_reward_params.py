"""Every reward-function param, against values worked out by hand on small tracks, and against the
reference simulator's own geometry library (shapely) on real routes."""

import itertools
import math
import warnings

import numpy as np
import pytest
from conftest import SHARED_TRACKS
from shapely.geometry import LinearRing, Point, Polygon

from racer_agent.env.time_trial import TimeTrialEnv
from racer_core import track_math
from racer_core.track import Track, TrackWarning


def rectangle_route(half_width: float = 0.3) -> np.ndarray:
    """A 4 m x 2 m loop, counter-clockwise, centre points every 0.5 m; the inside is on the left."""
    corners = np.array([[0, 0], [4, 0], [4, 2], [0, 2], [0, 0]], float)
    centre = np.vstack([np.linspace(a, b, round(np.linalg.norm(b - a) / 0.5), endpoint=False)
                        for a, b in itertools.pairwise(corners)])
    inner = np.clip(centre, [half_width, half_width], [4 - half_width, 2 - half_width])
    from_middle = centre - np.array([2.0, 1.0])
    on_edge = np.abs(from_middle) >= np.array([2.0, 1.0]) - 1e-9
    outer = centre + np.sign(from_middle) * on_edge * half_width
    rows = np.hstack([centre, inner, outer])
    return np.vstack([rows, rows[:1]])  # a loop repeats its first row


@pytest.fixture
def rectangle(tmp_path):
    path = tmp_path / "rectangle.npy"
    np.save(path, rectangle_route())
    return path


def first_params(track, action=0, **config):
    env = TimeTrialEnv(track=str(track), start="start_line", **config)
    env.reset(seed=0)
    _obs, _r, _t, _tr, info = env.step(action)
    return env, info["params"]


def test_first_call_by_hand(rectangle):
    env, p = first_params(rectangle)
    steer, speed = env.race.actions.command(0)
    expected = {
        "all_wheels_on_track": True, "x": 0.14, "y": 0.0, "heading": 0.0, "distance_from_center": 0.0,
        "is_left_of_center": False, "progress": 100 * 0.14 / 12.0, "steps": 2, "speed": speed,
        "steering_angle": steer, "track_length": 12.0, "closest_waypoints": [0, 1], "is_reversed": False,
        "is_offtrack": False, "is_crashed": False, "projection_distance": 0.14, "sim_time": 0.0,
        # nearest inner border point to the centre-line point (0.14, 0) is the corner (0.3, 0.3);
        # nearest outer point is (0.14, -0.3)
        "track_width": math.hypot(0.3 - 0.14, 0.3 + 0.3),
        "closest_objects": [0, 0], "objects_location": [], "objects_left_of_center": [], "objects_speed": [],
        "objects_heading": [], "objects_distance_from_center": [], "objects_distance": [],
        "object_in_camera": False,
    }
    for key, value in expected.items():
        assert p[key] == pytest.approx(value, abs=1e-9), key
        assert type(p[key]) is type(value) or (isinstance(value, float) and type(p[key]) is float), key
    rows = rectangle_route()
    assert len(p["waypoints"]) == 25 and p["waypoints"][-1] == p["waypoints"][0]  # the closing repeat
    assert p["waypoints"] == [tuple(r) for r in rows[:, :2].tolist()]
    assert all(type(w) is tuple and all(type(c) is float for c in w) for w in p["waypoints"])
    assert set(p) == set(expected) | {"waypoints"}


def test_second_call_has_moved_and_counted(rectangle):
    env, first = first_params(rectangle)
    _obs, _r, _t, _tr, info = env.step(0)
    p = info["params"]
    assert p["steps"] == 3 and p["sim_time"] == pytest.approx(1 / 15)
    assert p["x"] > first["x"]
    assert p["progress"] == pytest.approx(100 * p["projection_distance"] / 12.0)  # from the origin's start


def test_closest_waypoints_at_the_wrap_index_the_closing_row(rectangle):
    env = TimeTrialEnv(track=str(rectangle))
    env.reset(seed=0, options={"start": 0.97})  # origin at 11.64 m, front at 11.78 m: last segment
    p = env.step(0)[4]["params"]
    assert p["closest_waypoints"] == [23, 24]


def test_reversed_params_follow_the_driving_direction(rectangle):
    env = TimeTrialEnv(track=str(rectangle), direction="reverse", start="start_line")
    env.reset(seed=0)
    p = env.step(0)[4]["params"]
    rows = [tuple(r) for r in rectangle_route()[:, :2].tolist()]
    assert p["waypoints"] == rows[::-1]
    assert p["closest_waypoints"] == [0, 1] and p["is_reversed"]
    assert p["x"] == pytest.approx(0.0) and p["y"] == pytest.approx(0.14)  # driving up the left edge
    assert p["projection_distance"] == pytest.approx(0.14)


def test_params_are_fresh_for_every_call(rectangle):
    seen = []

    def vandal(params):
        seen.append((len(params["waypoints"]), params["waypoints"][0], list(params["closest_waypoints"]),
                     len(params["objects_location"])))
        params["waypoints"].append((9.0, 9.0))
        params["waypoints"][0] = (-1.0, -1.0)
        params["closest_waypoints"][0] = 99
        params["objects_location"].append((1.0, 1.0))
        return 1.0

    env = TimeTrialEnv(track=str(rectangle), start="start_line", reward_function=vandal)
    env.reset(seed=0)
    for _ in range(3):
        env.step(0)
    assert [s[0] for s in seen] == [25, 25, 25] and all(s[1] == (0.0, 0.0) for s in seen)
    assert all(s[2][0] != 99 for s in seen) and all(s[3] == 0 for s in seen)


def test_open_track_progress_over_the_whole_length(tmp_path):
    c = np.stack([np.linspace(0, 3, 13), np.zeros(13)], axis=1)
    path = tmp_path / "straight.npy"
    side = np.array([0.0, 0.4])
    np.save(path, np.hstack([c, c + side, c - side]))
    env = TimeTrialEnv(track=str(path), action_space=[{"steering_angle": 0.0, "speed": 1.0}])
    env.reset(seed=0, options={"start": 0.5})
    p = env.step(0)[4]["params"]
    assert p["progress"] == pytest.approx(100 * 0.14 / 3.0)  # counted from the origin, over all 3 m
    for _ in range(200):
        _obs, _r, terminated, _tr, info = env.step(0)  # straight on
        if terminated:
            break
    assert info["episode_status"] == "lap_complete", info  # the end of the road
    assert info["progress"] == pytest.approx(50.0, abs=0.5)


def test_track_width_between_nearest_border_points_not_same_index():
    c = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    slant = np.array([0.3, 0.4])
    t = Track("slanted", c, c + slant, c - slant, closed=False)  # same-index gap: 1.0 m
    assert t.project(1.25, 0.1).track_width == pytest.approx(0.8)


def test_same_side_borders_load_with_a_warning_naming_the_point(tmp_path):
    rows = rectangle_route()
    rows[5, 1] = 0.35  # centre point 5 pushed beyond the inner border: both borders on one side
    path = tmp_path / "odd.npy"
    np.save(path, rows)
    with pytest.warns(TrackWarning, match=r"odd.*same side.*\[5\]"):
        track = Track.from_route_file(path)
    assert track.length > 0


@pytest.mark.parametrize("name", ["AWS_track", "China_track", "Mexico_track", "Bowtie_track",
                                  "Virtual_May19_Train_track", "Oval_track", "Canada_Training", "New_York_Track"])
def test_road_and_width_agree_with_the_reference_polygon(name):
    path = SHARED_TRACKS / f"{name}.npy"
    if not path.exists():
        pytest.skip(f"{path} not found")
    raw = np.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrackWarning)
        t = Track.from_route_file(path)
    road = Polygon(raw[:, 4:6], [raw[:, 2:4]])
    centre, inner, outer = (LinearRing(raw[:, i:i + 2]) for i in (0, 2, 4))
    rng = np.random.default_rng(0)
    for s, lateral in zip(rng.uniform(0, t.length, 1500), rng.uniform(-0.8, 0.8, 1500), strict=True):
        p, h = t.point_at(s)
        x, y = p + lateral * t.median_width * np.array([-np.sin(h), np.cos(h)])
        seg, _, _ = track_math.closest_segment(t.center, x, y, -1, True, t.median_width)
        assert track_math.on_road(t.inner, t.outer, x, y, seg, True) == road.contains(Point(x, y)), (x, y)
    for s in rng.uniform(0, t.length, 200):
        p, _ = t.point_at(s)
        c = centre.interpolate(centre.project(Point(p)))
        expected = inner.interpolate(inner.project(c)).distance(outer.interpolate(outer.project(c)))
        assert t.project(*p).track_width == pytest.approx(expected, abs=1e-9)
