"""The reference lap is a lower bound that a driver can nearly reach: solved with IPOPT, driven
through the embedded simulator by a scripted driver, on DeepRacer routes and racer's tracks.

The suite's stored solutions (test/fixtures/reference_laps, see conftest.py) serve most tracks; a
representative set is solved for real on every run and must equal them.
"""

import math

import numpy as np
import pytest
from conftest import SHARED_TRACKS, STORED_REFERENCE_LAPS
from shapely.geometry import Point, Polygon

from racer_agent.env.race import Race, RaceConfig
from racer_agent.env.time_trial import TimeTrialEnv
from racer_agent.evaluation.laps import drive_laps
from racer_agent.evaluation.scripted import CentreLineDriver, ReferenceLineDriver
from racer_core import builtin_tracks
from racer_core.racing_line import SOLVER_DIGEST, reference_lap, wheel_reach
from racer_core.vehicle import VehicleParams

CONTINUOUS_4 = {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.1, "high": 4.0}}
# Twenty DeepRacer routes: the eight whose borders are slanted against their centre points, the
# re:Invent tracks, long 2022 open/pro tracks, F1-style circuits, one with a kinked centre line (Vegas).
ROUTES = ["AWS_track", "China_track", "Mexico_track", "Bowtie_track", "Virtual_May19_Train_track", "Oval_track",
          "Canada_Training", "New_York_Track", "reinvent_base", "reInvent2019_track", "reInvent2019_wide",
          "2022_april_open", "Monaco", "Vegas_track", "dubai_open", "morgan_open", "red_star_open", "caecer_loop",
          "Albert", "Straight_track"]
MAX_OVER_BOUND = 1.12  # the scripted driver at 15 Hz on a line with 3 cm to spare (measured 1.02-1.10)


# Solved for real on every run: a built-in loop, a DeepRacer route with slanted borders, an open track.
SOLVED_EVERY_RUN = ["oval", "Bowtie_track", "Straight_track"]


def track_of(name: str) -> str:
    if name in builtin_tracks.names():
        return name
    path = SHARED_TRACKS / f"{name}.npy"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return str(path)


def scripted_lap(race: Race, driver: ReferenceLineDriver):
    return drive_laps(race, lambda frames: np.array(driver.policy(race.sim.state)), [0.0])[0][0]


@pytest.mark.parametrize("name", ["circuit", "technical", "oval", *ROUTES])
def test_reference_line_driver_laps_close_to_the_bound_and_never_beats_it(name):
    race = Race(RaceConfig(track=track_of(name), action_space=CONTINUOUS_4, start="start_line"), num_cars=1)
    bound = reference_lap(race.track, 4.0)
    lap = scripted_lap(race, ReferenceLineDriver.for_track(race.track, race.actions))
    assert lap.completed, f"{name}: {lap.status} at {lap.progress:.1f} %"
    ratio = lap.lap_time_s / bound.time_s
    assert 1.0 <= ratio <= MAX_OVER_BOUND, f"{name}: lap {lap.lap_time_s:.3f} s, bound {bound.time_s:.3f} s"
    if race.track.closed:
        assert bound.flying_time_s < bound.time_s  # no standing start to pay for


def test_bound_respects_the_road_and_the_car():
    track = builtin_tracks.build("technical")
    car = VehicleParams()
    ref = reference_lap(track, 4.0)
    road = Polygon(track.outer, [track.inner])
    reach = wheel_reach(car)
    gaps = [road.distance(Point(p)) for p in ref.line]
    assert max(gaps) <= reach + 0.01  # a wheel centre can still be on the road
    assert max(gaps) > 0.02  # and the bound uses the room the rules give beyond "all wheels on"
    assert ref.speeds.max() <= 4.0 + 1e-6 and ref.speeds[0] == pytest.approx(0.0, abs=1e-6)
    steer_rate = np.abs(np.diff(ref.steering)) / np.diff(ref.times)
    assert steer_rate.max() <= math.radians(car.steer_rate_deg) * 1.001
    assert np.abs(ref.steering).max() <= math.radians(car.max_steer_deg) + 1e-6
    assert ref.time_s >= ref.length / 4.0  # never faster than top speed on its own line
    slower = reference_lap(track, 2.0)
    assert slower.time_s > ref.time_s and slower.time_s >= slower.length / 2.0


def test_centre_line_driver_is_slower_than_the_bound():
    env = TimeTrialEnv(track="circuit", start="start_line",
                       action_space={"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.1, "high": 2.0}})
    env.reset(seed=0)
    driver = CentreLineDriver(env.race.actions, speed=2.0)
    params, info = None, {}
    for _ in range(2000):
        _obs, _reward, terminated, truncated, info = env.step(driver(params))
        params = info["params"]
        if terminated or truncated:
            break
    assert info["episode_status"] == "lap_complete"
    assert info["lap_time"] > reference_lap(env.race.track, 2.0).time_s


def test_cached_answer_is_the_solved_one(tmp_path, monkeypatch):
    monkeypatch.setenv("RACER_CACHE", str(tmp_path))
    track = builtin_tracks.build("oval")
    first = reference_lap(track, 3.0)
    assert len(list(tmp_path.glob("reference-*.npz"))) == 1
    again = reference_lap(track, 3.0)
    assert again.time_s == first.time_s and again.flying_time_s == first.flying_time_s
    np.testing.assert_array_equal(again.line, first.line)


@pytest.mark.parametrize("name", SOLVED_EVERY_RUN)
def test_a_fresh_solve_equals_the_stored_solution(name):
    """IPOPT for real, against what the suite's other tests are served for the same track."""
    track = Race(RaceConfig(track=track_of(name), action_space=CONTINUOUS_4), num_cars=1).track
    stored, fresh = reference_lap(track, 4.0), reference_lap(track, 4.0, cache=False)
    assert fresh.time_s == pytest.approx(stored.time_s, rel=1e-6)
    assert fresh.flying_time_s == pytest.approx(stored.flying_time_s, rel=1e-6, nan_ok=True)
    np.testing.assert_allclose(fresh.line, stored.line, atol=1e-5)


def test_every_stored_solution_is_from_todays_solver():
    """A changed solver makes every stored answer stale: refresh them (`make store-reference-laps`)."""
    stored = sorted(STORED_REFERENCE_LAPS.glob("reference-*.npz"))
    assert len(stored) >= len(ROUTES), f"{STORED_REFERENCE_LAPS}: {len(stored)} stored solutions"
    stale = [p.name for p in stored if str(np.load(p)["solver"]) != SOLVER_DIGEST]
    assert not stale, f"solved by another solver version: {stale}; run `make store-reference-laps`"
