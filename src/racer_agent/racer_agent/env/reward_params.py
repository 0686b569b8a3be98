"""The `params` dict a DeepRacer reward function receives, built from the simulator's measurements.

Keys, values and types follow the community simulator (deepracer-simapp): the simulator measures
against the track as stored; a car driving it reversed sees everything in its own driving direction
(distances, left/right, waypoint order), which is mapped here. The object keys are always present
with the reference's values for a track without objects.
"""

from __future__ import annotations

import math

import numpy as np

from racer_core import simulator as sim_cols
from racer_core.track import Track


class ParamsBuilder:
    """Per-track constants computed once; `build` fills in one car's step."""

    def __init__(self, track: Track):
        self.track = track
        self.tracks = {False: track, True: track.reversed()}
        # Route rows as (x, y) tuples in each driving direction; each call gets its own list of them.
        self.waypoints = {rev: [(float(x), float(y)) for x, y in t.route_rows] for rev, t in self.tracks.items()}

    def driving_distance(self, along: float, reversed_: bool) -> float:
        """Distance from the start line in the driving direction."""
        return self.track.along_in_direction(along, reversed_)

    def build(self, measure: np.ndarray, state: np.ndarray, steer_deg: float, speed: float,
              progress: float, steps: int, reversed_: bool, sim_time: float = 0.0) -> dict:
        driving = float(self.driving_distance(measure[sim_cols.DIST_ALONG], reversed_))
        prev_wp, next_wp = self.tracks[reversed_].route_waypoints_around(driving)
        wheels_on = int(measure[sim_cols.WHEELS_ON])
        heading = math.degrees(state[2])
        return {
            "all_wheels_on_track": wheels_on == 4,
            "x": float(measure[sim_cols.FRONT_X]),
            "y": float(measure[sim_cols.FRONT_Y]),
            "heading": heading if heading > -180.0 else 180.0,
            "distance_from_center": float(measure[sim_cols.DIST_CENTER]),
            "is_left_of_center": bool(measure[sim_cols.LEFT]) != reversed_,
            "progress": float(progress),
            "steps": int(steps),
            "speed": float(speed),
            "steering_angle": float(steer_deg),
            "track_width": float(measure[sim_cols.WIDTH]),
            "track_length": float(self.track.length),
            "waypoints": list(self.waypoints[reversed_]),
            "closest_waypoints": [int(prev_wp), int(next_wp)],
            "is_reversed": bool(reversed_),
            "is_offtrack": wheels_on == 0,
            "is_crashed": False,
            "projection_distance": driving,
            "sim_time": float(sim_time),
            # what the reference passes when there are no objects on the track (new lists every call)
            "closest_objects": [0, 0],
            "objects_location": [],
            "objects_left_of_center": [],
            "objects_speed": [],
            "objects_heading": [],
            "objects_distance_from_center": [],
            "objects_distance": [],
            "object_in_camera": False,
        }
