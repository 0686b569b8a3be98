"""`racer analyze`: one HTML page a person opens, covering what the community's analysis notebooks
show, for one run or several side by side.

Every figure is a matplotlib PNG written beside the page and embedded in it (base64), so the page
alone is the whole report and the PNGs stay for slides. Tables are plain HTML made from the same
pandas frames the figures draw, and every number they show is read from the run's own files. A
small script at the end of the page counts images that failed to load and script errors into
`#report-status`, which the tests read from headless Chromium.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from racer_agent.analysis.logs import RunLogs, step_seconds
from racer_agent.analysis.rescore import rescore
from racer_core.plotting import draw_track

SECTIONS = {  # id: heading, in page order
    "training": "Training progress",
    "episodes": "Episodes",
    "track": "On the track",
    "actions": "Action usage",
    "rescore": "Re-scored with a new reward function",
    "stability": "Simulator stability",
    "evaluations": "Evaluations",
    "comparison": "Comparison",
}
TRACK_SECTIONS = 6  # the track cut into this many equal stretches for the action breakdown
TOP_LAPS = 5


@dataclass
class Page:
    """The report being written: its folder, and the HTML of each section."""

    out: Path
    parts: dict[str, list[str]] = field(default_factory=dict)

    def add(self, section: str, text: str) -> None:
        self.parts.setdefault(section, []).append(text)

    def figure(self, section: str, fig, name: str, caption: str) -> None:
        path = self.out / f"{name}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        data = base64.b64encode(path.read_bytes()).decode()
        self.add(section, f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(name)}">'
                          f"<figcaption>{html.escape(caption)}</figcaption></figure>")

    def table(self, section: str, frame: pd.DataFrame, caption: str, table_id: str = "") -> None:
        ident = f' id="{table_id}"' if table_id else ""
        body = frame.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="-", border=0)
        self.add(section, f"<div class=\"table\"{ident}><p>{html.escape(caption)}</p>{body}</div>")


def write_report(runs: list[RunLogs], out: Path, reward: str | None = None) -> Path:
    """The report for `runs` in `out` (report.html and its PNGs); `reward` re-scores every run."""
    out.mkdir(parents=True, exist_ok=True)
    page = Page(out)
    for k, run in enumerate(runs):
        tag = f"run{k}"
        _training(page, run, tag)
        _episodes(page, run, tag)
        _track(page, run, tag)
        _actions(page, run, tag)
        if reward:
            _rescore(page, run, tag, reward)
        _stability(page, run, tag)
        _evaluations(page, run, tag)
    rows = summary(runs)
    if len(runs) > 1:
        _comparison(page, runs, rows)
    path = out / "report.html"
    path.write_text(_html(runs, page))
    (out / "report.json").write_text(json.dumps(rows, indent=2) + "\n")
    return path


# ------------------------------------------------------------------------------------ sections
def _training(page: Page, run: RunLogs, tag: str) -> None:
    it, ep = run.iterations, run.episodes
    spread = ep.groupby("iteration")["reward"].agg(["mean", "std"])
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.5), sharex=True)
    axes[0, 0].plot(spread.index, spread["mean"], color="tab:blue", label="mean")
    axes[0, 0].fill_between(spread.index, spread["mean"] - spread["std"], spread["mean"] + spread["std"],
                            color="tab:blue", alpha=0.2, label="+- one std")
    axes[0, 0].set_ylabel("episode reward")
    axes[0, 1].plot(it["iteration"], it["mean_progress"], label="training progress (%)")
    axes[0, 1].plot(it["iteration"], 100 * it["completion_rate"], label="training laps completed (%)")
    if "eval_progress" in it:
        axes[0, 1].plot(it["iteration"], it["eval_progress"], "o", ms=3, color="tab:red", label="evaluation")
    laps = ep.dropna(subset=["lap_time_s"])
    axes[1, 0].plot(laps["iteration"], laps["lap_time_s"], ".", ms=3, alpha=0.5, label="completed training laps")
    if "eval_lap_time_s" in it:
        axes[1, 0].plot(it["iteration"], it["eval_lap_time_s"], "o", ms=3, color="tab:red", label="evaluation")
    axes[1, 0].set_ylabel("lap time (s)")
    if "entropy" in it:
        axes[1, 1].plot(it["iteration"], it["entropy"], color="tab:purple", label="policy entropy")
        twin = axes[1, 1].twinx()
        twin.step(it["iteration"], it["speed_cap"], color="tab:green", where="post", label="speed cap (m/s)")
        twin.set_ylabel("speed cap (m/s)")
    best = run.best_iteration
    for ax in axes.flat:
        if best is not None:
            ax.axvline(best, color="tab:red", ls="--", lw=1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    for ax in axes[1]:
        ax.set_xlabel("iteration (from 0)")
    note = f"; best checkpoint (dashed): iteration {best}" if best is not None else ""
    page.figure("training", fig, f"{tag}_training", f"{run.name}: per iteration{note}")


def _episodes(page: Page, run: RunLogs, tag: str) -> None:
    ep = run.episodes
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    axes[0].scatter(ep["time"], ep["progress"], s=4, alpha=0.5)
    axes[0].set(xlabel="episode time (s)", ylabel="progress (%)")
    axes[1].scatter(ep["progress"], ep["reward"], s=4, alpha=0.5)
    axes[1].set(xlabel="progress (%)", ylabel="reward")
    axes[2].scatter(ep["start_at"], ep["progress"], s=4, alpha=0.5)
    axes[2].set(xlabel="start waypoint", ylabel="progress (%)")
    for ax in axes:
        ax.grid(alpha=0.3)
    page.figure("episodes", fig, f"{tag}_episodes", f"{run.name}: {len(ep)} training episodes")
    columns = ["iteration", "episode", "steps", "progress", "time", "reward", "status"]
    laps = ep[ep["complete"]]
    page.table("episodes", laps.nsmallest(TOP_LAPS, "time")[columns],
               f"{run.name}: fastest completed training laps", f"{tag}-fastest")
    page.table("episodes", laps.nlargest(TOP_LAPS, "reward")[columns],
               f"{run.name}: best-rewarded completed laps", f"{tag}-best-rewarded")


def _track(page: Page, run: RunLogs, tag: str) -> None:
    steps = _drawn(run)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    for ax, column, label, cmap in ((axes[0], "reward", "reward", "hot"),
                                    (axes[1], "measured_speed" if "measured_speed" in steps else "speed",
                                     "speed (m/s)", "plasma"),
                                    (axes[2], "steering_angle", "steering (deg)", "coolwarm")):
        _on_track(ax, run)
        points = ax.scatter(steps["x"], steps["y"], c=steps[column], s=1, cmap=cmap, alpha=0.5)
        fig.colorbar(points, ax=ax, label=label, shrink=0.8)
    page.figure("track", fig, f"{tag}_heatmaps", f"{run.name}: every training step, by reward, speed and steering")
    laps = run.episodes[run.episodes["complete"]].nsmallest(3, "time")
    if len(laps):
        fig, ax = plt.subplots(figsize=(7, 5))
        _on_track(ax, run)
        for _, lap in laps.iterrows():
            path = _episode_steps(run.steps, lap)
            speed = path["measured_speed"] if "measured_speed" in path else path["speed"]
            points = ax.scatter(path["x"], path["y"], c=speed, s=4, cmap="plasma", vmin=0, vmax=4)
        fig.colorbar(points, ax=ax, label="speed (m/s)")
        page.figure("track", fig, f"{tag}_fastest_paths", f"{run.name}: the {len(laps)} fastest training laps")


def _actions(page: Page, run: RunLogs, tag: str) -> None:
    steps = _drawn(run)
    steps = steps[steps["action"] >= 0]
    if not len(steps):
        page.add("actions", f"<p>{html.escape(run.name)}: continuous actions (no action indices to count)</p>")
        return
    counts = steps["action"].value_counts().sort_index()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    axes[0].bar(counts.index, counts.values / counts.sum() * 100)
    axes[0].set(xlabel="action", ylabel="share of steps (%)")
    _on_track(axes[1], run)
    points = axes[1].scatter(steps["x"], steps["y"], c=steps["action"], s=1, cmap="tab10", alpha=0.6)
    fig.colorbar(points, ax=axes[1], label="action")
    page.figure("actions", fig, f"{tag}_actions", f"{run.name}: how often and where each action is chosen")
    section = _sections(steps)
    table = pd.crosstab(section, steps["action"], normalize="index").mul(100).round(1)
    table.insert(0, "track section", table.index)
    table.columns = ["track section"] + [f"action {a} (%)" for a in table.columns[1:]]
    page.table("actions", table, f"{run.name}: action share per stretch of track (by progress)", f"{tag}-sections")


def _rescore(page: Page, run: RunLogs, tag: str, reward: str) -> None:
    if run.track is None:
        page.add("rescore", f"<p>{html.escape(run.name)}: no track known (pass --track) to rebuild the params</p>")
        return
    steps = run.steps.copy()
    steps["new_reward"] = rescore(steps, run.track, reward)
    per_episode = steps.groupby(["iteration", "episode"])[["reward", "new_reward"]].sum()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    axes[0].scatter(per_episode["reward"], per_episode["new_reward"], s=5, alpha=0.6)
    axes[0].set(xlabel="episode reward (trained with)", ylabel=f"episode reward ({Path(reward).name})")
    per_iteration = per_episode.groupby("iteration").mean()
    axes[1].plot(per_iteration.index, per_iteration["reward"], label="trained with")
    axes[1].plot(per_iteration.index, per_iteration["new_reward"], label=Path(reward).name)
    axes[1].set(xlabel="iteration", ylabel="mean episode reward")
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    page.figure("rescore", fig, f"{tag}_rescore", f"{run.name}: each logged step scored by {Path(reward).name}")
    lap_time = run.episodes.set_index(["iteration", "episode"])["lap_time_s"]
    joined = per_episode.join(lap_time).dropna().reset_index()
    page.table("rescore", joined.nsmallest(TOP_LAPS, "lap_time_s"),
               f"{run.name}: the fastest laps, old and new reward", f"{tag}-rescore")


def _stability(page: Page, run: RunLogs, tag: str) -> None:
    wall = step_seconds(run.steps) * 1000
    rows = {"step time p50 (ms)": np.percentile(wall, 50) if len(wall) else None,
            "step time p95 (ms)": np.percentile(wall, 95) if len(wall) else None,
            "step time max (ms)": wall.max() if len(wall) else None}
    if "samples_per_s" in run.iterations:
        rows["samples/s (median iteration)"] = run.iterations["samples_per_s"].median()
    sim = run.steps.groupby(["iteration", "episode"])["tstamp"].agg(lambda t: t.max() - t.min()).sum()
    span = run.steps.groupby(["iteration", "episode"])["wall_clock"].agg(lambda t: t.max() - t.min()).sum()
    rows["sim time over wall time (per car)"] = sim / span if span > 0 else None
    frame = pd.DataFrame({"measure": list(rows), "value": list(rows.values())})
    page.table("stability", frame, f"{run.name}: how fast the simulator stepped (wall clock per car step; "
               "racer steps every car at once, so a car's step waits for the batch)", f"{tag}-stability")


def _evaluations(page: Page, run: RunLogs, tag: str) -> None:
    if not run.evaluations:
        page.add("evaluations", f"<p>{html.escape(run.name)}: no evaluation.json in this run</p>")
        return
    rows = []
    for ev in run.evaluations:
        for k, lap in enumerate(ev["laps"]):
            rows.append({"evaluation": Path(ev["folder"]).name, "track": ev["track"], "lap": k + 1,
                         "time (s)": lap["lap_time_s"], "progress (%)": lap["progress"],
                         "completed": lap["completed"], "off track": lap["off_track"],
                         "crashes": lap.get("crashed", 0), "status": lap["status"]})
    page.table("evaluations", pd.DataFrame(rows), f"{run.name}: every evaluation lap (times include penalties)",
               f"{tag}-evaluations")
    for ev in run.evaluations:
        picture = Path(ev["folder"]) / "driven_lines.png"
        if picture.is_file():
            data = base64.b64encode(picture.read_bytes()).decode()
            page.add("evaluations", f'<figure><img src="data:image/png;base64,{data}" alt="driven lines">'
                                    f"<figcaption>{html.escape(Path(ev['folder']).name)}: each lap's path"
                                    "</figcaption></figure>")


def _comparison(page: Page, runs: list[RunLogs], rows: list[dict]) -> None:
    page.table("comparison", pd.DataFrame(rows), "the runs side by side", "comparison-table")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for run in runs:
        it = run.iterations
        x = it["samples"] if "samples" in it else it["iteration"]
        done = run.episodes.groupby("iteration")["complete"].sum().reindex(it["iteration"], fill_value=0).cumsum()
        axes[0].plot(x, done.values, label=run.name)
        if "eval_lap_over_reference" in it:
            axes[1].plot(x, it["eval_lap_over_reference"], "o-", ms=3, label=run.name)
    axes[0].set(xlabel="samples", ylabel="training laps completed (total)")
    axes[1].set(xlabel="samples", ylabel="evaluation lap over the reference")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    page.figure("comparison", fig, "comparison", "the runs' curves overlaid")
    for run in runs:
        if len(run.lineage) > 1:
            chain = " &larr; ".join(html.escape(Path(p).name) for p in run.lineage)
            page.add("comparison", f"<p>lineage: {chain} (each cloned from the next)</p>")


# ------------------------------------------------------------------------------------- helpers
def summary(runs: list[RunLogs]) -> list[dict]:
    """One row per run: the figures the comparison table shows (also report.json)."""
    rows = []
    for run in runs:
        it, ep = run.iterations, run.episodes
        first = ep[ep["complete"]]["iteration"].min() if ep["complete"].any() else None
        best_ratio = it["eval_lap_over_reference"].min() if "eval_lap_over_reference" in it else None
        rows.append({
            "run": run.name,
            "iterations": len(it),
            "episodes": len(ep),
            "samples": int(it["samples"].iloc[-1]) if "samples" in it else len(run.steps),
            "training laps completed": int(ep["complete"].sum()),
            "fastest training lap (s)": float(ep["lap_time_s"].min()) if ep["complete"].any() else None,
            "first completed lap at iteration": None if first is None else int(first),
            "best evaluation lap over reference": None if best_ratio is None or pd.isna(best_ratio)
            else float(best_ratio),
            "cloned from": Path(run.lineage[1]).name if len(run.lineage) > 1 else "",
        })
    return rows


def _drawn(run: RunLogs) -> pd.DataFrame:
    """The steps to draw over the run's track: those on it, when a run trained on several."""
    steps = run.steps
    if run.track is not None and "track" in steps and steps["track"].nunique() > 1:
        steps = steps[steps["track"] == run.track.name]
    return steps


