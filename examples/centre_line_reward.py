"""A reward to try on old logs with `racer analyze RUN --reward examples/centre_line_reward.py`:
the classic DeepRacer example that pays for staying near the centre line, in three bands."""


def reward_function(params):
    width = params["track_width"]
    distance = params["distance_from_center"]
    if not params["all_wheels_on_track"]:
        return 1e-3
    if distance <= 0.1 * width:
        return 1.0
    if distance <= 0.25 * width:
        return 0.5
    if distance <= 0.5 * width:
        return 0.1
    return 1e-3
