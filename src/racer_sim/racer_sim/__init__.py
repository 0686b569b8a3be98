"""The top of the racer stack: the simulator node, the launch files and the `racer` command.

It composes the other packages (racer_core's simulator behind ROS 2 topics, racer_agent's trainer,
racer_inference's driver), so it depends on all of them and nothing depends on it: that is what
lets `ros2 launch racer_sim train.launch.py` start every racer executable without a cycle.
"""
