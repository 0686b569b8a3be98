import torch

from racer_agent.training.networks import FIVE_LAYER, RACER_SMALL, SHALLOW, ActorCritic, Trunk


def test_shallow_has_deepracers_shapes():
    trunk = Trunk(SHALLOW, (120, 160, 1))
    assert trunk.features == 11 * 16 * 64 == 11264
    params = sum(p.numel() for p in trunk.parameters())
    assert 5.7e6 < params < 6.0e6  # ~5.8 M per copy, the dense layer dominates


def test_five_layer_has_deepracers_shapes():
    """DEEP_CONVOLUTIONAL_NETWORK: conv (32,5,2), (32,3,1), (64,3,2), (64,3,1), then dense 64 and 512."""
    trunk = Trunk(FIVE_LAYER, (120, 160, 1))
    convs = [m for m in trunk.convs if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [(32, 5, 2), (32, 3, 1), (64, 3, 2),
                                                                                (64, 3, 1)]
    assert trunk.features == 64 * 25 * 35  # VALID: 120x160 -> 58x78 -> 56x76 -> 27x37 -> 25x35
    dense = [m for m in trunk.dense if isinstance(m, torch.nn.Linear)]
    assert [(d.in_features, d.out_features) for d in dense] == [(trunk.features, 64), (64, 512)]
    model = ActorCritic(FIVE_LAYER, (120, 160, 1), 5)
    logits, value = model(model.prepare(torch.zeros((2, 120, 160, 1), dtype=torch.uint8)))
    assert logits.shape == (2, 5) and value.shape == (2,)


def test_actor_critic_outputs():
    frames = torch.randint(0, 255, (5, 120, 160, 1), dtype=torch.uint8)
    discrete = ActorCritic(RACER_SMALL, (120, 160, 1), 11)
    logits, value = discrete(discrete.prepare(frames))
    assert logits.shape == (5, 11) and value.shape == (5,)
    assert discrete.distribution(logits).sample().shape == (5,)
    continuous = ActorCritic(RACER_SMALL, (120, 160, 1), None)
    mean, _ = continuous(continuous.prepare(frames))
    assert mean.shape == (5, 2) and mean.abs().max() <= 1
    assert continuous.distribution(mean).log_prob(mean).shape == (5,)
    assert sum(p.numel() for p in discrete.parameters()) < 1e6


def test_prepare_is_a_block_average_of_raw_pixels():
    model = ActorCritic(RACER_SMALL, (120, 160, 1), 11)
    frames = torch.randint(0, 255, (2, 120, 160, 1), dtype=torch.uint8)
    x = model.prepare(frames)
    assert x.shape == (2, 1, 30, 40)
    expected = torch.nn.functional.avg_pool2d(frames.permute(0, 3, 1, 2).float() / 255.0, 4)
    assert torch.allclose(x, expected, atol=1e-6)
    assert torch.allclose(model.prepare(frames.float()), x, atol=1e-6)  # the exported graph takes floats
