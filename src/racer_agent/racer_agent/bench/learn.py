"""`racer bench learn`: how fast and how good a driver racer's PPO trains, beside Stable-Baselines3's.

Every seed of every track trains racer's default config under the same wall-clock budget, and
(unless `--no-peer`) SB3 PPO set up as racer is (`sb3_peer`: same network, cars, starts, PPO
numbers, evaluation schedule, early stop and checkpoint selection), once with SB3's entropy
default and once with racer's. Both are judged by the same greedy evaluation (`greedy_eval`):
`eval_laps` laps from evenly spaced starts, timed in sim seconds, a lap ending at its first
mistake; the final figures are that evaluation of the kept (best) policy. Every seed is reported,
then medians, where a seed that never lapped counts as infinitely slow.
"""

from __future__ import annotations

import math
import statistics
import tempfile
from pathlib import Path

from racer_agent.evaluation.policy import TorchPolicy
from racer_agent.training import config as train_config
from racer_agent.training.greedy_eval import EvalState, GreedyEvaluation
from racer_agent.training.trainer import Trainer


def run_racer(track: str, seed: int, minutes: float, workdir: Path) -> dict:
    cfg = train_config.load(track=track, seed=seed, minutes=minutes)
    trainer = Trainer(cfg, workdir / f"racer-{Path(track).stem}-{seed}", show_progress=False)
    outcome = trainer.train()
    p = outcome.progress
    best = TorchPolicy.from_checkpoint(trainer.run.checkpoint_for_driving())
    final = trainer.evaluation.run(best, EvalState(), p.samples, p.wall_s).summary
    return _row(p.eval, final, p.samples, p.wall_s, outcome.reason)


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
        peer_ent_coefs: tuple[float, ...] | None = None) -> dict:
    from tqdm import tqdm

    from racer_agent.training.config import Hyperparameters

    if peer_ent_coefs is None:
        peer_ent_coefs = (0.0, train_config.load().hyperparameters.beta_entropy)  # SB3's default, racer's
    peers = [f"sb3 ent_coef {c:g}" for c in peer_ent_coefs] if peer else []
    result: dict = {"minutes": minutes, "peer_minutes": peer_minutes or minutes, "seeds": list(range(seeds)),
                    "racer_settings": train_config.load().to_dict(), "peer_settings": {}, "tracks": {},
                    "deepracer_console_defaults": vars(Hyperparameters())}
    with tempfile.TemporaryDirectory() as tmp, \
            tqdm(total=len(tracks) * seeds * (1 + len(peers)), desc="bench learn") as bar:
        for track in tracks:
            cfg = train_config.load(track=track)
            evaluation = GreedyEvaluation.for_config(cfg)
            reference = evaluation.references[0]
            runs: dict[str, list[dict]] = {"racer": [], **{name: [] for name in peers}}
            for seed in range(seeds):
                runs["racer"].append(run_racer(track, seed, minutes, Path(tmp)))
                bar.update()
                for name, ent_coef in zip(peers, peer_ent_coefs, strict=False):
                    row, result["peer_settings"][name] = run_sb3(track, seed, peer_minutes or minutes, ent_coef)
                    runs[name].append(row)
                    bar.update()
            result["tracks"][evaluation.races[0].track.name] = {
                "reference_lap_time_s": round(reference, 3),
                **{name: _median(rs) for name, rs in runs.items()},
                "runs": runs,
            }
    return result


def _median(runs: list[dict]) -> dict:
    """Median over seeds; a run that never lapped counts as infinitely slow (shown as null)."""
    def med(key: str) -> float | None:
        m = statistics.median(r[key] if r[key] is not None else math.inf for r in runs)
        return round(m, 3) if math.isfinite(m) else None

    return {"median_first_lap_s": med("first_lap_s"), "median_all_laps_s": med("all_laps_s"),
            "median_final_completion": statistics.median(r["final_completed"] / r["final_laps"] for r in runs),
            "median_mean_lap_time_s": med("mean_lap_time_s"),
            "median_lap_time_over_reference": med("lap_time_over_reference"),
            "every_seed_all_laps": all(r["final_completed"] == r["final_laps"] for r in runs)}
