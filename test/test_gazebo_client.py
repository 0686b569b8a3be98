"""The Gazebo simulator client (racer_agent.gazebo.simulator) against a STAND-IN of Gazebo's world
services (test/gz_standin.py): Gazebo cannot run here. What is checked is the request sequence and
the waiting the documented service semantics call for; the gz-transport link itself runs only in the
Docker image."""

from __future__ import annotations

import functools
import math

import gymnasium as gym
import numpy as np
import pytest
from conftest import ROOT
from gz_standin import GazeboStandIn

import racer_agent  # noqa: F401
from racer_agent.gazebo.simulator import GazeboSimulator
from racer_core import builtin_tracks
from racer_core import gazebo_interface as gz
from racer_core.camera import camera_from
from racer_core.gazebo_interface import read_world
from racer_core.simulator import Simulator
from racer_core.simulator_errors import SimulatorUnavailable
from racer_core.vehicle import VehicleParams
from racer_sim.gazebo_world import WORLD_FILE

WORLD = ROOT / "worlds" / "oval" / WORLD_FILE
STEPS = 60  # the committed worlds' physics steps per control period


@pytest.fixture
def world():
    track, camera = builtin_tracks.build("oval"), camera_from()
    standin = GazeboStandIn(track, WORLD, camera)
    sim = GazeboSimulator(track, 1, camera, WORLD, links=[standin], timeout_s=2.0)
    yield track, standin, sim
    standin.close()


def test_twist_of_a_drive_command():
    v = VehicleParams()
    assert gz.twist_from_drive(2.0, 0.3, v) == pytest.approx((2.0, 2.0 * math.tan(0.3) / v.wheelbase))
    assert gz.twist_from_drive(1.0, -0.2, v)[1] < 0  # right turn: negative yaw rate
    assert gz.twist_from_drive(math.nan, 0.1, v) == (0.0, 0.0)  # a broken command is a stop
    assert gz.twist_from_drive(9.0, 2.0, v) == pytest.approx((v.max_speed, v.max_speed * math.tan(math.radians(30))
                                                              / v.wheelbase))


def test_reset_and_step_send_the_documented_requests(world):
    track, standin, sim = world
    x, y, yaw = track.pose_at(1.0)
    sim.place(0, x, y, yaw)  # the car stands still: one braking period is enough
    sim.move(np.array([[0.2, 1.5]]))
    v, w = gz.twist_from_drive(1.5, 0.2, VehicleParams())
    assert standin.requests == [
        ("drive", 0.0, 0.0), ("control", True, STEPS),  # stop and let it stop: set_pose keeps velocities
        ("set_pose", gz.CAR, round(x, 6), round(y, 6), 0.0, round(yaw, 6)), ("control", True, STEPS),
        ("drive", round(v, 6), round(w, 6)), ("control", True, STEPS),
    ]
    assert all(r[1] is True for r in standin.requests if r[0] == "control")  # never sets the world running
    period_ns = STEPS * gz.whole_ns(read_world(WORLD).physics_step)
    assert standin.sim_ns == 3 * period_ns  # the client waited for every period to be done
    assert sim.time[0] == pytest.approx(1 / 15, abs=1e-6)


def test_frames_and_states_are_the_worlds_at_the_end_of_each_period(world):
    track, standin, sim = world
    x, y, yaw = track.pose_at(0.0)
    sim.place(0, x, y, yaw)
    assert sim.state[0, :3] == pytest.approx([x, y, yaw], abs=1e-9)  # at rest where it was put
    reference = Simulator(track, 1, sim.camera)
    for _ in range(20):
        sim.move(np.array([[0.25, 1.2]]))
        truth = standin.pose()
        assert sim.state[0, :3] == pytest.approx(truth[:3], abs=2e-3)
        reference.state[0] = truth
        assert np.abs(sim.frames[0].astype(int) - reference.render()[0]).mean() < 2.0  # the frame of this pose
    assert sim.state[0, 3] > 1.0  # moving, and turning left as asked
    assert sim.measure(0).shape == (9,)
    standin.requests.clear()
    sim.place(0, x, y, yaw)  # a moving car is braked until it stands, then moved
    controls = [r for r in standin.requests if r[0] == "control"]
    assert standin.requests[0] == ("drive", 0.0, 0.0) and len(controls) > 2
    assert [r[0] for r in standin.requests[-2:]] == ["set_pose", "control"]
    assert abs(standin.pose()[3]) < 1e-3 and sim.state[0, :3] == pytest.approx([x, y, yaw], abs=1e-4)


def test_the_gymnasium_env_runs_on_the_gazebo_client(world):
    track, standin, _ = world
    env = gym.make("racer/TimeTrial-v0", track="oval",
                   simulator=functools.partial(GazeboSimulator, world=WORLD, links=[standin], timeout_s=2.0))
    embedded = gym.make("racer/TimeTrial-v0", track="oval")
    # Not gymnasium's check_env: its step-determinism check asks two resets to agree to the bit, and a
    # physics engine's car stops to within 1 mm/s, not to zero (measured: 50 um apart after one step).
    obs, info = env.reset(seed=1)
    assert env.observation_space.contains(obs)
    assert info.keys() == embedded.reset(seed=1)[1].keys()
    for _ in range(10):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs) and np.isfinite(reward)
        assert info["params"].keys() == embedded.step(embedded.action_space.sample())[4]["params"].keys()
        if terminated or truncated:
            env.reset()
    env.close()


