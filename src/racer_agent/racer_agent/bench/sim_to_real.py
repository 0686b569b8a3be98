"""`racer bench sim2real`: what latency and actuation error do to a model, and what training with
them buys back.

The same seed is trained twice, without and with the sim-to-real effects (racer_core.sim_to_real:
the picture up to TRAINED_LATENCY periods old, the command up to a period late, a 10-15 fps camera
dropping frames, a miscalibrated steering and throttle), and each model is evaluated the console's
way (3 laps, off-tracks reset with the 2 s penalty) as trained, with the picture 2 periods old, with
actuation error, and with both. Reported: laps completed, off-tracks, and the mean lap over the
reference lap, as they come out.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from racer_agent.evaluation.report import evaluate
from racer_agent.training import config as train_config
from racer_agent.training.trainer import Trainer
from racer_core.sim_to_real import RANDOMIZED, for_evaluation

TRAINED_LATENCY = 2
TRAINED_WITH = dataclasses.replace(RANDOMIZED, observation_delay=(0, TRAINED_LATENCY)).to_dict()
CONDITIONS = {"as_trained": for_evaluation(0), "latency_2": for_evaluation(2),
              "actuation_error": for_evaluation(0, True), "latency_2_and_actuation_error": for_evaluation(2, True)}


def run(track: str = "circuit", minutes: float = 10.0, seed: int = 0, steps: int | None = None,
        laps: int = 3) -> dict:
    """Both trainings (each `minutes`, or `steps` samples), then every model under every condition."""
    result: dict = {"benchmark": "sim2real", "track": track, "minutes": None if steps else minutes, "steps": steps,
                    "seed": seed, "trained_with": TRAINED_WITH, "conditions": CONDITIONS, "models": {}}
    with tempfile.TemporaryDirectory(prefix="racer-bench-sim2real-") as tmp:
        for name, effects in (("trained_without", {}), ("trained_with", TRAINED_WITH)):
            out = Path(tmp) / name
            cfg = train_config.load(track=track, minutes=minutes, steps=steps, seed=seed, sim_to_real=effects)
            Trainer(cfg, out, show_progress=False).train()
            result["models"][name] = {
                condition: _judged(evaluate(out, laps=laps, out_dir=Path(tmp) / f"{name}-{condition}",
                                            sim_to_real=effects_at))
                for condition, effects_at in CONDITIONS.items()}
    return result


def _judged(report: dict) -> dict:
    return {"completed_laps": report["completed_laps"], "laps": len(report["laps"]),
            "off_track": sum(lap["off_track"] for lap in report["laps"]),
            "mean_lap_time_s": report["mean_lap_time_s"], "lap_time_over_reference": report["lap_time_over_reference"]}
