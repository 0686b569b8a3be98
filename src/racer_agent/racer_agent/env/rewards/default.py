"""racer's default reward: metres of progress along the track, minus a little for every step.

Written as a DeepRacer reward function (it runs unchanged in the console). It pays for the ground
actually covered since the last step rather than for the commanded speed: paying the command makes
early policies pick the fastest action and run off the first corner. Leaving the road or running
into an object ends the episode with a penalty instead. The small per-step cost is
what makes a quicker lap worth more than a slow one, since a lap's progress pays the same either way.

DeepRacer calls the function once per step for one car, so remembering the last progress in a
module-level variable is safe there; racer gives each simulated car its own copy of this module.
"""

REWARD_PER_METRE = 10.0
STEP_COST = 0.1
OFF_TRACK = -2.0
CRASHED = -2.0  # ran into an obstacle or a bot car: the episode ends there, as off the road does

_last = {"progress": 0.0}


def reward_function(params):
    if params["steps"] <= 2:  # first call of an episode (DeepRacer's first step is a silent "prepare")
        _last["progress"] = 0.0
    gained = params["progress"] - _last["progress"]
    _last["progress"] = params["progress"]
    if params["is_offtrack"]:
        return OFF_TRACK
    if params["is_crashed"]:
        return CRASHED
    metres = gained / 100.0 * params["track_length"]
    return float(REWARD_PER_METRE * metres - STEP_COST)
