"""racer's default reward: go fast along the track, stay on it.

Written as a DeepRacer reward function (paste it into the console unchanged). It pays for speed
along the track direction rather than for hugging the centre line, because a centre-line reward
gives little push to go faster; a small term keeps the car from living on the edge.
"""

import math


def reward_function(params):
    if params["is_offtrack"] or not params["all_wheels_on_track"]:
        return 1e-3
    waypoints = params["waypoints"]
    prev_wp, next_wp = params["closest_waypoints"]
    (x0, y0), (x1, y1) = waypoints[prev_wp], waypoints[next_wp]
    track_heading = math.degrees(math.atan2(y1 - y0, x1 - x0))
    off_heading = abs((params["heading"] - track_heading + 180.0) % 360.0 - 180.0)
    along = params["speed"] * math.cos(math.radians(min(off_heading, 90.0)))
    centred = 1.0 - min(1.0, params["distance_from_center"] / (0.5 * params["track_width"]))
    return float(0.1 + along + 0.3 * centred)
