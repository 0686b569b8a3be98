"""All wheels on the road, and faster is better: speed over the action space's top speed.

A common second attempt after the centre line: it pays for the commanded speed, so the car is
tempted to take corners too fast; the speed curriculum and the greedy evaluation show whether it
still learns to brake.
"""


def reward_function(params):
    if params["is_offtrack"] or not params["all_wheels_on_track"]:
        return 1e-3
    return 0.2 + params["speed"] / 4.0
