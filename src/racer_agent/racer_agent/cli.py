"""`racer`: the command line (tracks, a scripted drive, benchmarks)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def _tracks_list(args) -> int:
    from racer_sim import builtin_tracks

    for name in builtin_tracks.names():
        t = builtin_tracks.build(name)
        print(f"{name:10s} {t.length:6.2f} m  width {t.median_width:.2f} m  {builtin_tracks.DESIGNS[name].description}")
    return 0


def _tracks_show(args) -> int:
    from racer_sim.builtin_tracks import load
    from racer_sim.plotting import save_track_picture

    out = save_track_picture(load(args.name), args.out)
    print(f"wrote {out}")
    return 0


def _drive(args) -> int:
    """One episode with the scripted centre-line driver; writes the driven line and camera frames."""
    import cv2
    import gymnasium as gym
    from tqdm import tqdm

    import racer_agent  # noqa: F401
    from racer_agent.scripted import CentreLineDriver
    from racer_sim.plotting import save_driven_lines

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = gym.make("racer/TimeTrial-v0", track=args.track, start="start_line", camera={"grayscale": False})
    race = env.unwrapped.race
    driver = CentreLineDriver(race.actions, speed=args.speed)
    obs, info = env.reset(seed=args.seed)
    params, xy, speeds = None, [], []
    with tqdm(total=100.0, desc="driving", unit="%", bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f}%") as bar:
        while True:
            obs, _reward, terminated, truncated, info = env.step(driver(params))
            params = info["params"]
            xy.append(race.sim.state[0, :2].copy())
            speeds.append(race.sim.state[0, 3])
            bar.update(info["progress"] - bar.n)
            if len(xy) % 40 == 1:
                cv2.imwrite(str(out / f"camera_{len(xy):04d}.png"), obs[:, :, ::-1])
            if terminated or truncated:
                break
    title = f"{race.track.name}: {info['episode_status']}, {info['progress']:.0f} %, {info['lap_time']:.2f} s"
    picture = save_driven_lines(race.track, [(np.array(xy), np.array(speeds))], out / "driven_line.png", title)
    print(f"{title}\nwrote {picture} and camera frames in {out}")
    return 0


def _bench_sim(args) -> int:
    from racer_agent import bench

    result = bench.run(track=args.track, cars=args.cars, seconds=args.seconds)
    print(json.dumps(result) if args.json else "\n".join(f"{k:28s} {v}" for k, v in result.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="racer", description="DeepRacer-style camera racing: tracks, sim, training.")
    sub = parser.add_subparsers(dest="command", required=True)

    tracks = sub.add_parser("tracks", help="built-in tracks").add_subparsers(dest="tracks_command", required=True)
    tracks.add_parser("list", help="list built-in tracks").set_defaults(func=_tracks_list)
    show = tracks.add_parser("show", help="draw a track (built-in name or route file) to PNG")
    show.add_argument("name")
    show.add_argument("--out", default="track.png")
    show.set_defaults(func=_tracks_show)

    drive = sub.add_parser("drive", help="drive one episode with the scripted centre-line driver")
    drive.add_argument("--track", default="circuit")
    drive.add_argument("--speed", type=float, default=1.0)
    drive.add_argument("--seed", type=int, default=0)
    drive.add_argument("--out", default="runs/drive")
    drive.set_defaults(func=_drive)

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="bench_command", required=True)
    sim = bench.add_parser("sim", help="env steps/s vs Gymnasium's CarRacing-v3 in the same run")
    sim.add_argument("--json", action="store_true", help="print one JSON object")
    sim.add_argument("--track", default="circuit")
    sim.add_argument("--cars", type=int, default=16)
    sim.add_argument("--seconds", type=float, default=3.0)
    sim.set_defaults(func=_bench_sim)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, RuntimeError, OSError) as exc:  # our errors say what is wrong; no traceback
        print(f"racer: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
