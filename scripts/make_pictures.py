"""Remake every picture in docs/images from today's code, so the documentation never shows an older
racer than the one it describes.

    .venv/bin/python scripts/make_pictures.py                 # trains the main job first (about 8 minutes)
    .venv/bin/python scripts/make_pictures.py --run runs/main-20261205-204700   # from a finished run

The tracks, camera frames and race-type frames are drawn directly; the training curves and the evaluation's driven
lines are a run's own `plots/iterations.png` and `evaluation/final/driven_lines.png` (the main job,
`make train`, unless --run names another); the sweep comparison is redrawn by the sweep's plotting
code from the recorded result in docs/sweep/. The analysis report is `racer analyze` on that run,
and the live page is taken during a short training of its own, both in headless Chromium.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from racer_agent.env.race import Race, RaceConfig
from racer_agent.training.sweep import plot_sweep
from racer_core import builtin_tracks
from racer_core import camera as cam
from racer_core.plotting import save_track_picture
from racer_core.scenery import Look
from racer_core.simulator import Simulator

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
FRAME_POSITIONS = (0.0, 0.3, 0.55, 0.8)  # fractions of the lap where the camera rows are taken


def tracks(images: Path) -> list[Path]:
    return [save_track_picture(builtin_tracks.build(name), images / f"track_{name}.png")
            for name in builtin_tracks.names()]


def camera_frames(images: Path, track_name: str = builtin_tracks.DEFAULT_TRACK) -> Path:
    """Rows: the car's lens in RGB and grayscale, the reference simulator's camera, randomised looks."""
    track = builtin_tracks.build(track_name)
    rng = np.random.default_rng(0)
    rows = [("deepracer_car, RGB", cam.camera_from("deepracer_car", grayscale=False), False),
            ("deepracer_car, grayscale", cam.camera_from("deepracer_car"), False),
            ("deepracer_sim, grayscale", cam.camera_from("deepracer_sim"), False),
            ("deepracer_car, randomised", cam.camera_from("deepracer_car", grayscale=False), True)]
    fig, axes = plt.subplots(len(rows), len(FRAME_POSITIONS), figsize=(3.2 * len(FRAME_POSITIONS), 2.6 * len(rows)))
    for r, (label, camera, randomised) in enumerate(rows):
        sim = Simulator(track, num_cars=len(FRAME_POSITIONS), camera=camera)
        for car, fraction in enumerate(FRAME_POSITIONS):
            sim.place_on_track(car, fraction * track.length)
            if randomised:
                sim.set_look(car, Look.random(rng), camera.jittered(rng))
        frames = sim.render()
        for c, frame in enumerate(frames):
            ax = axes[r, c]
            ax.imshow(frame[..., 0] if frame.shape[-1] == 1 else frame, cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, fontsize=9)
            if r == 0:
                ax.set_title(f"{track_name}, {100 * FRAME_POSITIONS[c]:.0f} % of the lap", fontsize=9)
    fig.tight_layout()
    out = images / "camera_frames.png"
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def race_frames(images: Path, track_name: str = builtin_tracks.DEFAULT_TRACK) -> Path:
    """What a car sees in the other race types: boxes ahead (object avoidance) and bot cars ahead
    (head-to-bot), beside the top-down view of the object-avoidance layout."""
    races = [("object avoidance", {"race_type": "object_avoidance"}, (0, 2)),
             ("head-to-bot", {"race_type": "head_to_bot", "is_lane_change": True}, (0, 1))]
    fig, axes = plt.subplots(2, 3, figsize=(11, 5.6), gridspec_kw={"width_ratios": [1, 1, 1.25]})
    for r, (label, keys, targets) in enumerate(races):
        race = Race(RaceConfig(track=track_name, objects=keys, camera=cam.camera_from(grayscale=False)), num_cars=2)
        race.seed(0)
        for car, target in enumerate(targets):
            race.reset_car(car, start_fraction=0.0)
            objects = race.objects[car]
            along = objects.along[target] - 1.3  # a little behind it, on its lane
            x, y, yaw = objects.lanes[False].poses(np.array([along]), np.array([objects.lateral[target] * 0.4]))[0]
            race.sim.place(car, x, y, yaw)
        frames = race.sim.render()
        for c in range(2):
            ax = axes[r, c]
            ax.imshow(frames[c])
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, fontsize=9)
        axes[r, 2].imshow(race.top_down())
        axes[r, 2].set_axis_off()
        axes[r, 2].set_title(f"{track_name}: the first car and its {label} layout", fontsize=9)
    fig.tight_layout()
    out = images / "race_frames.png"
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def main_job(minutes: float | None) -> Path:
    """Train as `make train` does (racer's defaults on the default track)."""
    out = ROOT / "runs" / f"pictures-{time.strftime('%Y%m%d-%H%M%S')}"
    command = [str(Path(sys.executable).with_name("racer")), "train", "--out", str(out)]
    if minutes is not None:
        command += ["--minutes", str(minutes)]
    subprocess.run(command, check=True)
    return out


def from_run(run: Path, images: Path) -> list[Path]:
    pairs = [(run / "plots" / "iterations.png", images / "training_iterations.png"),
             (run / "evaluation" / "final" / "driven_lines.png", images / "evaluation_driven_lines.png")]
    for source, target in pairs:
        if not source.is_file():
            raise SystemExit(f"make_pictures: {source} is missing (a run that finished its final evaluation?)")
        shutil.copyfile(source, target)
    return [target for _, target in pairs]


def analysis_report(run: Path, images: Path) -> Path:
    """The top of `racer analyze RUN --reward examples/centre_line_reward.py`, as Chromium shows it."""
    out = run.resolve() / "analysis"
    subprocess.run([str(Path(sys.executable).with_name("racer")), "analyze", str(run), "--out", str(out),
                    "--reward", str(ROOT / "examples" / "centre_line_reward.py")], check=True)
    target = images / "analysis_report.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1300,1700", f"--screenshot={target}", (out / "report.html").as_uri()],
                   check=True, capture_output=True)
    return target


