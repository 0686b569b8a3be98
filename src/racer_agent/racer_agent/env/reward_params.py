"""The `params` dict a DeepRacer reward function receives, built from the simulator's measurements.

The simulator measures against the track as stored; a car driving it reversed sees everything in
its own driving direction (distances, left/right, waypoint order), which is mapped here.
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
        self.m = track.num_segments
        self.waypoints = {
            False: [tuple(p) for p in track.waypoints.tolist()],
            True: [tuple(p) for p in track.reversed().waypoints.tolist()],
        }

    def driving_distance(self, along: float, reversed_: bool) -> float:
        """Distance from the start line in the driving direction."""
        return self.track.along_in_direction(along, reversed_)

    def build(self, measure: np.ndarray, state: np.ndarray, steer_deg: float, speed: float,
              progress: float, steps: int, reversed_: bool) -> dict:
        seg = int(measure[sim_cols.SEGMENT])
        prev_wp, next_wp = seg, seg + 1
        if self.track.closed:
            next_wp %= self.m
            if reversed_:
                prev_wp, next_wp = (self.m - seg - 1) % self.m, (self.m - seg) % self.m
        elif reversed_:
            prev_wp, next_wp = self.m - seg - 1, self.m - seg
        wheels_on = int(measure[sim_cols.WHEELS_ON])
        left = bool(measure[sim_cols.LEFT]) != reversed_
        heading = math.degrees(state[2])
        return {
            "all_wheels_on_track": wheels_on == 4,
            "x": float(measure[sim_cols.FRONT_X]),
            "y": float(measure[sim_cols.FRONT_Y]),
            "heading": heading if heading > -180.0 else 180.0,
            "distance_from_center": float(measure[sim_cols.DIST_CENTER]),
            "is_left_of_center": left,
            "progress": float(progress),
            "steps": int(steps),
            "speed": float(speed),
            "steering_angle": float(steer_deg),
            "track_width": float(measure[sim_cols.WIDTH]),
            "track_length": float(self.track.length),
            "waypoints": self.waypoints[reversed_],
            "closest_waypoints": [int(prev_wp), int(next_wp)],
            "is_reversed": bool(reversed_),
            "is_offtrack": wheels_on == 0,
            "is_crashed": False,
            "projection_distance": float(self.driving_distance(measure[sim_cols.DIST_ALONG], reversed_)),
        }
