"""The environment and the rules: DeepRacer's episodes, reward params, reward functions and action
spaces over any simulator with racer_core's `SimulatorControl` interface."""
