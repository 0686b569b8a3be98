"""`racer`: the command line (tracks, training, evaluation, export, a scripted drive, benchmarks)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

import numpy as np

RECORD_HELP = ("MCAP file of the car's topics as ROS 2 messages (camera, odom, tf, drive commands, markers) for "
               "Foxglove, rosbags or ros2 bag")


def _tracks_list(args) -> int:
    from racer_core import builtin_tracks, track_library

    for name in builtin_tracks.names():
        t = builtin_tracks.build(name)
        print(f"{name:10s} {t.length:6.2f} m  width {t.median_width:.2f} m  {builtin_tracks.DESIGNS[name].description}")
    stored = track_library.names()
    print(f"track library {track_library.library_dir()}: {len(stored)} route(s)")
    if not stored:
        print(f"  {track_library.EMPTY_HINT}")
    for name in stored:
        print(f"  {name}")
    return 0


def _tracks_import(args) -> int:
    from racer_core import track_library

    for path in track_library.import_routes(args.paths):
        print(f"imported {path.stem} -> {path}")
    return 0


def _tracks_fetch(args) -> int:
    from racer_core import track_library

    for path in track_library.fetch(args.names, args.base_url):
        print(f"fetched {path.stem} -> {path}")
    return 0


def _tracks_show(args) -> int:
    from racer_core.builtin_tracks import load
    from racer_core.plotting import save_track_picture

    out = save_track_picture(load(args.name), args.out)
    print(f"wrote {out}")
    return 0


def _drive(args) -> int:
    if not args.scripted:
        if not args.run:
            raise ValueError("racer drive needs a run directory or exported model (or --scripted)")
        from racer_sim.drive import drive

        return drive(args.run, args.track, args.laps, args.minutes, args.real_time_factor, args.direction,
                     record=args.record, monitor=args.monitor)
    return _drive_scripted(args)


def _drive_scripted(args) -> int:
    """One episode with the scripted centre-line driver; writes the driven line and camera frames."""
    import cv2
    import gymnasium as gym
    from tqdm import tqdm

    import racer_agent  # noqa: F401
    from racer_agent.evaluation.scripted import CentreLineDriver
    from racer_core.plotting import save_driven_lines

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = gym.make("racer/TimeTrial-v0", track=args.track or "circuit", start="start_line", camera={"grayscale": False})
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


def _train(args) -> int:
    from racer_agent.training.options import OPTIONS

    values = {o.name: getattr(args, o.name) for o in OPTIONS}
    values["track"] = _train_tracks(args)
    if values["sim"] == "ros":
        return _train_through_ros(values)
    from racer_agent.training.options import session_arguments
    from racer_agent.training.session import train_and_report

    return train_and_report(**session_arguments(values))


def _sweep(args) -> int:
    import time

    from racer_agent.training import ray_cluster

    ray_cluster.prepare(args.ray_address or "")  # before Ray's import: a bad address fails here, in seconds
    from racer_agent.training import sweep

    out = Path(args.out or f"runs/sweep-{time.strftime('%Y%m%d-%H%M%S')}")
    rows = sweep.run(args.spec, out, args.ray_address or "")
    print(sweep.format_table(rows))
    print(f"sweep: {len(rows)} trials in {out / 'trials'}\n  table: {out / 'sweep.csv'}\n  chart: {out / 'sweep.png'}")
    return 0


def _add_train_options(parser: argparse.ArgumentParser, only_race: bool = False) -> None:
    """racer train's arguments, one per training option (racer_agent.training.options); `only_race`:
    the race type and objects only (racer evaluate's, "default" then meaning the model's own)."""
    from racer_agent.training.options import OPTIONS, RACE_OPTIONS

    for o in RACE_OPTIONS if only_race else OPTIONS:
        if o.kind is bool:
            parser.add_argument(o.flag, action="store_true", help=o.help)
            continue
        extra: dict = {"action": "append"} if o.name == "track" else {}
        parser.add_argument(o.flag, type=o.kind, choices=o.choices or None, help=f"{o.help} (default: {o.unset_means})",
                            metavar=o.name.upper() if not o.choices else None, **extra)
    if only_race:
        return
    parser.add_argument("--tracks", dest="tracks_file", metavar="FILE",
                        help="a text file of tracks, one per line (# comments), added to --track")


def _add_monitor_option(parser: argparse.ArgumentParser) -> None:
    """racer train's --monitor, on the commands that drive a car."""
    from racer_agent.training.options import BY_NAME

    o = BY_NAME["monitor"]
    parser.add_argument(o.flag, metavar="[HOST:]PORT", help=f"{o.help} (default: {o.unset_means})")


