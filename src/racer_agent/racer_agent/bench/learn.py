"""`racer bench learn`: how fast and how good a driver racer's PPO trains, beside Stable-Baselines3's.

Every seed of every track trains racer's default config under the same wall-clock budget, and
(unless `--no-peer`) SB3 PPO set up as racer is (`sb3_peer`: same network, cars, starts, PPO
numbers, evaluation schedule, early stop and checkpoint selection), once with SB3's entropy
default and once with racer's. Both are judged by the same greedy evaluation (`greedy_eval`):
`eval_laps` laps from evenly spaced starts, timed in sim seconds, a lap ending at its first
mistake; the final figures are that evaluation of the kept (best) policy. Every seed is reported,
then medians, where a seed that never lapped counts as infinitely slow.

With `race` (object avoidance, head-to-bot) every seed trains twice, in that race and in a time
trial, in the same run (the peer is the time trial). The race's model is then also judged the way
the console's evaluation drives: `CONSOLE_LAPS` laps in one run from the start line with no
penalties (a crash or off-track ends it); with randomised obstacles, besides, `UNSEEN_LAPS` single
laps each on a layout drawn from seeds training never used.
"""

from __future__ import annotations

import math
import statistics
import tempfile
from pathlib import Path

from racer_agent.env.episode import CONSOLE_LAPS
from racer_agent.evaluation.policy import TorchPolicy
from racer_agent.training import config as train_config
from racer_agent.training.greedy_eval import EvalState, GreedyEvaluation
from racer_agent.training.trainer import Trainer

UNSEEN_LAPS = 30  # single laps on unseen random layouts
UNSEEN_SEED = 1_000_000  # layouts from here on: no training or evaluation seed reaches them


def run_racer(track: str, seed: int, minutes: float, workdir: Path, race: dict | None = None) -> dict:
    cfg = train_config.load(track=track, seed=seed, minutes=minutes, race=race)
    name = f"racer-{Path(track).stem}-{seed}-{(race or {}).get('race_type', 'time_trial')}"
    trainer = Trainer(cfg, workdir / name, show_progress=False)
    outcome = trainer.train()
    p = outcome.progress
    best = TorchPolicy.from_checkpoint(trainer.run.checkpoint_for_driving())
    final = trainer.evaluation.run(best, EvalState(), p.samples, p.wall_s).summary
    row = _row(p.eval, final, p.samples, p.wall_s, outcome.reason)
    if race:
        row.update(_race_laps(cfg, best))
    return row


def _race_laps(cfg: train_config.TrainConfig, policy: TorchPolicy) -> dict:
    """The console's run (consecutive laps from the line, no penalties) and, with randomised
    obstacles, single laps on layouts training never saw."""
    from racer_agent.env.race import Race, RaceConfig
    from racer_agent.evaluation.laps import drive_laps

    options = {**cfg.race_options(), "start": "start_line"}
    race = Race(RaceConfig(track=cfg.tracks[0], **options))
    race.seed(0)
    laps, _ = drive_laps(race, policy, [0.0], consecutive=CONSOLE_LAPS)
    out = {"consecutive_laps": sum(lap.completed for lap in laps),
           "consecutive_crashes": sum(lap.crashed for lap in laps),
           "consecutive_off_track": sum(lap.off_track for lap in laps),
           "consecutive_lap_times_s": [round(lap.lap_time_s, 3) for lap in laps if lap.completed]}
    if race.race_objects.randomize_obstacle_locations:
        unseen = []
        for k in range(UNSEEN_LAPS):
            race.seed(UNSEEN_SEED + k)
            unseen += drive_laps(race, policy, [0.0])[0]
        out["unseen_layout_laps"] = len(unseen)
        out["unseen_layout_completed"] = sum(lap.completed for lap in unseen)
        out["unseen_layout_crashes"] = sum(lap.crashed for lap in unseen)
    return out


def run_sb3(track: str, seed: int, minutes: float, ent_coef: float) -> tuple[dict, dict]:
    from racer_agent.bench import sb3_peer

    cfg = train_config.load(track=track, seed=seed, minutes=minutes)
    out = sb3_peer.train(cfg, ent_coef, GreedyEvaluation.for_config(cfg))
    return _row(out["state"], out["final"], out["samples"], out["wall_s"], out["stopped"]), out["settings"]


