"""`racer bench sim2real`: what latency and actuation error do to a model, and what training with
them buys back.

The same seed is trained twice, without and with the sim-to-real effects (racer_core.sim_to_real:
the picture up to TRAINED_LATENCY periods old, the command up to a period late, a 10-15 fps camera
dropping frames, a miscalibrated steering and throttle), and each model is evaluated the console's
way (3 laps, off-tracks reset with the 2 s penalty) as trained, with the picture 2 periods old, with
actuation error, and with both. Reported: laps completed, off-tracks, and the mean lap over the
reference lap, as they come out; and the laps completed when the first mistake ends the run (no
resets), where a lost lap shows as one.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from racer_agent.evaluation.report import DEFAULT_PENALTY_S, evaluate
from racer_agent.training import config as train_config
from racer_agent.training.trainer import Trainer
from racer_core.sim_to_real import RANDOMIZED, for_evaluation

TRAINED_LATENCY = (0, 2)  # periods the training pictures are old, drawn per episode


def trained_with(latency: tuple[int, int] = TRAINED_LATENCY) -> dict:
    """randomize's effects, with the pictures `latency` periods old."""
    return dataclasses.replace(RANDOMIZED, observation_delay=tuple(latency)).to_dict()


CONDITIONS = {"as_trained": for_evaluation(0), "latency_2": for_evaluation(2),
              "actuation_error": for_evaluation(0, True), "latency_2_and_actuation_error": for_evaluation(2, True)}


def run(track: str = "circuit", minutes: float = 10.0, seed: int = 0, steps: int | None = None,
        laps: int = 3, latency: tuple[int, int] = TRAINED_LATENCY) -> dict:
    """Both trainings (each `minutes`, or `steps` samples), then every model under every condition."""
    effects_trained = trained_with(latency)
    result: dict = {"benchmark": "sim2real", "track": track, "minutes": None if steps else minutes, "steps": steps,
                    "seed": seed, "trained_with": effects_trained, "conditions": CONDITIONS, "models": {}}
    with tempfile.TemporaryDirectory(prefix="racer-bench-sim2real-") as tmp:
        for name, effects in (("trained_without", {}), ("trained_with", effects_trained)):
            out = Path(tmp) / name
            cfg = train_config.load(track=track, minutes=minutes, steps=steps, seed=seed, sim_to_real=effects)
            Trainer(cfg, out, show_progress=False).train()
            result["models"][name] = {
                condition: _judged(*(evaluate(out, laps=laps, out_dir=Path(tmp) / f"{name}-{condition}-{resets}",
                                              sim_to_real=effects_at, penalty_seconds=penalty)
                                     for resets, penalty in (("resets", DEFAULT_PENALTY_S), ("none", None))))
                for condition, effects_at in CONDITIONS.items()}
    return result


def _judged(report: dict, without_resets: dict) -> dict:
    return {"completed_laps": report["completed_laps"], "laps": len(report["laps"]),
            "completed_without_resets": without_resets["completed_laps"],
            "off_track": sum(lap["off_track"] for lap in report["laps"]),
            "mean_lap_time_s": report["mean_lap_time_s"], "lap_time_over_reference": report["lap_time_over_reference"]}
