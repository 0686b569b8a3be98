"""Stay near the centre line: the reward most DeepRacer users write first.

Pays 1.0 within a tenth of the track width of the centre, less further out, almost nothing near the
border; nothing about speed, so the car learns to follow the road but not to hurry.
"""


def reward_function(params):
    if params["is_offtrack"]:
        return 1e-3
    share = params["distance_from_center"] / params["track_width"]
    if share <= 0.1:
        return 1.0
    if share <= 0.25:
        return 0.5
    if share <= 0.5:
        return 0.1
    return 1e-3