def _train_tracks(args) -> str | list[str] | None:
    """--track given once is one track; several --track (or a --tracks list file) spread the cars."""
    tracks = list(args.track or [])
    if args.tracks_file:
        lines = Path(args.tracks_file).read_text().splitlines()
        tracks += [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]
    if not tracks:
        return None
    return tracks[0] if len(tracks) == 1 else tracks


def _train_through_ros(values: dict) -> int:
    """The launch file's processes without `ros2 launch`: one lock-step racer_sim_node per car and
    racer_train_node, which is given every option (options.to_ros) as `ros2 launch` gives them."""
    from racer_agent.training.options import session_arguments, to_ros
    from racer_sim.node_processes import NodeProcesses, node_command, private_dds, start_lockstep_simulators

    print(private_dds(), file=sys.stderr)
    track = values["track"]
    if isinstance(track, list):
        raise ValueError("--sim ros trains on one track (one simulator node per car); several need the embedded sim")
    track = str(Path(track).resolve()) if track and Path(track).exists() else track
    values = {**values, "track": track, "quiet": True}
    cars = session_arguments(values)["overrides"]["num_cars"]  # 1 unless --cars: one node per car
    with NodeProcesses() as nodes:
        start_lockstep_simulators(nodes, track, cars)
        return nodes.run(node_command("racer_train_node", "racer_agent", None, to_ros({**values, "cars": cars})))


def _sim(args) -> int:
    """One racer_sim_node in the foreground (free-running unless --lockstep)."""
    from racer_sim.node_processes import NodeProcesses, Recorder, node_command, private_dds

    print(private_dds(), file=sys.stderr)
    from racer_agent.training.options import RACE_OPTIONS, race_overrides

    overrides = {"track": args.track, "camera": args.camera, "lockstep": args.lockstep or None,
                 "real_time_factor": args.real_time_factor, "randomize": args.randomize or None, "seed": args.seed,
                 **(race_overrides({o.name: getattr(args, o.name) for o in RACE_OPTIONS}) or {})}
    command = node_command("racer_sim_node", "racer_sim", "sim.yaml", overrides, args.namespace)
    with NodeProcesses() as nodes:
        if args.record:  # recording before the simulator starts: its first messages are in the file
            Recorder(nodes, args.record, args.namespace)
        if not args.monitor:
            return nodes.run(command)
        from racer_sim.live_view import watch_node

        return watch_node(nodes, command, args.monitor, args.track, args.namespace)