def test_a_stalled_camera_or_a_dead_server_is_a_clear_error(world):
    track, standin, sim = world
    sim.place(0, *track.pose_at(0.0))
    standin.camera_on = False
    with pytest.raises(SimulatorUnavailable, match="no camera frame"):
        sim.move(np.array([[0.0, 1.0]]))
    standin.camera_on, standin.alive = True, False
    with pytest.raises(SimulatorUnavailable, match="refused to step"):
        sim.move(np.array([[0.0, 1.0]]))


def test_worlds_the_client_cannot_step_in_lock_step_are_refused(tmp_path):
    track, camera = builtin_tracks.build("oval"), camera_from()
    short = WORLD.read_text().replace("<max_step_size>0.0011111125<", "<max_step_size>0.00111111111<")
    (tmp_path / "short.sdf").write_text(short)
    with pytest.raises(ValueError, match="short of"):
        GazeboSimulator(track, 1, camera, tmp_path / "short.sdf")
    (tmp_path / "named.sdf").write_text(WORLD.read_text().replace('<world name="racer">', '<world name="x">'))
    with pytest.raises(ValueError, match="named 'x'"):
        GazeboSimulator(track, 1, camera, tmp_path / "named.sdf")
    standin = GazeboStandIn(track, WORLD, camera)
    with pytest.raises(ValueError, match="2 cars need 2 Gazebo worlds"):
        GazeboSimulator(track, 2, camera, WORLD, links=[standin])
    standin.close()
    (tmp_path / "broken.sdf").write_text("<sdf><world")
    with pytest.raises(ValueError, match="cannot read the Gazebo world"):
        GazeboSimulator(track, 1, camera, tmp_path / "broken.sdf")


def test_without_gazebo_the_transport_link_says_what_is_missing():
    from racer_agent.gazebo.gz_transport import GzTransportLink

    with pytest.raises(SimulatorUnavailable, match="gz.transport13"):
        GzTransportLink()


def test_several_worlds_step_in_parallel_each_with_its_own_car():
    track, camera = builtin_tracks.build("oval"), camera_from()
    standins = [GazeboStandIn(track, WORLD, camera) for _ in range(3)]
    try:
        sim = GazeboSimulator(track, 3, camera, WORLD, links=standins, timeout_s=2.0)
        for car in range(3):
            sim.place(car, *track.pose_at(2.0 * car))
        for _ in range(5):
            sim.move(np.array([[0.0, 1.0], [0.3, 1.0], [-0.3, 2.0]]))
        for car, standin in enumerate(standins):
            assert sim.state[car, :3] == pytest.approx(standin.pose()[:3], abs=2e-3)
            assert [r for r in standin.requests if r[0] == "control"][-1] == ("control", True, STEPS)
        assert len({round(standin.sim_ns) for standin in standins}) == 1  # every world ran the same periods
        assert np.ptp(sim.time) == 0 and sim.time[0] == pytest.approx(5 / 15, abs=1e-6)
    finally:
        for standin in standins:
            standin.close()


def test_the_race_moves_the_worlds_bots_every_period_and_its_obstacles_at_a_reset(tmp_path):
    """A head-to-bot race through the Gazebo client: the world holds the objects (generated with the
    race), the race moves the bots, and the client sets every moved model's pose each period."""
    from racer_agent.env.race import Race, RaceConfig
    from racer_core.objects import RaceObjects
    from racer_sim.gazebo_world import WorldConfig, write_world

    track, camera = builtin_tracks.build("oval"), camera_from()
    race_keys = RaceObjects(race_type="head_to_bot", number_of_obstacles=1, number_of_bot_cars=2, bot_car_speed=0.5)
    write_world(track, tmp_path, WorldConfig(steps_per_frame=STEPS, camera=camera, race=race_keys))
    world_file = tmp_path / WORLD_FILE
    assert read_world(world_file).objects == 3
    standin = GazeboStandIn(track, world_file, camera)
    try:
        def gazebo(t, n, c):
            return GazeboSimulator(t, n, c, world_file, links=[standin], timeout_s=2.0)

        race = Race(RaceConfig(track=track, camera=camera, objects=race_keys, start="start_line"), simulator=gazebo)
        race.reset_car(0)
        objects = race.objects[0]
        placed = {gz.object_model(k): tuple(objects.poses[k]) for k in range(3)}
        assert standin.object_poses == pytest.approx(placed)  # every model where the episode laid it out
        before = len(standin.requests)
        race.advance(np.array([[0.0, 1.0]]))
        moved = [r[1] for r in standin.requests[before:] if r[0] == "set_pose"]
        assert moved == [gz.object_model(1), gz.object_model(2)]  # the bots, not the standing box
        for k in (1, 2):
            assert standin.object_poses[gz.object_model(k)] == pytest.approx(tuple(objects.poses[k]))
        assert objects.along[1] == pytest.approx(placed_along(race, 1) + 0.5 / 15)
    finally:
        standin.close()
    plain = GazeboStandIn(track, WORLD, camera)  # a time trial's world has no object models
    try:
        with pytest.raises(ValueError, match="race has 1 objects, the Gazebo world 0"):
            GazeboSimulator(track, 1, camera, WORLD, links=[plain], timeout_s=2.0).set_objects(0, np.zeros((1, 7)))
    finally:
        plain.close()


def placed_along(race, k: int) -> float:
    """Where bot k began this episode, along the centre line."""
    return float(race.objects[0]._bot_start[k - race.objects[0].n_obstacles])
