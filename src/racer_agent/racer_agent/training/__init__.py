"""Learning: the PPO loop, its networks, configuration, run directory and checkpoints."""
