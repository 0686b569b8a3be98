import numpy as np
import pytest

from racer_core import builtin_tracks, vehicle
from racer_core.camera import camera_from, ground_table
from racer_core.scenery import Look
from racer_core.simulator import WHEELS_ON, Simulator
from racer_core.vehicle import VehicleParams

P = VehicleParams()


def drive(command, steps, speed0=0.0):
    state = vehicle.new_state(1)
    state[0, vehicle.SPEED] = speed0
    trace = []
    for _ in range(steps):
        vehicle.advance(state, np.array([command], float), P.as_array(), P.dt, P.substeps)
        trace.append(state[0].copy())
    return np.array(trace)


def test_speed_follows_command_with_a_lag():
    trace = drive((0.0, 2.0), 30)
    tau_steps = round(P.speed_time_constant / P.dt)
    assert trace[tau_steps - 1, vehicle.SPEED] == pytest.approx(2.0 * (1 - np.exp(-1)), rel=0.1)
    assert trace[-1, vehicle.SPEED] == pytest.approx(2.0, rel=1e-3)
    assert abs(trace[-1, vehicle.Y]) < 1e-9  # straight means straight


def test_steering_is_rate_limited_and_clamped():
    trace = drive((np.radians(90), 1.0), 10)
    per_step = np.radians(P.steer_rate_deg) * P.dt
    assert trace[0, vehicle.STEER] == pytest.approx(per_step)
    assert trace[-1, vehicle.STEER] == pytest.approx(np.radians(P.max_steer_deg))
    assert trace[-1, vehicle.YAW] > 0  # positive steering turns left


def test_too_fast_in_a_corner_runs_wide():
    steer = np.radians(30)
    radius_asked = P.wheelbase / np.tan(steer)
    slow = drive((steer, 0.5), 60, 0.5)
    fast = drive((steer, 3.0), 60, 3.0)
    slow_yaw_rate = (slow[-1, vehicle.YAW] - slow[-2, vehicle.YAW]) / P.dt
    assert 0.5 / slow_yaw_rate == pytest.approx(radius_asked, rel=0.05)
    fast_rate = np.abs(np.diff(np.unwrap(fast[:, vehicle.YAW]))).mean() / P.dt
    assert 3.0 / fast_rate > 2 * radius_asked  # grip limit: the car turns much wider than steered
    assert 3.0 * fast_rate == pytest.approx(P.max_lateral_accel, rel=0.05)


def test_wheels_and_offtrack_measure():
    sim = Simulator(builtin_tracks.build("oval"))
    sim.place_on_track(0, 1.0)
    assert sim.measure()[0, WHEELS_ON] == 4
    assert len(sim.wheel_positions(0)) == 4
    sim.place_on_track(0, 1.0, lateral=-1.5)  # outside the loop
    assert sim.measure()[0, WHEELS_ON] == 0


def test_camera_sees_road_ahead_and_sky_above():
    sim = Simulator(builtin_tracks.build("oval"), camera=camera_from(grayscale=False))
    sim.place_on_track(0, 1.0, lateral=0.2)  # off the centre line's dashes
    frame = sim.render()[0]
    assert frame.shape == (120, 160, 3) and frame.dtype == np.uint8
    bottom_centre = frame[110, 80].astype(int)
    assert abs(bottom_centre[0] - bottom_centre[1]) < 20  # grey asphalt
    top = frame[2, 80].astype(int)
    assert top[2] > top[0] + 40  # blue sky
    table = ground_table(sim.camera)
    assert 0 < table.first_ground_row < 120


def test_grey_is_deepracer_weighting_of_rgb():
    track = builtin_tracks.build("circuit")
    rgb = Simulator(track, camera=camera_from(grayscale=False))
    grey = Simulator(track, camera=camera_from(grayscale=True))
    for sim in (rgb, grey):
        sim.place_on_track(0, 3.0)
        sim.render()
    expected = rgb.frames[0].astype(float) @ np.array([0.2989, 0.5870, 0.1140])
    assert np.abs(grey.frames[0, :, :, 0] - expected).mean() < 1.5


def test_batched_render_equals_one_by_one():
    track = builtin_tracks.build("technical")
    batch = Simulator(track, num_cars=3)
    for k, s in enumerate((2.0, 7.5, 15.0)):
        batch.place_on_track(k, s, lateral=0.1 * k)
        single = Simulator(track)
        single.place_on_track(0, s, lateral=0.1 * k)
        np.testing.assert_array_equal(batch.render()[k], single.render()[0])


def test_domain_randomisation_is_seeded():
    track = builtin_tracks.build("oval")
    cam = camera_from()
    frames = []
    for seed in (1, 1, 2):
        sim = Simulator(track, camera=cam)
        rng = np.random.default_rng(seed)
        sim.set_look(0, Look.random(rng), cam.jittered(rng))
        sim.place_on_track(0, 1.0)
        frames.append(sim.render()[0].copy())
    np.testing.assert_array_equal(frames[0], frames[1])
    assert np.abs(frames[0].astype(int) - frames[2]).mean() > 1


def test_presets():
    sim_cam = camera_from("deepracer_sim")
    assert sim_cam.hfov_deg == pytest.approx(np.degrees(1.13))
    assert camera_from("deepracer_car").hfov_deg == pytest.approx(120)
    with pytest.raises(ValueError, match="unknown camera preset"):
        camera_from("fisheye")


def test_measuring_one_car_matches_measuring_all():
    sim = Simulator(builtin_tracks.build("technical"), num_cars=3)
    for k in range(3):
        sim.place_on_track(k, 5.0 * k + 1.0, lateral=0.05 * k)
    everything = sim.measure().copy()
    for k in range(3):
        np.testing.assert_array_equal(sim.measure(k), everything[k])