def _evaluate(args) -> int:
    from racer_agent.evaluation.model_metadata import stock_mapping_of
    from racer_agent.evaluation.report import evaluate_as_trained
    from racer_agent.training.options import RACE_OPTIONS, race_overrides
    from racer_core.sim_to_real import for_evaluation

    race = race_overrides({o.name: getattr(args, o.name) for o in RACE_OPTIONS})
    record = None
    if args.record:
        from racer_sim.recording import McapRecording

        path = Path(args.record)
        record = lambda name, cars: McapRecording(  # noqa: E731  (one recording per evaluation)
            path.with_name(f"{path.stem}-{name}{path.suffix}") if name else path, cars)
    live = None
    if args.monitor:
        from racer_agent.monitor import LiveLaps, open_monitor

        live = open_monitor(args.monitor)
    try:
        reports = evaluate_as_trained(args.model, tracks=args.track, direction=args.direction, laps=args.laps,
                                      penalty_seconds=args.penalty_seconds, out_dir=args.out, video=args.video,
                                      race=race, crash_penalty_seconds=args.crash_penalty_seconds, record=record,
                                      watch=LiveLaps(live, args.real_time_factor) if live else None,
                                      sim_to_real=for_evaluation(args.latency, args.actuation_error,
                                                                 stock_mapping_of(args.model) if args.stock_mapping
                                                                 else None))
    finally:
        if live is not None:
            live.close()
    if args.json:
        print(json.dumps({"evaluations": reports}))
        return 0
    for report in reports:
        print(f"{report['track']} {report['direction']}:")
        for i, lap in enumerate(report["laps"]):
            print(f"  lap {i + 1}: {'completed' if lap['completed'] else 'not completed'} {lap['progress']:.0f} %, "
                  f"{lap['lap_time_s']:.2f} s, off track {lap['off_track']}, crashes {lap['crashed']}, "
                  f"reversed {lap['reversed']}, "
                  f"immobilized {lap['immobilized']}")
        print(f"  completed {report['completed_laps']}/{len(report['laps'])}, mean {report['mean_lap_time_s']} s, "
              f"best {report['best_lap_time_s']} s, reference {report['reference_lap_time_s']} s "
              f"(ratio {report['lap_time_over_reference']})\n  wrote {report['folder']}"
              + (f" and {report['video']}" if "video" in report else "")
              + (f"\n  recording (MCAP, ROS 2 messages): {report['recording']}" if "recording" in report else ""))
    return 0


def _race(args) -> int:
    from racer_agent.evaluation.head_to_head import race

    result = race(args.models, track=args.track, laps=args.laps, out_dir=args.out, video=args.video)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['track']}, {result['laps']} laps:")
    for row in result["ranking"]:
        finish = (f"{row['finish_s']:.2f} s" if row["finish_s"] is not None
                  else f"did not finish ({row['distance_m']} m)")
        print(f"  {row['place']}. {row['name']}: {finish}, off track {row['off_track']}, crashes {row['crashes']}")
    if "video" in result:
        print(f"  video: {result['video']}")
    return 0


def _analyze(args) -> int:
    from racer_agent.analysis.logs import load
    from racer_agent.analysis.report import write_report

    runs = [load(source, track=args.track) for source in args.runs]
    out = Path(args.out or (Path(args.runs[0]) / "analysis" if len(args.runs) == 1 else "runs/analysis"))
    page = write_report(runs, out, reward=args.reward)
    if args.json:
        print(json.dumps({"report": str(page), "runs": json.loads((out / "report.json").read_text())}))
    else:
        print(f"wrote {page} ({len(runs)} run{'s' if len(runs) > 1 else ''}; open it in a browser)")
    return 0


def _export(args) -> int:
    if args.format == "deepracer":
        from racer_agent.evaluation.deepracer_export import export_archive

        result = export_archive(args.run, args.out)
        print(json.dumps(result) if args.json else f"wrote {result['archive']} ({result['graph']}: "
              f"{result['graph_bytes']} bytes, {result['actions']} {result['action_space_type']} actions): upload "
              "it on the car's web page (Models, Upload)")
        return 0
    from racer_agent.evaluation.export import export

    result = export(args.run, args.out)
    diff = result["max_abs_diff_vs_torch"]
    print(json.dumps(result) if args.json else f"wrote {result['model']} and {result['metadata']} "
          f"(IR {result['ir_version']}, opset {result['opset']}, max |onnx - torch| {diff:.1e})")
    return 0


def _deploy(args) -> int:
    from racer_agent.evaluation.deploy import deploy

    result = deploy(args.run, args.target, args.out)
    print(json.dumps(result) if args.json else f"wrote {result['bundle']} ({result['model']}); on the car: "
          "tar xzf it, then racer-deepracer/install.sh and /opt/racer/start.sh (README: Drive a DeepRacer)")
    return 0


def _bench_sim(args) -> int:
    from racer_agent.bench import sim as bench

    result = bench.run(track=args.track, cars=args.cars, seconds=args.seconds)
    print(json.dumps(result) if args.json else "\n".join(f"{k:28s} {v}" for k, v in result.items()))
    return 0


