"""Score logged steps with another reward function, from the full params racer rebuilds.

deepracer-utils' re-scoring fills the params it cannot know with guesses (track width 0.6, never
off the road, never reversed, yaw converted from radians twice). Here each logged pose is measured
against the track by the simulator's own probe (`TrackProbe`) and turned into params by the same
`ParamsBuilder` training uses, so the new reward function sees what it would have seen driving:
every key, in the reference's types. Object params stay those of an empty track (the objects'
places are not logged).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from racer_agent.env.reward_function import RewardFunction
from racer_agent.env.reward_params import ParamsBuilder
from racer_core.simulator import FRONT_OFFSET, TrackProbe
from racer_core.track import Track
from racer_core.vehicle import STATE_SIZE


def rebuild_params(steps: pd.DataFrame, track: Track) -> list[dict]:
    """The params of every logged step (rows in the order given). The log's X, Y are DeepRacer's
    position, a point FRONT_OFFSET ahead of the car's origin; yaw is in degrees."""
    yaw = np.radians(steps["yaw"].to_numpy(float))
    state = np.zeros((len(steps), STATE_SIZE))
    state[:, 0] = steps["x"].to_numpy(float) - FRONT_OFFSET * np.cos(yaw)
    state[:, 1] = steps["y"].to_numpy(float) - FRONT_OFFSET * np.sin(yaw)
    state[:, 2] = yaw
    measures = TrackProbe(track, len(steps)).measure(state)
    builder = ParamsBuilder(track)
    reversed_ = steps["reversed"].astype(str).eq("True").to_numpy() if "reversed" in steps else np.zeros(len(steps))
    columns = zip(steps["steering_angle"], steps["speed"], steps["progress"], steps["steps"], steps["tstamp"],
                  strict=True)
    return [builder.build(measures[i], state[i], float(steer), float(speed), float(progress), int(step),
                          bool(reversed_[i]), float(tstamp))
            for i, (steer, speed, progress, step, tstamp) in enumerate(columns)]


def rescore(steps: pd.DataFrame, track: Track, reward: str) -> np.ndarray:
    """The new reward function's value at every logged step, episode by episode in step order (a
    function that remembers the last step sees the steps as they came)."""
    function = RewardFunction.load(reward)
    order = steps.sort_values(["iteration", "episode", "steps"], kind="stable").index
    values = pd.Series(np.nan, index=steps.index)
    for index, params in zip(order, rebuild_params(steps.loc[order], track), strict=True):
        values[index] = function(params)
    out = values.to_numpy(float)
    if not np.isfinite(out).all():
        raise ValueError("re-scoring left steps without a reward")
    return out
