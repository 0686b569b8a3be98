"""Judging and shipping a driver: greedy laps, the console-style report, policies from checkpoints
or ONNX, and export."""
