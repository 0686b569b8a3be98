"""The PPO update's arithmetic on a hand-sized batch: clipped objective, value loss, entropy, KL and
clip fraction as logged, and that the step moves the policy the way the advantages say."""

import math
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

from racer_agent.training import ppo
from racer_agent.training.config import Hyperparameters
from racer_agent.training.networks import RACER_SMALL, ActorCritic


def hand_batch(model: ActorCritic, offsets: list[float], advantages: list[float]) -> ppo.Batch:
    """Four samples whose old log-probabilities differ from the model's by known offsets."""
    torch.manual_seed(0)
    frames = model.prepare(torch.randint(0, 256, (4, 120, 160, 1), dtype=torch.uint8))
    with torch.no_grad():
        actor_out, values = model(frames)
        actions = torch.tensor([0, 1, 2, 3])
        current = model.distribution(actor_out).log_prob(actions)
    return ppo.Batch(frames, actions, current - torch.tensor(offsets), values.clone(),
                     torch.tensor(advantages), values + torch.tensor([1.0, -1.0, 0.5, 0.0]))


def test_logged_losses_are_the_clipped_objective_worked_by_hand():
    torch.manual_seed(0)
    model = ActorCritic(RACER_SMALL, (120, 160, 1), num_actions=5)
    # ratios exp(offset): 1.5 (clipped up at 1.2), 0.5 (clipped down at 0.8), 1.1 and 1.0 (inside)
    offsets = [math.log(1.5), math.log(0.5), math.log(1.1), 0.0]
    batch = hand_batch(model, offsets, [1.0, 1.0, -1.0, 0.5])
    hp = Hyperparameters(batch_size=4, num_epochs=1, lr=1e-3, beta_entropy=0.01, loss_type="mean squared error")
    with torch.no_grad():
        entropy = model.distribution(model(batch.frames)[0]).entropy().mean().item()
    stats = ppo.update(model, ppo.make_optimizer(model, hp), batch, hp, torch.Generator().manual_seed(0))

    adv = torch.tensor([1.0, 1.0, -1.0, 0.5])
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    ratio = torch.tensor([1.5, 0.5, 1.1, 1.0])
    clipped = ratio.clamp(0.8, 1.2)
    expected_policy = torch.max(-adv * ratio, -adv * clipped).mean().item()
    assert stats["policy_loss"] == pytest.approx(expected_policy, abs=1e-5)
    assert stats["value_loss"] == pytest.approx(F.mse_loss(torch.zeros(4), torch.tensor(
        [1.0, -1.0, 0.5, 0.0])).item(), abs=1e-5)
    assert stats["entropy"] == pytest.approx(entropy, abs=1e-6)
    log_ratio = torch.tensor(offsets)
    assert stats["approx_kl"] == pytest.approx(((ratio - 1) - log_ratio).mean().item(), abs=1e-5)
    assert stats["clip_fraction"] == 0.5  # 1.5 and 0.5 lie outside [0.8, 1.2]


def test_an_update_raises_the_probability_of_advantaged_actions():
    torch.manual_seed(1)
    model = ActorCritic(RACER_SMALL, (120, 160, 1), num_actions=5)
    batch = hand_batch(model, [0.0] * 4, [2.0, -2.0, 2.0, -2.0])
    hp = Hyperparameters(batch_size=4, num_epochs=5, lr=3e-3, beta_entropy=0.0)
    ppo.update(model, ppo.make_optimizer(model, hp), batch, hp, torch.Generator().manual_seed(0))
    with torch.no_grad():
        after = model.distribution(model(batch.frames)[0]).log_prob(batch.actions)
    change = after - batch.logprobs
    assert change[0] > 0 and change[2] > 0 and change[1] < 0 and change[3] < 0


def test_a_nan_loss_stops_training():
    model = ActorCritic(RACER_SMALL, (120, 160, 1), num_actions=5)
    batch = hand_batch(model, [0.0] * 4, [1.0, 2.0, 3.0, 4.0])
    batch.returns[0] = float("nan")
    hp = Hyperparameters(batch_size=4, num_epochs=1)
    try:
        ppo.update(model, ppo.make_optimizer(model, hp), batch, hp, torch.Generator().manual_seed(0))
    except ppo.NaNLossError as exc:
        assert "value nan" in str(exc)
    else:
        raise AssertionError("a NaN loss must stop the update")


def test_rollout_keeps_every_real_step_and_drops_only_autoreset_steps(tmp_path):
    """Short episodes (a 6-step cap) so many end inside one rollout: every step the cars really drove
    is a sample, the autoreset steps (which ignore the action) are not."""
    from racer_agent.training import config
    from racer_agent.training.trainer import Trainer

    cfg = config.load(track="oval", num_cars=3, eval_laps=1, max_steps=6, steps=10_000, torch_threads=1,
                      hyperparameters={"num_episodes_between_training": 7, "batch_size": 16})
    trainer = Trainer(cfg, tmp_path / "run", show_progress=False)
    worker = trainer.rollouts
    worker.start(seed=0)
    rollout = worker.collect(gamma=0.99)
    batch, finished = rollout.batch, rollout.finished
    assert len(finished) >= 7
    driven = sum(row["steps"] for row in finished) + int(worker.cars.steps.sum())  # ended + still running
    assert len(batch) == driven
    assert all(row["steps"] <= 6 for row in finished)
    assert any(row["status"] == "time_up" for row in finished)


@pytest.mark.parametrize("track, bootstraps", [("oval", True), ("Straight_track", False)])
def test_a_lap_of_a_loop_bootstraps_the_value_but_the_end_of_the_road_does_not(tmp_path, track, bootstraps):
    """Car 0 completes its lap on the rollout's first step. On a loop it could drive on, so its return
    is the reward plus the discounted value of the frame it reached; at the end of an open track
    there is nothing more to drive, so the return is the reward alone."""
    from conftest import SHARED_TRACKS

    from racer_agent.training import config
    from racer_agent.training.trainer import Trainer

    if track != "oval":
        track = str(SHARED_TRACKS / f"{track}.npy")
        if not Path(track).exists():
            pytest.skip(f"{track} not found")
    cfg = config.load(track=track, num_cars=2, eval_laps=1, steps=10_000, torch_threads=1,
                      hyperparameters={"num_episodes_between_training": 1})
    worker = Trainer(cfg, tmp_path / "run", show_progress=False).rollouts
    with torch.no_grad():
        worker.model.critic_head.bias.fill_(50.0)  # a future clearly worth something
    worker.start(seed=0)
    race = worker.env.unwrapped.race
    tracker = race.trackers[0]
    tracker.covered = race.track.length - (0.0 if race.track.closed else tracker.start_along)  # at the line
    gamma = 0.9
    rollout = worker.collect(gamma=gamma)
    assert [(row["car"], row["status"]) for row in rollout.finished] == [(0, "lap_complete")]
    assert len(rollout.batch) == 2  # one step of two cars
    with torch.no_grad():
        _, value_reached = worker.model(worker.cars.obs)  # the lap's final frame (autoreset comes next step)
    expected = rollout.finished[0]["reward"] + (gamma * value_reached[0].item() if bootstraps else 0.0)
    assert rollout.batch.returns[0].item() == pytest.approx(expected, rel=1e-5, abs=1e-5)
