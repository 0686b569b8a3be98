"""`racer bench learn`: how fast a lapping driver appears, racer's PPO beside Stable-Baselines3's.

Both learn on the same env (same track, reward, actions, camera) for the same wall-clock budget in
the same run, and both are judged by the same greedy evaluation: `eval_laps` laps from evenly
spaced starts every `eval_every_s` seconds, timed in sim seconds, a lap ending at its first
mistake. Reported per run: time to the first completed evaluation lap, time to all laps, and the
final evaluation (racer: its best checkpoint; SB3: its final model, as SB3 keeps no best), with
lap time / reference lap time.
"""

from __future__ import annotations

import math
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from racer_agent.env.race import Race, RaceConfig
from racer_agent.evaluation.laps import spread_laps, summarise
from racer_agent.evaluation.policy import TorchPolicy
from racer_agent.training import config as train_config
from racer_agent.training.trainer import Trainer
from racer_core.racing_line import reference_lap

SB3_CARS = 8


def _evaluate(race: Race, policy) -> dict:
    return summarise(spread_laps(race, policy))


def run_racer(track: str, seed: int, minutes: float, workdir: Path) -> dict:
    cfg = train_config.load(track=track, seed=seed, minutes=minutes)
    trainer = Trainer(cfg, workdir / f"racer-{Path(track).stem}-{seed}", show_progress=False)
    outcome = trainer.train()
    p = outcome.progress
    final = _evaluate(trainer.eval_race, TorchPolicy.from_checkpoint(trainer.run.checkpoint_for_driving()))
    return {"first_lap_s": _finite(p.first_lap_wall_s), "all_laps_s": _finite(p.all_laps_wall_s),
            "wall_s": round(p.wall_s, 1), "samples": p.samples, "stopped": outcome.reason, **_final(final, cfg)}


def run_sb3(track: str, seed: int, minutes: float) -> dict:
    """SB3 PPO with its defaults and CnnPolicy on the same env, evaluated on the same schedule."""
    import gymnasium as gym
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    cfg = train_config.load(track=track, seed=seed, minutes=minutes)
    torch.set_num_threads(cfg.torch_threads)
    env = make_vec_env(lambda: gym.make("racer/TimeTrial-v0", track=track), n_envs=SB3_CARS, seed=seed)
    eval_race = Race(RaceConfig(track=track, start="start_line"), num_cars=cfg.eval_laps)
    # SB3's defaults (NatureCNN, shared trunk, clip 0.2, GAE 0.95, lr 3e-4) except the rollout size:
    # its default 2048 steps x 8 cars x 10 epochs makes one update run for many minutes on 2 cores,
    # past any budget, so it gets a CPU-sized rollout like racer's (1,024 samples, 4 epochs of 256).
    model = PPO("CnnPolicy", env, n_steps=128, batch_size=256, n_epochs=4, seed=seed, device="cpu", verbose=0)
    marks = {"first": math.inf, "all": math.inf}
    start = time.perf_counter()

    def policy(frames: np.ndarray) -> np.ndarray:
        return model.predict(frames, deterministic=True)[0]

    class Clock(BaseCallback):
        last_eval = 0.0

        def _on_step(self) -> bool:
            now = time.perf_counter() - start
            if now - self.last_eval >= cfg.eval_every_s:
                self.last_eval = now
                done = _evaluate(eval_race, policy)["completed_laps"]
                if done:
                    marks["first"] = min(marks["first"], now)
                if done == cfg.eval_laps:
                    marks["all"] = min(marks["all"], now)
            return time.perf_counter() - start < cfg.minutes * 60

    model.learn(total_timesteps=10**9, callback=Clock())
    final = _evaluate(eval_race, policy)
    return {"first_lap_s": _finite(marks["first"]), "all_laps_s": _finite(marks["all"]),
            "wall_s": round(time.perf_counter() - start, 1), "samples": int(model.num_timesteps),
            **_final(final, cfg)}


def _final(summary: dict, cfg) -> dict:
    return {"final_completed": summary["completed_laps"], "final_laps": cfg.eval_laps,
            "mean_lap_time_s": summary["mean_lap_time_s"]}


def _finite(x: float) -> float | None:
    return round(x, 1) if math.isfinite(x) else None


def run(tracks: list[str], seeds: int, minutes: float, peer_minutes: float | None, peer: bool = True) -> dict:
    from tqdm import tqdm

    result: dict = {"minutes": minutes, "peer_minutes": peer_minutes or minutes, "seeds": seeds, "tracks": {}}
    jobs = [(t, s) for t in tracks for s in range(seeds)]
    with tempfile.TemporaryDirectory() as tmp, tqdm(total=len(jobs) * (2 if peer else 1), desc="bench learn") as bar:
        for track in tracks:
            race = Race(RaceConfig(track=track), num_cars=1)
            reference = reference_lap(race.track, race.actions.max_speed).time_s
            runs: dict[str, list[dict]] = {"racer": [], "sb3": []}
            for seed in range(seeds):
                runs["racer"].append(run_racer(track, seed, minutes, Path(tmp)))
                bar.update()
                if peer:
                    runs["sb3"].append(run_sb3(track, seed, peer_minutes or minutes))
                    bar.update()
            result["tracks"][race.track.name] = {
                "reference_lap_time_s": round(reference, 3),
                **{name: _median(rs, reference) for name, rs in runs.items() if rs},
                "runs": runs,
            }
    return result


def _median(runs: list[dict], reference: float) -> dict:
    """Median over seeds; a run that never lapped counts as infinitely slow (shown as null)."""
    def med(key: str) -> float | None:
        values = [r[key] if r[key] is not None else math.inf for r in runs]
        m = statistics.median(values)
        return round(m, 3) if math.isfinite(m) else None

    lap = med("mean_lap_time_s")
    return {"median_first_lap_s": med("first_lap_s"), "median_all_laps_s": med("all_laps_s"),
            "median_final_completion": statistics.median(r["final_completed"] / r["final_laps"] for r in runs),
            "median_mean_lap_time_s": lap,
            "median_lap_time_over_reference": round(lap / reference, 3) if lap is not None else None}
