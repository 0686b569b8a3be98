"""Benchmarks that run their peer in the same process: the env against Gymnasium's CarRacing, and
learning against Stable-Baselines3 PPO."""
