"""The error a remote simulator raises, importable without rclpy (the trainer catches it either way)."""


class SimulatorUnavailable(RuntimeError):
    """The remote simulator did not answer in time or refused a request."""
