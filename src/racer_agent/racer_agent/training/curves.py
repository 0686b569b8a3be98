"""Training curves as PNG: what the DeepRacer console's reward graph shows, per episode and per iteration."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from racer_agent.training.run_directory import RunDirectory, read_csv


def _column(rows: list[dict], key: str) -> np.ndarray:
    return np.array([float(r[key]) if r.get(key) not in (None, "") else np.nan for r in rows])


def _rolling(values: np.ndarray, window: int = 50) -> np.ndarray:
    if len(values) == 0:
        return values
    kernel = np.ones(min(window, len(values)))
    return np.convolve(values, kernel, "valid") / len(kernel)


def save_training_curves(run: RunDirectory) -> list[Path]:
    episodes = read_csv(run.episodes_csv)
    iterations = read_csv(run.iterations_csv)
    train = [r for r in episodes if r["phase"] == "train"]
    evals = [r for r in episodes if r["phase"] == "eval"]
    run.plots.mkdir(parents=True, exist_ok=True)

    fig, axes = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    for ax, key, label in ((axes[0], "reward", "episode reward"), (axes[1], "progress", "progress (%)")):
        x, y = _column(train, "wall_s"), _column(train, key)
        ax.plot(x, y, ".", ms=2, alpha=0.3, color="tab:blue", label=f"training episodes ({len(train)})")
        if len(y) >= 2:
            smooth = _rolling(y)
            ax.plot(x[len(x) - len(smooth):], smooth, color="tab:blue", lw=2, label="rolling mean (50)")
        if key == "progress" and evals:
            ax.plot(_column(evals, "wall_s"), _column(evals, key), "o", ms=3, color="tab:red",
                    label="greedy evaluation laps")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    axes[1].set_xlabel("wall-clock seconds")
    fig.suptitle("per episode")
    per_episode = _save(fig, run.plots / "episodes.png")

    fig, axes = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    it = _column(iterations, "iteration")
    axes[0].plot(it, _column(iterations, "mean_reward"), color="tab:blue")
    axes[0].set_ylabel("mean episode reward")
    axes[1].plot(it, _column(iterations, "mean_progress"), color="tab:blue", label="training (mean progress)")
    axes[1].plot(it, _column(iterations, "eval_progress"), "o-", ms=3, color="tab:red", label="evaluation")
    axes[1].plot(it, 100 * _column(iterations, "completion_rate"), color="tab:green", alpha=0.7,
                 label="training laps completed (%)")
    if np.nansum(_column(iterations, "crashes")) > 0:  # a race with objects: the console's crash incidents
        axes[1].plot(it, _column(iterations, "crashes"), color="tab:brown", alpha=0.7,
                     label="training episodes ended by a crash")
    axes[1].set_ylabel("progress (%)")
    axes[1].legend(loc="upper left", fontsize=8)
    axes[2].plot(it, _column(iterations, "eval_lap_time_s"), "o-", ms=3, color="tab:red")
    axes[2].set_ylabel("eval lap time (s)")
    axes[2].set_xlabel("iteration")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle("per iteration")
    per_iteration = _save(fig, run.plots / "iterations.png")
    return [per_episode, per_iteration]


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