def _bench_learn(args) -> int:
    from racer_agent.bench import learn as learn_bench

    ent_coefs = tuple(float(c) for c in args.peer_ent_coefs.split(",")) if args.peer_ent_coefs else None
    from racer_agent.training.options import RACE_OPTIONS, race_overrides

    race = race_overrides({o.name: getattr(args, o.name) for o in RACE_OPTIONS})
    result = learn_bench.run(args.tracks.split(","), args.seeds, args.minutes, args.peer_minutes, peer=not args.no_peer,
                             peer_ent_coefs=ent_coefs, race=race, time_trial=not args.no_time_trial,
                             first_seed=args.first_seed)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


def _bench_scale(args) -> int:
    from racer_agent.bench import scale

    result = scale.run(scale.Workload(args.track, args.cars, args.seconds, args.seed, steps=args.steps))
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


def _bench_sim2real(args) -> int:
    from racer_agent.bench import sim_to_real as bench

    result = bench.run(track=args.track, minutes=args.minutes, seed=args.seed, steps=args.steps,
                       latency=tuple(args.trained_latency))
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['track']}, seed {result['seed']}: laps completed (with resets, without) / off-tracks / "
          "lap over reference")
    for model, rows in result["models"].items():
        for condition, row in rows.items():
            print(f"  {model:16s} {condition:30s} {row['completed_laps']}/{row['laps']} "
                  f"{row['completed_without_resets']}/{row['laps']}  {row['off_track']}  "
                  f"{row['lap_time_over_reference']}")
    return 0


def _bench_generalize(args) -> int:
    from racer_agent.bench import generalize

    result = generalize.run(args.routes, args.minutes, args.seed, args.limit)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


def _bench_bridge(args) -> int:
    from racer_sim import bridge_bench
    from racer_sim.node_processes import private_dds

    print(private_dds(), file=sys.stderr)

    result = bridge_bench.run(track=args.track, cars=args.cars, seconds=args.seconds)
    print(json.dumps(result) if args.json else "\n".join(f"{k:22s} {v}" for k, v in result.items()))
    return 0


def _bench_inference(args) -> int:
    from racer_sim import inference_bench
    from racer_sim.node_processes import private_dds

    print(private_dds(), file=sys.stderr)
    result = inference_bench.run(frames=args.frames)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


