import torch

from racer_agent.training.advantage import gae


def one_car(*columns):
    return [torch.tensor(c, dtype=torch.float32).reshape(-1, 1) for c in columns]


def test_gae_matches_hand_computation_without_ends():
    r, v, nv, term, end = one_car([1, 1], [0.5, 0.5], [0.5, 2.0], [0, 0], [0, 0])
    adv, ret = gae(r, v, nv, term.bool(), end.bool(), gamma=0.9, lam=0.8)
    d1 = 1 + 0.9 * 2.0 - 0.5
    d0 = 1 + 0.9 * 0.5 - 0.5
    assert torch.allclose(adv[:, 0], torch.tensor([d0 + 0.9 * 0.8 * d1, d1]))
    assert torch.allclose(ret, adv + v)


def test_termination_zeroes_the_future_but_truncation_bootstraps_it():
    r, v, nv, _, _ = one_car([1], [0.0], [10.0], [0], [0])
    terminated, _ = gae(r, v, nv, torch.tensor([[True]]), torch.tensor([[True]]), gamma=0.9, lam=0.95)
    truncated, _ = gae(r, v, nv, torch.tensor([[False]]), torch.tensor([[True]]), gamma=0.9, lam=0.95)
    assert terminated.item() == 1.0
    assert truncated.item() == 1.0 + 0.9 * 10.0


def test_advantage_does_not_leak_across_episodes():
    r, v, nv, term, end = one_car([0, 100], [0, 0], [0, 0], [0, 1], [1, 1])
    adv, _ = gae(r, v, nv, term.bool(), end.bool(), gamma=0.99, lam=0.95)
    assert adv[0].item() == 0.0  # the second episode's reward does not flow back into the first
