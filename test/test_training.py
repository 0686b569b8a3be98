"""PPO training: it learns, it is reproducible, it checkpoints, resumes and fails safely."""

import errno
import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from racer_agent.evaluation.policy import TorchPolicy
from racer_agent.training import checkpoint, config, ppo
from racer_agent.training.config import ConfigError
from racer_agent.training.greedy_eval import EvalState
from racer_agent.training.networks import RACER_SMALL, ActorCritic
from racer_agent.training.run_directory import RunDirectory, read_csv
from racer_agent.training.session import clone_arguments
from racer_agent.training.trainer import Trainer

RACER = [sys.executable, "-m", "racer_sim.cli"]

LEFT_REWARD = """
def reward_function(params):
    return 1.0 if params["steering_angle"] > 0 else 0.0
"""

BROKEN_REWARD = """
def reward_function(params):
    if params["steps"] > 25:
        return params["no_such_key"]
    return 1.0
"""


def small_config(tmp_path: Path, **overrides) -> config.TrainConfig:
    base = dict(track="oval", num_cars=4, eval_laps=1, eval_every_samples=10**9, minutes=5.0, torch_threads=1,
                hyperparameters={"num_episodes_between_training": 4, "batch_size": 128})
    base.update(overrides)
    return config.load(**base)


def left_share(model: ActorCritic, frames: torch.Tensor, left: torch.Tensor) -> float:
    with torch.no_grad():
        probs = torch.softmax(model.actor(frames), -1)
    return float(probs[:, left].sum(-1).mean())


def test_deepracer_hyperparameters_json_loads(tmp_path):
    assert config.Hyperparameters() == config.Hyperparameters(64, 10, 3e-4, 0.01, 0.99, "huber", 20)
    hp_file = tmp_path / "hyperparameters.json"
    hp_file.write_text(json.dumps({"batch_size": "128", "beta_entropy": 0.02, "discount_factor": 0.999,
                                   "e_greedy_value": 0.05, "epsilon_steps": 10000, "exploration_type": "categorical",
                                   "loss_type": "mean squared error", "lr": 0.0001, "num_episodes_between_training": 10,
                                   "num_epochs": 3, "stack_size": 1, "term_cond_avg_score": 350.0,
                                   "term_cond_max_episodes": 1000}))
    cfg = config.load(hp_file)
    hp = cfg.hyperparameters
    assert (hp.batch_size, hp.num_epochs, hp.lr, hp.loss_type) == (128, 3, 1e-4, "mean squared error")
    assert cfg.network == "RACER_SMALL"  # the rest stays racer's default
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"batchsize": 64}))
    with pytest.raises(ConfigError, match="unknown configuration key 'batchsize'"):
        config.load(bad)
    with pytest.raises(ConfigError, match="loss_type"):
        config.load(loss_type="l1")