def _on_track(ax, run: RunLogs) -> None:
    if run.track is not None:
        draw_track(ax, run.track)
    ax.set_aspect("equal")


def _episode_steps(steps: pd.DataFrame, lap: pd.Series) -> pd.DataFrame:
    return steps[(steps["iteration"] == lap["iteration"]) & (steps["episode"] == lap["episode"])]


def _sections(steps: pd.DataFrame) -> pd.Series:
    """Which stretch of the lap (by progress) each step was on, as "0-17 %" labels."""
    edges = np.linspace(0, 100, TRACK_SECTIONS + 1)
    labels = [f"{edges[i]:.0f}-{edges[i + 1]:.0f} %" for i in range(TRACK_SECTIONS)]
    return pd.cut(steps["progress"].clip(0, 100), edges, labels=labels, include_lowest=True)


STYLE = """body{font-family:sans-serif;margin:2em;max-width:1300px}figure{margin:1em 0}img{max-width:100%}
table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}
nav a{margin-right:1em}.table{margin:1em 0}"""

CHECK = """<div id="report-status" data-images="-1" data-broken="-1" data-errors="0"></div>
<script>
window.addEventListener("error", function () {
  var s = document.getElementById("report-status"); s.dataset.errors = String(Number(s.dataset.errors) + 1);
});
window.addEventListener("load", function () {
  var images = Array.from(document.images), s = document.getElementById("report-status");
  s.dataset.images = String(images.length);
  s.dataset.broken = String(images.filter(function (i) { return !i.complete || i.naturalWidth === 0; }).length);
});
</script>"""


def _html(runs: list[RunLogs], page: Page) -> str:
    names = ", ".join(html.escape(r.name) for r in runs)
    nav = "".join(f'<a href="#{k}">{v}</a>' for k, v in SECTIONS.items() if k in page.parts)
    body = "".join(f'<section id="{k}"><h2>{v}</h2>{"".join(page.parts[k])}</section>'
                   for k, v in SECTIONS.items() if k in page.parts)
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>racer analyze: {names}</title>"
            f"<style>{STYLE}</style></head><body><h1>racer analyze: {names}</h1><nav>{nav}</nav>{body}"
            f"{CHECK}</body></html>\n")
