"""An object-avoidance reward in the community's usual shape, written for racer and the DeepRacer
console alike: stay on the road, keep to the lane the next object is not on, and keep a distance.

    racer train --race object_avoidance --reward examples/object_avoidance_reward.py --track reinvent_base

It reads only DeepRacer's params (`closest_objects`, `objects_location`, `objects_left_of_center`,
`is_left_of_center`, `distance_from_center`, `track_width`, `is_crashed`), so the same file can be
uploaded to the console.
"""

import math

SAFE_GAP = 0.8  # metres to the next object beyond which it does not matter which lane the car is in


def reward_function(params):
    if params["is_offtrack"] or params["is_crashed"]:
        return 1e-3
    # keep within the road, most for the middle half of it
    half_width = 0.5 * params["track_width"]
    reward = 1.0 if params["distance_from_center"] <= 0.5 * half_width else 0.5
    objects = params["objects_location"]
    if objects:
        _, ahead = params["closest_objects"]
        ox, oy = objects[ahead]
        gap = math.hypot(ox - params["x"], oy - params["y"])
        same_lane = params["objects_left_of_center"][ahead] == params["is_left_of_center"]
        if same_lane and gap < SAFE_GAP:
            reward *= 1e-3 + gap / SAFE_GAP  # heading for the box: the nearer, the worse
        elif not same_lane:
            reward *= 1.5  # on the free lane
    return float(reward * (1.0 + params["speed"] / 4.0))
