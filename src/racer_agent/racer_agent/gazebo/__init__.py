"""The Gazebo Harmonic simulator client: lock-step stepping of a paused world over gz-transport."""