def _gazebo_world(args) -> int:
    from racer_agent.training.options import RACE_OPTIONS, race_overrides
    from racer_core.builtin_tracks import load
    from racer_core.camera import camera_from
    from racer_core.objects import RaceObjects
    from racer_sim.gazebo_world import WorldConfig, write_world

    race = RaceObjects.from_dict(race_overrides({o.name: getattr(args, o.name) for o in RACE_OPTIONS}))
    config = WorldConfig(steps_per_frame=args.steps_per_frame, real_time_factor=args.real_time_factor,
                         texture_resolution=args.texture_resolution, camera=camera_from(args.camera), race=race)
    for path in write_world(load(args.track), args.out, config):
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from racer_agent.env.episode import DIRECTIONS
    from racer_core.objects import COLLISION_PENALTY

    parser = argparse.ArgumentParser(prog="racer", description="DeepRacer-style camera racing: tracks, sim, training.")
    sub = parser.add_subparsers(dest="command", required=True)

    tracks = sub.add_parser("tracks", help="built-in tracks and the track library").add_subparsers(
        dest="tracks_command", required=True)
    tracks.add_parser("list", help="list built-in tracks and the library's").set_defaults(func=_tracks_list)
    imp = tracks.add_parser("import", help="route .npy files, folders of them or a simapp checkout into the library")
    imp.add_argument("paths", nargs="+")
    imp.set_defaults(func=_tracks_import)
    fetch = tracks.add_parser("fetch", help="download routes from the community simulator's repository by name")
    fetch.add_argument("names", nargs="+")
    fetch.add_argument("--base-url", help="where <name>.npy files are served (default: $RACER_TRACKS_URL or the "
                       "community simulator's routes on GitHub)")
    fetch.set_defaults(func=_tracks_fetch)
    show = tracks.add_parser("show", help="draw a track (built-in name or route file) to PNG")
    show.add_argument("name")
    show.add_argument("--out", default="track.png")
    show.set_defaults(func=_tracks_show)

    drive = sub.add_parser("drive", help="an exported model drives the simulated car in real time, lap by lap")
    drive.add_argument("run", nargs="?", help="run directory or directory written by `racer export`")
    drive.add_argument("--track", help="track (default: the model's first trained track)")
    drive.add_argument("--direction", choices=DIRECTIONS,
                       help="way round (default: the one it was trained in; alternate: forward)")
    drive.add_argument("--laps", type=int, default=1, help="stop after this many laps")
    drive.add_argument("--minutes", type=float, default=5.0, help="give up (exit 1) after this long")
    drive.add_argument("--real-time-factor", type=float, default=1.0, help="simulator speed (1.0 = real time)")
    drive.add_argument("--record", help=RECORD_HELP)
    _add_monitor_option(drive)
    drive.add_argument("--scripted", action="store_true",
                       help="instead: one episode of the scripted centre-line driver (driven line, camera frames)")
    drive.add_argument("--speed", type=float, default=1.0, help="--scripted: speed m/s")
    drive.add_argument("--seed", type=int, default=0, help="--scripted: seed")
    drive.add_argument("--out", default="runs/drive", help="--scripted: where to write pictures")
    drive.set_defaults(func=_drive)

    train = sub.add_parser("train", help="train a PPO driving policy on the embedded simulator")
    _add_train_options(train)
    train.set_defaults(func=_train)

    sweep = sub.add_parser("sweep", help="compare reward functions, action spaces and hyperparameters (Ray Tune)")
    sweep.add_argument("spec", help="sweep spec (YAML): base config, search, parameters, scheduler")
    sweep.add_argument("--out", help="sweep directory (default runs/sweep-<date-time>)")
    sweep.add_argument("--ray-address", help="run the trials on this Ray cluster (HOST:PORT or auto)")
    sweep.set_defaults(func=_sweep)

    sim = sub.add_parser("sim", help="run the simulator node (racer_sim_node) with config/sim.yaml")
    sim.add_argument("--track")
    sim.add_argument("--camera", help="camera preset")
    sim.add_argument("--lockstep", action="store_true", help="move only on step_simulation calls")
    sim.add_argument("--real-time-factor", type=float, help="free-running speed (<= 0: as fast as possible)")
    sim.add_argument("--randomize", action="store_true", help="domain randomisation at every reset")
    sim.add_argument("--seed", type=int)
    sim.add_argument("--namespace", default="", help="ROS namespace of the car's topics and services")
    sim.add_argument("--record", help=RECORD_HELP)
    _add_monitor_option(sim)
    _add_train_options(sim, only_race=True)
    sim.set_defaults(func=_sim)

    ev = sub.add_parser("evaluate", help="greedy laps from the start line, like the DeepRacer console")
    ev.add_argument("model", help="run directory, .pt checkpoint or exported model directory")
    ev.add_argument("--track", action="append", help="track (repeat for several; default: those it was trained on)")
    ev.add_argument("--direction", choices=DIRECTIONS,
                    help="way round (default: the one it was trained in; alternate: both)")
    ev.add_argument("--laps", type=int, default=3)
    ev.add_argument("--penalty-seconds", type=float, default=2.0, help="off-track reset penalty")
    ev.add_argument("--crash-penalty-seconds", type=float, default=COLLISION_PENALTY,
                    help="crash reset penalty (with --penalty-seconds resets on)")
    _add_train_options(ev, only_race=True)
    ev.add_argument("--out", help="where to write evaluation.json and driven_lines.png (a folder per track and "
                    "direction when several; default: a new folder in the model's evaluation/)")
    ev.add_argument("--video", help="MP4 of the camera and top-down views of the first lap")
    ev.add_argument("--record", help=RECORD_HELP)
    _add_monitor_option(ev)
    ev.add_argument("--real-time-factor", type=float, default=1.0,
                    help="with --monitor: the laps' pace (1.0 = real time, 2.0 = twice as fast)")
    ev.add_argument("--latency", type=int, default=0, metavar="N",
                    help="the picture the model acts on is N control periods old, as on a real car (default 0)")
    ev.add_argument("--actuation-error", action="store_true",
                    help="steering offset and gain, speed gain drawn per lap attempt, as real cars differ from "
                    "their calibration (racer_core.sim_to_real.ACTUATION_ERROR)")
    ev.add_argument("--stock-mapping", action="store_true",
                    help="drive as the stock car's navigation node maps the actions (steering over the largest "
                    "angle to full lock, speed through its throttle curve): what the car's own software will do")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(func=_evaluate)

    rc = sub.add_parser("race", help="trained models racing each other on one track (each its own ONNX policy)")
    rc.add_argument("models", nargs="+", help="run directories or exported model directories (two or more)")
    rc.add_argument("--track", help="track (default: the first model's first trained track)")
    rc.add_argument("--laps", type=int, default=3)
    rc.add_argument("--out", default="runs/race", help="where to write race.json")
    rc.add_argument("--video", help="MP4 of the race: top-down view over every car's camera")
    rc.add_argument("--json", action="store_true", help="print one JSON object")
    rc.set_defaults(func=_race)

    an = sub.add_parser("analyze", help="an HTML report of one run or several compared (racer runs, DeepRacer "
                        "console or deepracer-for-cloud model folders, or their .tar.gz)")
    an.add_argument("runs", nargs="+", help="run directories or archives")
    an.add_argument("--out", help="report folder (default: RUN/analysis for one run, runs/analysis for several)")
    an.add_argument("--reward", help="re-score every logged step with this reward_function file")
    an.add_argument("--track", help="the track of a DeepRacer log (name or route file; racer runs know theirs)")
    an.add_argument("--json", action="store_true", help="print one JSON object")
    an.set_defaults(func=_analyze)

    ex = sub.add_parser("export", help="ONNX model + model_metadata.json for racer's node, or the model.tar.gz a "
                        "DeepRacer car's web page takes")
    ex.add_argument("run", help="run directory or .pt checkpoint")
    ex.add_argument("--format", choices=("onnx", "deepracer"), default="onnx",
                    help="onnx: a folder for racer's inference node; deepracer: NAME.tar.gz (frozen TensorFlow "
                    "graph and model_metadata.json) for the car's own software (needs the "
                    "racer_agent[deepracer-export] extra)")
    ex.add_argument("--out", required=True, help="folder (onnx) or NAME.tar.gz, no dots or spaces in NAME (deepracer)")
    ex.add_argument("--json", action="store_true")
    ex.set_defaults(func=_export)

    dep = sub.add_parser("deploy", help="bundle a model and the inference node for a physical car")
    dep.add_argument("run", help="run directory or exported model directory")
    dep.add_argument("--target", default="deepracer", choices=["deepracer"])
    dep.add_argument("--out", required=True, help="the bundle, e.g. bundle.tar.gz")
    dep.add_argument("--json", action="store_true")
    dep.set_defaults(func=_deploy)

    gazebo = sub.add_parser("gazebo", help="Gazebo Harmonic worlds").add_subparsers(dest="gazebo_command",
                                                                                      required=True)
    world = gazebo.add_parser("world", help="write the world, ground texture and car model of a track")
    world.add_argument("track", help="built-in track name or DeepRacer route file (.npy)")
    world.add_argument("--out", required=True, help="directory for world.sdf, track.png and models/")
    _add_train_options(world, only_race=True)
    world.add_argument("--camera", default="deepracer_car", help="camera preset (racer_core.camera.PRESETS)")
    world.add_argument("--steps-per-frame", type=int, default=60,
                       help="physics iterations per control period (1/15 s); 60 = a 1.11 ms step")
    world.add_argument("--real-time-factor", type=float, default=0.0, help="0 = as fast as possible")
    world.add_argument("--texture-resolution", type=float, default=0.02, help="metres per ground-texture pixel")
    world.set_defaults(func=_gazebo_world)

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="bench_command", required=True)
    sim = bench.add_parser("sim", help="env steps/s vs Gymnasium's CarRacing-v3 in the same run")
    sim.add_argument("--json", action="store_true", help="print one JSON object")
    sim.add_argument("--track", default="circuit")
    sim.add_argument("--cars", type=int, default=16)
    sim.add_argument("--seconds", type=float, default=3.0)
    sim.set_defaults(func=_bench_sim)
    bridge = bench.add_parser("bridge", help="lock-step steps/s through ROS 2 vs the direct env in the same run")
    bridge.add_argument("--json", action="store_true", help="print one JSON object")
    bridge.add_argument("--track", default="circuit")
    bridge.add_argument("--cars", type=int, default=1, help="simulator nodes (one car each) stepped in parallel")
    bridge.add_argument("--seconds", type=float, default=5.0)
    bridge.set_defaults(func=_bench_bridge)
    inference = bench.add_parser("inference", help="the car driver's latency: inference and camera -> command over DDS")
    inference.add_argument("--json", action="store_true", help="print one JSON object")
    inference.add_argument("--frames", type=int, default=500)
    inference.set_defaults(func=_bench_inference)
    learn = bench.add_parser("learn", help="time to a lapping driver: racer PPO vs Stable-Baselines3 PPO")
    learn.add_argument("--json", action="store_true", help="print one JSON object")
    learn.add_argument("--tracks", default="circuit,reinvent_base",
                       help="comma-separated built-in names, track-library names (racer tracks fetch "
                       "reinvent_base) or route files")
    learn.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per track (from --first-seed)")
    learn.add_argument("--first-seed", type=int, default=0, help="the first seed (a run split over sessions)")
    learn.add_argument("--minutes", type=float, default=10.0, help="racer's wall-clock budget per run")
    learn.add_argument("--peer-minutes", type=float, help="SB3's budget per run (default: the same)")
    learn.add_argument("--no-peer", action="store_true", help="skip Stable-Baselines3")
    learn.add_argument("--peer-ent-coefs", help="SB3 entropy coefficients to run, comma-separated "
                       "(default: SB3's documented default 0.0 and racer's beta_entropy)")
    _add_train_options(learn, only_race=True)  # a race: trained beside the time trial, no SB3 peer
    learn.add_argument("--no-time-trial", action="store_true",
                       help="with --race: skip the time trial trained beside it (already measured)")
    learn.set_defaults(func=_bench_learn)
    scale = bench.add_parser("scale", help="training samples/s: one process vs Ray workers (1, 2, two nodes)")
    scale.add_argument("--json", action="store_true", help="print one JSON object")
    scale.add_argument("--track", default="circuit")
    scale.add_argument("--cars", type=int, help="training cars (default: the default config's)")
    scale.add_argument("--seconds", type=float, default=30.0, help="training per mode")
    scale.add_argument("--steps", type=int, help="samples per mode instead of seconds (same work when busy)")
    scale.add_argument("--seed", type=int, default=0)
    scale.set_defaults(func=_bench_scale)
    s2r = bench.add_parser("sim2real", help="a model trained without and with latency and actuation error, each "
                           "evaluated without and with them")
    s2r.add_argument("--json", action="store_true", help="print one JSON object")
    s2r.add_argument("--track", default="circuit")
    s2r.add_argument("--minutes", type=float, default=10.0, help="each training's budget")
    s2r.add_argument("--steps", type=int, help="each training's samples instead of minutes")
    s2r.add_argument("--seed", type=int, default=0)
    s2r.add_argument("--trained-latency", type=int, nargs=2, default=[0, 2], metavar=("LOW", "HIGH"),
                     help="periods the trained-with model's pictures are old, drawn per episode (default 0 2)")
    s2r.set_defaults(func=_bench_sim2real)
    gen = bench.add_parser("generalize", help="train on a few DeepRacer routes, lap the unseen ones")
    gen.add_argument("--json", action="store_true", help="print one JSON object")
    gen.add_argument("--routes", help="folder of DeepRacer route files (default: your track library, filled "
                     "by racer tracks fetch / import)")
    gen.add_argument("--minutes", type=float, default=10.0, help="training budget per model (plain, randomised)")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--limit", type=int, help="evaluate only the first N unseen routes")
    gen.set_defaults(func=_bench_generalize)
    return parser


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # the command itself: Ctrl-C stops it even where it was started with SIGINT ignored
        # (a background job of a script, a test runner's worker), which a child inherits
        signal.signal(signal.SIGINT, signal.default_int_handler)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, RuntimeError, OSError) as exc:  # our errors say what is wrong; no traceback
        print(f"racer: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