def _row(state: EvalState, final: dict, samples: int, wall_s: float, stopped: str) -> dict:
    return {"first_lap_s": _finite(state.first_lap_wall_s), "all_laps_s": _finite(state.all_laps_wall_s),
            "first_lap_samples": _finite(state.first_lap_samples), "all_laps_samples": _finite(state.all_laps_samples),
            "wall_s": round(wall_s, 1), "samples": samples, "stopped": stopped,
            "final_completed": final["completed_laps"], "final_laps": len(final["laps"]),
            "mean_lap_time_s": final["mean_lap_time_s"], "lap_time_over_reference": final["lap_time_over_reference"]}


def _finite(x: float) -> float | None:
    return round(x, 1) if math.isfinite(x) else None


def run(tracks: list[str], seeds: int, minutes: float, peer_minutes: float | None, peer: bool = True,
        peer_ent_coefs: tuple[float, ...] | None = None, race: dict | None = None,
        time_trial: bool = True, first_seed: int = 0) -> dict:
    from tqdm import tqdm

    from racer_agent.training.config import Hyperparameters

    if peer_ent_coefs is None:
        peer_ent_coefs = (0.0, train_config.load().hyperparameters.beta_entropy)  # SB3's default, racer's
    peers = [f"sb3 ent_coef {c:g}" for c in peer_ent_coefs] if peer and not race else []
    raced_config = train_config.load(race=race) if race else None
    raced = [raced_config.race.get("race_type", "time_trial")] if raced_config else []
    result: dict = {"minutes": minutes, "peer_minutes": peer_minutes or minutes,
                    "seeds": list(range(first_seed, first_seed + seeds)),
                    "race": raced_config.race if raced_config else {},
                    # how the race's runs were judged while training (racer_settings are the time trial's)
                    "race_eval_consecutive": raced_config.eval_consecutive if raced_config else None,
                    "race_eval_laps": raced_config.eval_laps if raced_config else None,
                    "racer_settings": train_config.load().to_dict(), "peer_settings": {}, "tracks": {},
                    "deepracer_console_defaults": vars(Hyperparameters())}
    with tempfile.TemporaryDirectory() as tmp, \
            tqdm(total=len(tracks) * seeds * (1 + len(peers) + len(raced)), desc="bench learn") as bar:
        for track in tracks:
            cfg = train_config.load(track=track)
            evaluation = GreedyEvaluation.for_config(cfg)
            reference, _ = evaluation.references[0]  # the standing lap
            runs: dict[str, list[dict]] = {"racer": [], **{name: [] for name in peers + raced}}
            for seed in range(first_seed, first_seed + seeds):
                for name in raced:  # the race first, then the time trial beside it
                    runs[name].append(run_racer(track, seed, minutes, Path(tmp), race))
                    bar.update()
                if time_trial or not race:
                    runs["racer"].append(run_racer(track, seed, minutes, Path(tmp)))
                bar.update()
                for name, ent_coef in zip(peers, peer_ent_coefs, strict=False):
                    row, result["peer_settings"][name] = run_sb3(track, seed, peer_minutes or minutes, ent_coef)
                    runs[name].append(row)
                    bar.update()
            result["tracks"][evaluation.races[0].track.name] = {
                "reference_lap_time_s": round(reference, 3),
                **{name: _median(rs) for name, rs in runs.items() if rs},
                "runs": runs,
            }
    return result


def _median(runs: list[dict]) -> dict:
    """Median over seeds; a run that never lapped counts as infinitely slow (shown as null)."""
    def med(key: str) -> float | None:
        m = statistics.median(r[key] if r[key] is not None else math.inf for r in runs)
        return round(m, 3) if math.isfinite(m) else None

    extra = {}
    if "consecutive_laps" in runs[0]:
        extra["every_seed_consecutive_clean"] = all(
            r["consecutive_laps"] == CONSOLE_LAPS and not r["consecutive_crashes"] and not r["consecutive_off_track"]
            for r in runs)
    if "unseen_layout_laps" in runs[0]:
        extra["unseen_layout_completion"] = round(sum(r["unseen_layout_completed"] for r in runs)
                                                  / sum(r["unseen_layout_laps"] for r in runs), 3)
    return {**extra, "median_first_lap_s": med("first_lap_s"), "median_all_laps_s": med("all_laps_s"),
            "median_final_completion": statistics.median(r["final_completed"] / r["final_laps"] for r in runs),
            "median_mean_lap_time_s": med("mean_lap_time_s"),
            "median_lap_time_over_reference": med("lap_time_over_reference"),
            "every_seed_all_laps": all(r["final_completed"] == r["final_laps"] for r in runs)}