def test_model_metadata_picks_the_network_and_refuses_what_racer_cannot_train(tmp_path):
    """neural_network is honoured (a command-line network still wins); a sensor or training algorithm
    racer does not have is refused by name, never swapped for its own."""
    actions = [{"steering_angle": 0.0, "speed": 1.0}, {"steering_angle": 20.0, "speed": 1.0}]

    def metadata(**keys) -> Path:
        path = tmp_path / f"model_metadata_{len(list(tmp_path.iterdir()))}.json"
        path.write_text(json.dumps({"action_space": actions, "action_space_type": "discrete", "version": "5",
                                    "sensor": ["FRONT_FACING_CAMERA"], "training_algorithm": "clipped_ppo", **keys}))
        return path

    assert config.load(actions=str(metadata(neural_network="DEEP_CONVOLUTIONAL_NETWORK"))).network \
        == "DEEP_CONVOLUTIONAL_NETWORK"
    assert config.load(actions=str(metadata(neural_network="DEEP_CONVOLUTIONAL_NETWORK_SHALLOW")),
                       network="RACER_SMALL").network == "RACER_SMALL"
    with pytest.raises(ConfigError, match="training_algorithm 'sac' is not implemented"):
        config.load(actions=str(metadata(training_algorithm="sac")))
    with pytest.raises(ConfigError, match=r"sensor \['STEREO_CAMERAS', 'LIDAR'\] is not simulated"):
        config.load(actions=str(metadata(sensor=["STEREO_CAMERAS", "LIDAR"])))
    with pytest.raises(ConfigError, match="neural_network 'DEEP_CONVOLUTIONAL_NETWORK_DEEP' is not one racer builds"):
        config.load(actions=str(metadata(neural_network="DEEP_CONVOLUTIONAL_NETWORK_DEEP")))
    refused = subprocess.run([*RACER, "train", "--actions", str(metadata(training_algorithm="sac")), "--steps", "10",
                              "--out", str(tmp_path / "never")], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "clipped_ppo" in refused.stderr and not (tmp_path / "never").exists()


def test_ppo_learns_what_the_reward_asks_for(tmp_path):
    """A reward that pays for steering left: PPO must shift probability onto the left actions."""
    reward = tmp_path / "left.py"
    reward.write_text(LEFT_REWARD)
    trainer = Trainer(small_config(tmp_path, reward=str(reward), steps=6000), tmp_path / "run", show_progress=False)
    left = torch.tensor([a[0] > 0 for a in trainer.actions.table])
    frames = torch.from_numpy(trainer.rollouts.env.reset(seed=1)[0])
    before = left_share(trainer.model, frames, left)
    trainer.train()
    after = left_share(trainer.model, frames, left)
    assert before == pytest.approx(float(left.float().mean()), abs=0.05)  # the initial policy is ~uniform
    assert after > 0.8, (before, after)


TIMING_COLUMNS = ("wall_s", "samples_per_s")


def test_same_seed_same_training_with_one_thread(tmp_path):
    """Same config and seed: the same weights and the same metrics, evaluations included, apart from
    the timing columns. Evaluations are scheduled in samples, so a busy machine changes nothing."""
    runs = []
    for name in ("a", "b"):
        trainer = Trainer(small_config(tmp_path, steps=1200, seed=3, eval_every_samples=300), tmp_path / name,
                          show_progress=False)
        if name == "b":
            time.sleep(0.5)  # a slower start must not shift anything
        trainer.train()
        runs.append(torch.cat([p.flatten() for p in trainer.model.parameters()]))
    assert torch.equal(runs[0], runs[1])
    for csv in ("episodes_csv", "iterations_csv"):
        rows = [[{k: v for k, v in r.items() if k not in TIMING_COLUMNS}
                 for r in read_csv(getattr(RunDirectory(tmp_path / n), csv))] for n in ("a", "b")]
        assert rows[0] == rows[1] and len(rows[0]) > 3
    evals = [r for r in read_csv(RunDirectory(tmp_path / "a").episodes_csv) if r["phase"] == "eval"]
    assert len(evals) >= 3  # every 300 samples over 1,200


def test_cars_spread_over_several_tracks_and_evaluated_on_each(tmp_path):
    out = tmp_path / "run"
    (tmp_path / "often.yaml").write_text("eval_every_samples: 300\neval_laps: 2\n")
    done = subprocess.run([*RACER, "train", "--track", "oval", "--track", "circuit", "--direction", "alternate",
                           "--cars", "4", "--steps", "600", "--quiet", "--out", str(out),
                           "--config", str(tmp_path / "often.yaml")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = read_csv(RunDirectory(out).episodes_csv)
    train_tracks = {(int(r["car"]), r["track"]) for r in rows if r["phase"] == "train"}
    assert train_tracks == {(0, "oval"), (1, "oval"), (2, "circuit"), (3, "circuit")}
    assert {r["track"] for r in rows if r["phase"] == "eval"} == {
        "oval", "oval reversed", "circuit", "circuit reversed"}  # alternate: judged both ways round
    for track in ("oval", "circuit"):
        for direction, suffix in (("forward", ""), ("reverse", "-reverse")):
            report = json.loads((out / "evaluation" / "final" / f"{track}{suffix}" / "evaluation.json").read_text())
            assert (report["track"], report["direction"]) == (track, direction) and report["laps"]
            assert f"({track} {direction})" in done.stdout
    assert json.loads((out / "config.json").read_text())["track"] == ["oval", "circuit"]


def test_multi_track_env_concatenates_cars_track_by_track():
    from racer_agent.env.multi_track import MultiTrackVectorEnv, split_cars

    assert split_cars(7, 3) == [3, 2, 2]
    with pytest.raises(ValueError, match="at least one car per track"):
        split_cars(2, 3)
    env = MultiTrackVectorEnv(["oval", "circuit"], 3, direction="alternate")
    obs, info = env.reset(seed=0)
    assert obs.shape == (3, 120, 160, 1) and info["progress"].shape == (3,)
    single = [part.race.sim.frames for part in env.parts]
    assert np.array_equal(obs, np.concatenate(single))
    obs, reward, term, trunc, info = env.step(np.array([2, 2, 2]))
    assert obs.shape[0] == reward.shape[0] == term.shape[0] == len(info["episode_status"]) == 3
    assert [len(r.trackers) for r in env.races] == [2, 1]
    assert env.races[0].track.name == "oval" and env.races[1].track.name == "circuit"
    env.close()


def test_run_directory_checkpoints_and_resume(tmp_path):
    out = tmp_path / "run"
    first = Trainer(small_config(tmp_path, steps=1500, eval_every_samples=0), out, show_progress=False).train()
    run = RunDirectory(out)
    for path in (run.config, run.reward, run.metadata, run.latest, run.best, run.episodes_csv, run.iterations_csv):
        assert path.is_file(), path
    assert list(run.tensorboard.glob("events.out.tfevents.*"))
    state = checkpoint.load(run.latest)  # weights_only: plain tensors and containers only
    assert state["progress"]["iteration"] == first.progress.iteration
    episodes = read_csv(run.episodes_csv)
    assert {"train", "eval"} <= {r["phase"] for r in episodes}
    assert all(r["status"] for r in episodes) and all(float(r["wall_s"]) >= 0 for r in episodes)

    resumed = Trainer(small_config(tmp_path, steps=800), out, resume=True, show_progress=False)
    assert torch.equal(next(resumed.model.parameters()), state["model"][next(iter(state["model"]))])
    second = resumed.train()
    assert second.progress.iteration > first.progress.iteration
    assert second.progress.samples > first.progress.samples
    iterations = [int(r["iteration"]) for r in read_csv(run.iterations_csv)]
    assert iterations == list(range(1, second.progress.iteration + 1))  # appended, not restarted
    assert [r["changed"] for r in run.session_records()] == [[], ["eval_every_samples", "steps"]]


def test_resume_with_a_new_reward_and_track_keeps_each_sessions_record(tmp_path):
    """The top-level files say what the latest session trained with, sessions/<n>/ what each did."""
    out = tmp_path / "run"
    Trainer(small_config(tmp_path, steps=300), out, show_progress=False).train()
    run = RunDirectory(out)
    first_reward = run.reward.read_text()
    reward = tmp_path / "centre.py"
    reward.write_text("def reward_function(params):\n    return 1.0 - params['distance_from_center']\n")
    resumed = Trainer(small_config(tmp_path, steps=300, track="circuit", reward=str(reward)), out, resume=True,
                      show_progress=False)
    first, second = run.session_records()
    assert first["session"] == 1 and second["session"] == 2 and second["from_iteration"] >= 1
    assert second["changed"] == ["reward_function", "track"]
    assert run.reward.read_text() == reward.read_text() == (run.sessions / "2" / "reward_function.py").read_text()
    assert (run.sessions / "1" / "reward_function.py").read_text() == first_reward != reward.read_text()
    assert json.loads(run.config.read_text())["track"] == "circuit"
    assert json.loads((run.sessions / "1" / "config.json").read_text())["track"] == "oval"
    assert json.loads(run.metadata.read_text())["racer"]["trained_on"]["tracks"] == ["circuit"]
    del resumed
    with pytest.raises(checkpoint.CheckpointError, match="3 actions.*a resume keeps the network's outputs"):
        three = [{"steering_angle": a, "speed": 1.0} for a in (-20.0, 0.0, 20.0)]
        Trainer(small_config(tmp_path, actions=three), out, resume=True, show_progress=False)
    assert len(run.session_records()) == 2  # a refused resume records nothing


def test_clone_starts_from_the_parents_best_model_on_a_new_reward(tmp_path):
    """The console's clone: the parent's best weights, config and speed stage, a reward of its own,
    the parent recorded in config.json; a different number of actions is refused."""
    parent = tmp_path / "parent"
    Trainer(small_config(tmp_path, steps=600, eval_every_samples=0), parent, show_progress=False).train()
    best = checkpoint.load(parent / "checkpoints" / "best.pt")
    reward = tmp_path / "centre.py"
    reward.write_text("def reward_function(params):\n    return 1.0 - params['distance_from_center']\n")
    overrides, config_file = clone_arguments(parent, None, {"reward": str(reward), "steps": 300})
    clone = Trainer(config.load(config_file, **overrides), tmp_path / "clone", show_progress=False)
    scratch = Trainer(small_config(tmp_path), tmp_path / "scratch", show_progress=False)
    weights = clone.model.state_dict()
    assert all(torch.equal(weights[k], v) for k, v in best["model"].items())
    assert not all(torch.equal(weights[k], v) for k, v in scratch.model.state_dict().items())
    assert clone.progress.speed_cap == best["progress"]["speed_cap"] and clone.progress.samples == 0
    # it drives as the parent's best evaluation did, before any training of its own
    verdict = clone.evaluation.run(TorchPolicy(clone.model, clone.metadata), EvalState(), 0, 0.0)
    assert verdict.summary["mean_progress"] == round(best["progress"]["eval"]["best_eval_progress"], 2)
    recorded = json.loads((tmp_path / "clone" / "config.json").read_text())
    assert recorded["clone"] == str(parent.resolve()) and recorded["track"] == "oval"
    assert (tmp_path / "clone" / "reward_function.py").read_text() == reward.read_text()
    clone.train()
    assert RunDirectory(tmp_path / "clone").best.is_file() or RunDirectory(tmp_path / "clone").latest.is_file()
    three = [{"steering_angle": a, "speed": 1.0} for a in (-20.0, 0.0, 20.0)]
    with pytest.raises(checkpoint.CheckpointError, match="3 actions.*a clone keeps the network's outputs"):
        Trainer(config.load(config_file, **{**overrides, "actions": three}), tmp_path / "three", show_progress=False)
    slower = [{**a, "speed": a["speed"] * 0.8} for a in best["metadata"]["action_space"]]
    Trainer(config.load(config_file, **{**overrides, "actions": slower}), tmp_path / "slower", show_progress=False)


def test_nan_loss_stops_without_touching_the_model():
    model = ActorCritic(RACER_SMALL, (120, 160, 1), 10)
    before = [p.detach().clone() for p in model.parameters()]
    n = 64
    frames = model.prepare(torch.randint(0, 255, (n, 120, 160, 1), dtype=torch.uint8))
    batch = ppo.Batch(frames, torch.randint(0, 10, (n,)), torch.full((n,), -2.3), torch.zeros(n),
                      torch.randn(n), torch.full((n,), math.nan))
    hp = config.Hyperparameters(batch_size=32)
    with pytest.raises(ppo.NaNLossError, match="NaN|nan"):
        ppo.update(model, ppo.make_optimizer(model, hp), batch, hp, torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_full_disk_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "latest.pt"
    checkpoint.save({"x": torch.ones(3)}, path)

    def full_disk(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(checkpoint.CheckpointError, match="No space left.*previous one is kept"):
        checkpoint.save({"x": torch.zeros(3)}, path)
    assert torch.equal(checkpoint.load(path)["x"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]


def test_broken_reward_stops_training_with_its_name_and_keeps_the_checkpoint(tmp_path):
    reward = tmp_path / "broken.py"
    reward.write_text(BROKEN_REWARD)
    out = tmp_path / "run"
    result = subprocess.run([*RACER, "train", "--track", "oval", "--reward", str(reward), "--out", str(out),
                             "--quiet", "--minutes", "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "broken.py" in result.stderr and "KeyError" in result.stderr and "no_such_key" in result.stderr
    assert "last good checkpoint" in result.stderr
    assert checkpoint.load(out / "checkpoints" / "latest.pt")["model"]


def test_sigterm_writes_a_checkpoint_and_resume_continues(tmp_path):
    out = tmp_path / "run"
    cfg = tmp_path / "small.json"
    cfg.write_text(json.dumps({"num_cars": 4, "eval_laps": 1, "track": "oval"}))
    proc = subprocess.Popen([*RACER, "train", "--config", str(cfg), "--out", str(out), "--quiet", "--minutes", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = out / "metrics" / "iterations.csv"
    deadline = time.time() + 180
    while time.time() < deadline and (not metrics.is_file() or len(metrics.read_text().splitlines()) < 3):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr
    assert "interrupted" in stdout and "--resume" in stdout
    saved = checkpoint.load(out / "checkpoints" / "latest.pt")["progress"]["iteration"]
    assert saved >= 2
    resumed = subprocess.run([*RACER, "train", "--resume", str(out), "--quiet", "--steps", "300"],
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert checkpoint.load(out / "checkpoints" / "latest.pt")["progress"]["iteration"] > saved
    final = out / "evaluation" / "final" / "evaluation.json"
    assert (out / "model" / "model.onnx").is_file() and final.is_file()
    assert np.isfinite(json.loads(final.read_text())["reference_lap_time_s"])


def test_continuous_actions_learn_what_the_reward_asks_for_and_export(tmp_path):
    """A reward that pays for steering left: the Gaussian policy's greedy steering must turn left."""
    reward = tmp_path / "left.py"
    reward.write_text(LEFT_REWARD)
    actions = {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 1.0, "high": 2.0}}
    trainer = Trainer(small_config(tmp_path, actions=actions, reward=str(reward), steps=4000), tmp_path / "run",
                      show_progress=False)
    frames = torch.from_numpy(trainer.rollouts.env.reset(seed=1)[0])
    with torch.no_grad():
        before = trainer.model.actor(frames)[:, 0].mean().item()  # greedy steering, -1 right .. +1 left
    trainer.train()
    with torch.no_grad():
        after = trainer.model.actor(frames)[:, 0].mean().item()
    assert abs(before) < 0.1 and after > 0.5, (before, after)
    from racer_agent.evaluation.export import export
    from racer_agent.evaluation.onnx_policy import OnnxPolicy

    export(tmp_path / "run", tmp_path / "model")
    policy = OnnxPolicy(tmp_path / "model")
    means = policy(np.zeros((3, 120, 160, 1), np.uint8))
    assert means.shape == (3, 2) and np.abs(means).max() <= 1.0
    assert json.loads((tmp_path / "model" / "model_metadata.json").read_text())["action_space_type"] == "continuous"


def test_speed_curriculum_rises_only_while_the_cars_lap():
    from racer_agent.training.curriculum import COMPLETION, START_SPEED, STEP, SpeedCurriculum

    c = SpeedCurriculum.start(4.0)
    assert c.cap == START_SPEED and not c.done
    assert not c.update(COMPLETION - 0.01) and c.cap == START_SPEED
    assert c.update(COMPLETION) and c.cap == pytest.approx(START_SPEED + STEP)
    while c.update(1.0):
        pass
    assert c.cap == 4.0 and c.done
    assert SpeedCurriculum.start(4.0, enabled=False).done
    assert SpeedCurriculum.start(1.5).cap == 1.5  # a space slower than the start speed is never capped


def test_training_cars_drive_the_capped_space_and_evaluation_the_full_one(tmp_path):
    trainer = Trainer(small_config(tmp_path, steps=300), tmp_path / "run", show_progress=False)
    top = trainer.actions.max_speed
    assert top == 4.0 and trainer.progress.speed_cap == 2.0
    train_race = trainer.rollouts.env.unwrapped.races[0]
    assert train_race.actions.max_speed == 2.0 and trainer.eval_race.actions.max_speed == top
    fastest = int(np.argmax(trainer.actions.table[:, 1]))
    trainer.rollouts.env.reset(seed=0)
    _obs, _r, _term, _trunc, info = trainer.rollouts.env.step(np.full(4, fastest))
    _obs, _r, _term, _trunc, info = trainer.rollouts.env.step(np.full(4, fastest))
    assert {p["speed"] for p in info["params"] if p is not None} == {2.0}  # what the reward function is told
    trainer.curriculum.cap = top - 0.05
    assert trainer.curriculum.update(1.0) and trainer.curriculum.done
    trainer._apply_speed_cap()
    assert train_race.actions.max_speed == top and trainer.progress.speed_cap == top
    trainer.rollouts.env.close()


def check_stopped_and_resumed_equals_whole(tmp_path: Path, **base) -> None:
    """Stopped in the middle of a rollout (as Ctrl-C does) and resumed, a run must go on exactly as
    the same run never stopped: the same metrics row for row (timing apart) and the same weights."""
    whole = Trainer(small_config(tmp_path, steps=1500, **base), tmp_path / "whole", show_progress=False)
    whole.train()

    first = Trainer(small_config(tmp_path, steps=1500, **base), tmp_path / "split", show_progress=False)
    evaluations = []

    def stop_after_second_evaluation(progress, _summary):
        evaluations.append(progress.samples)
        if len(evaluations) == 2:  # the next rollout starts, takes one step and is cut short
            first._stop_signal = "SIGINT"

    first.on_evaluation = stop_after_second_evaluation
    stopped = first.train()
    assert stopped.reason == "interrupted" and stopped.progress.samples == evaluations[-1] < 1500
    resumed = Trainer(small_config(tmp_path, steps=1500 - stopped.progress.samples, **base), tmp_path / "split",
                      resume=True, show_progress=False)
    resumed.train()

    assert torch.equal(torch.cat([p.flatten() for p in whole.model.parameters()]),
                       torch.cat([p.flatten() for p in resumed.model.parameters()]))
    for csv in ("episodes_csv", "iterations_csv"):
        rows = [[{k: v for k, v in r.items() if k not in TIMING_COLUMNS}
                 for r in read_csv(getattr(RunDirectory(tmp_path / n), csv))] for n in ("whole", "split")]
        assert rows[0] == rows[1] and len(rows[0]) > 5


@pytest.mark.parametrize("randomize", [False, True])
def test_a_run_stopped_mid_rollout_and_resumed_is_the_run_never_stopped(tmp_path, randomize):
    """Randomised looks too: each car's camera mount and colours are part of what is saved; so is
    the default reward function's memory of the last progress (a stateful DeepRacer idiom)."""
    check_stopped_and_resumed_equals_whole(tmp_path, seed=5, eval_every_samples=200, randomize=randomize)


def test_lr_decay_falls_linearly_with_samples_to_a_tenth(tmp_path):
    trainer = Trainer(small_config(tmp_path, steps=600, lr_decay_samples=1000), tmp_path / "run", show_progress=False)
    trainer.train()
    lr = trainer.optimizer.param_groups[0]["lr"]
    # the last update saw the samples before it: at s samples, lr x (0.1 + 0.9 x (1 - s / 1000))
    samples_before_last = read_csv(trainer.run.iterations_csv)[-2]["samples"]
    expected = trainer.hp.lr * (0.1 + 0.9 * (1 - int(samples_before_last) / 1000))
    assert lr == pytest.approx(expected) and lr < trainer.hp.lr
    with pytest.raises(ConfigError, match="lr_decay_samples"):
        config.load(lr_decay_samples=0)