def live_page(images: Path, port: int = 18765) -> Path:
    """racer's live page during a short training (`racer train --monitor`), once curves have grown."""
    from racer_agent.browser import HeadlessChromium

    out = ROOT / "runs" / f"live-{time.strftime('%Y%m%d-%H%M%S')}"
    training = subprocess.Popen([str(Path(sys.executable).with_name("racer")), "train", "--cars", "8",
                                 "--minutes", "3", "--monitor", str(port), "--out", str(out), "--quiet"])
    target = images / "live_page.png"
    try:
        time.sleep(15)
        chromium = HeadlessChromium(width=1300, height=460)
        try:
            chromium.open(f"http://127.0.0.1:{port + 1}/")
            chromium.wait_for("Number(document.getElementById('status').dataset.points) >= 8", timeout=240)
            chromium.screenshot(target)
        finally:
            chromium.close()
    finally:
        training.terminate()
        training.wait()
    return target


def sweep(images: Path) -> Path:
    rows = json.loads((ROOT / "docs" / "sweep" / "result_2026-12-02.json").read_text())
    out = images / "sweep_rewards.png"
    plot_sweep(rows, out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="a finished run directory to take the training pictures from")
    parser.add_argument("--minutes", type=float, help="budget of the main job when no --run is given")
    parser.add_argument("--images", type=Path, default=IMAGES, help="where to write them (default: docs/images)")
    parser.add_argument("--only", choices=("analysis", "live"), help="make only the report or live-page picture")
    args = parser.parse_args()
    args.images.mkdir(parents=True, exist_ok=True)
    if args.only == "analysis":
        print(analysis_report(args.run or main_job(args.minutes), args.images))
        return
    if args.only == "live":
        print(live_page(args.images))
        return
    made = [*tracks(args.images), camera_frames(args.images), race_frames(args.images), sweep(args.images)]
    run = args.run or main_job(args.minutes)
    made += [*from_run(run, args.images), analysis_report(run, args.images), live_page(args.images)]
    for path in made:
        print(path)


if __name__ == "__main__":
    main()
