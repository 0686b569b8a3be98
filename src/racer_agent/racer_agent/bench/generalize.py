"""`racer bench generalize`: does a driver trained on a few tracks lap the tracks it never saw?

This is racer's sim-to-real proxy. A real track is a track the policy never saw, in a light and on
a floor it never saw; a policy that laps unseen simulated tracks has learnt to follow a road from
the picture rather than to recall one track's corners, and one that does so after training with
domain randomisation has also learnt to ignore the look. The recipe (`RECIPE_TRACKS`, both
directions, cars spread over the tracks) trains for a fixed budget with and without randomisation;
each model then drives the console's evaluation (3 consecutive laps, off-track penalties allowed)
on every other route in the folder. A route counts as completed when all its laps are.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from racer_agent.evaluation.report import evaluate
from racer_agent.training import config as train_config
from racer_agent.training.trainer import Trainer
from racer_core import track_library
from racer_core.builtin_tracks import load as load_track
from racer_core.track import TrackError

# Loops of different character: a wide and a narrow re:Invent, hairpins (Bowtie, China), long
# sweepers (Oval), chicanes (Mexico, New York) and a long mixed circuit (AWS).
RECIPE_TRACKS = ("reinvent_base", "Bowtie_track", "China_track", "Mexico_track", "New_York_Track", "Oval_track",
                 "reInvent2019_wide", "AWS_track")
LAPS = 3


def unseen_routes(folder: Path, trained: list[str]) -> list[Path]:
    """Every route in `folder` not trained on (clockwise and counter-clockwise copies of a trained
    track are the same road and count as seen)."""
    seen = {Path(t).stem.lower() for t in trained}
    out = []
    for path in sorted(folder.glob("*.npy")):
        base = path.stem.lower().removesuffix("_cw").removesuffix("_ccw")
        if path.stem.lower() not in seen and base not in seen:
            out.append(path)
    return out


def train_recipe(folder: Path, randomize: bool, minutes: float, seed: int, out: Path) -> Path:
    tracks = [str(folder / f"{name}.npy") for name in RECIPE_TRACKS]
    cfg = train_config.load(track=tracks, direction="alternate", randomize=randomize, minutes=minutes, seed=seed)
    trainer = Trainer(cfg, out, show_progress=False)
    trainer.train()
    return trainer.run.root


def evaluate_routes(run: Path, routes: list[Path], out: Path) -> list[dict]:
    rows = []
    for route in routes:
        try:
            load_track(route)
        except TrackError as exc:  # a route racer refuses is reported, not counted either way
            rows.append({"track": route.stem, "error": str(exc)})
            continue
        report = evaluate(run, track=str(route), laps=LAPS, out_dir=out / route.stem)
        rows.append({"track": report["track"], "completed_laps": report["completed_laps"],
                     "off_track": report["off_track_count"], "mean_lap_time_s": report["mean_lap_time_s"],
                     "lap_time_over_reference": report["lap_time_over_reference"]})
    return rows


def summarise(rows: list[dict]) -> dict:
    judged = [r for r in rows if "error" not in r]
    completed = [r for r in judged if r["completed_laps"] == LAPS]
    ratios = [r["lap_time_over_reference"] for r in completed if r["lap_time_over_reference"] is not None]
    return {"routes": len(judged), "refused": len(rows) - len(judged), "completed_routes": len(completed),
            "completed_share": round(len(completed) / len(judged), 3) if judged else None,
            "median_lap_time_over_reference": round(statistics.median(ratios), 3) if ratios else None,
            "off_track_total": sum(r["off_track"] for r in judged)}


def run(folder: str | Path | None, minutes: float, seed: int = 0, limit: int | None = None) -> dict:
    """`folder` None: the user's track library (what `racer tracks fetch` fills)."""
    from tqdm import tqdm

    folder = Path(folder) if folder is not None else track_library.library_dir()
    trained = [str(folder / f"{name}.npy") for name in RECIPE_TRACKS]
    missing = [Path(t).stem for t in trained if not Path(t).is_file()]
    if missing:
        raise ValueError(f"the recipe's tracks are missing from {folder}: {', '.join(missing)} (get them with "
                         f"`racer tracks fetch {' '.join(missing)}`, or give --routes FOLDER)")
    routes = unseen_routes(folder, trained)[:limit]
    result: dict = {"train_tracks": list(RECIPE_TRACKS), "direction": "alternate", "minutes": minutes, "seed": seed,
                    "unseen_routes": len(routes), "laps": LAPS}
    with tempfile.TemporaryDirectory() as tmp:
        for randomize in (False, True):
            key = "randomized" if randomize else "plain"
            print(f"bench generalize: training ({key}, {minutes} min)", file=sys.stderr)
            run_dir = train_recipe(folder, randomize, minutes, seed, Path(tmp) / key)
            rows = [row for route in tqdm(routes, desc=f"unseen routes ({key})")
                    for row in evaluate_routes(run_dir, [route], Path(tmp) / f"{key}-eval")]
            result[key] = {**summarise(rows), "per_route": rows}
    return result
