import torch

from racer_agent.networks import RACER_SMALL, SHALLOW, ActorCritic, Trunk


def test_shallow_has_deepracers_shapes():
    trunk = Trunk(SHALLOW, (120, 160, 1))
    assert trunk.features == 11 * 16 * 64 == 11264
    params = sum(p.numel() for p in trunk.parameters())
    assert 5.7e6 < params < 6.0e6  # ~5.8 M per copy, the dense layer dominates


def test_actor_critic_outputs():
    frames = torch.randint(0, 255, (5, 120, 160, 1), dtype=torch.uint8)
    discrete = ActorCritic(RACER_SMALL, (120, 160, 1), 11)
    logits, value = discrete(frames)
    assert logits.shape == (5, 11) and value.shape == (5,)
    assert discrete.distribution(logits).sample().shape == (5,)
    continuous = ActorCritic(RACER_SMALL, (120, 160, 1), None)
    mean, _ = continuous(frames)
    assert mean.shape == (5, 2) and mean.abs().max() <= 1
    assert continuous.distribution(mean).log_prob(mean).shape == (5,)
    assert sum(p.numel() for p in discrete.parameters()) < 1e6
