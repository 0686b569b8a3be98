import numpy as np
import pytest

from racer_core import builtin_tracks
from racer_core.track import Track, TrackError


def test_every_route_file_imports_with_its_length(route_files):
    for path in route_files:
        data = np.load(path)
        expected = np.linalg.norm(np.diff(data[:, :2], axis=0), axis=1).sum()
        track = Track.from_route_file(path)
        assert abs(track.length - expected) < 1e-3, path.name
        assert track.closed == (path.stem != "Straight_track"), path.name


def test_duplicates_dropped_and_export_round_trips(reinvent_base, tmp_path):
    track = Track.from_route_file(reinvent_base)
    assert np.all(np.linalg.norm(np.diff(track.center, axis=0), axis=1) > 0)
    out = tmp_path / "copy.npy"
    track.save_route_file(out)
    again = Track.from_route_file(out)
    np.testing.assert_allclose(again.to_array(), track.to_array())
    assert again.length == pytest.approx(17.709, abs=1e-3)


def test_projection_on_a_straight():
    c = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    t = Track("line", c, c + np.array([0, 0.4]), c - np.array([0, 0.4]), closed=False)
    p = t.project(1.25, 0.1)
    assert p.distance_along == pytest.approx(1.25)
    assert p.distance_from_center == pytest.approx(0.1)
    assert p.is_left_of_center
    assert (p.prev_waypoint, p.next_waypoint) == (1, 2)
    assert p.track_width == pytest.approx(0.8)
    assert not t.project(1.25, -0.1).is_left_of_center
    assert t.contains(1.5, 0.39) and not t.contains(1.5, 0.41)


def test_bracketing_waypoints_wrap_on_a_loop(reinvent_base):
    t = Track.from_route_file(reinvent_base)
    m = len(t.waypoints)
    end = t.center[-2] + 0.5 * (t.center[-1] - t.center[-2])  # midway along the closing segment
    p = t.project(*end)
    assert (p.prev_waypoint, p.next_waypoint) == (m - 1, 0)


def test_reversed_keeps_start_and_flips_sides(reinvent_base):
    t = Track.from_route_file(reinvent_base)
    r = t.reversed()
    np.testing.assert_allclose(r.center[0], t.center[0])
    np.testing.assert_allclose(r.center[1], t.center[-2])
    assert r.length == pytest.approx(t.length)
    x, y = t.center[5] + 0.1 * (t.inner[5] - t.center[5]) / np.linalg.norm(t.inner[5] - t.center[5])
    assert t.project(x, y).is_left_of_center != r.project(x, y).is_left_of_center


@pytest.mark.parametrize("data, problem", [
    (np.zeros((10, 4)), "N x 6"),
    (np.full((10, 6), np.nan), "NaN"),
    (np.zeros((2, 6)), "too few"),
])
def test_malformed_route_files_are_named_and_explained(tmp_path, data, problem):
    path = tmp_path / "broken.npy"
    np.save(path, data)
    with pytest.raises(TrackError, match=problem) as err:
        Track.from_route_file(path)
    assert "broken.npy" in str(err.value)


def test_crossing_borders_are_rejected(reinvent_base, tmp_path):
    data = np.load(reinvent_base)
    data[10, 2:4], data[10, 4:6] = data[10, 4:6].copy(), data[10, 2:4].copy()  # swap inner/outer at one point
    path = tmp_path / "twisted.npy"
    np.save(path, data)
    with pytest.raises(TrackError, match="twisted.npy.*(cross|same side)"):
        Track.from_route_file(path)


def test_not_a_numpy_file(tmp_path):
    path = tmp_path / "text.npy"
    path.write_text("hello")
    with pytest.raises(TrackError, match="text.npy"):
        Track.from_route_file(path)


def test_builtin_tracks():
    assert builtin_tracks.DEFAULT_TRACK in builtin_tracks.names()
    lengths = {}
    for name in builtin_tracks.names():
        t = builtin_tracks.build(name)
        assert 0.76 - 1e-6 <= t.median_width <= 1.07 + 1e-6
        assert t.closed
        lengths[name] = t.length
        c = t.waypoints
        d1 = np.gradient(c, axis=0)
        d2 = np.gradient(d1, axis=0)
        curvature = (d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]) / np.linalg.norm(d1, axis=1) ** 3
        if name == "circuit":
            assert curvature.max() > 0 and curvature.min() < 0  # left and right turns
        if name == "technical":
            assert 1 / np.abs(curvature).max() < 0.7  # a hairpin
    assert 17 <= lengths["circuit"] <= 23


def test_load_unknown_track():
    with pytest.raises(TrackError, match="neither a built-in"):
        builtin_tracks.load("no_such_track")
