"""The ROS 2 edge of the learner: node plumbing shared by racer's nodes, message conversions, the
bridge simulator (lock-step simulator nodes behind `SimulatorControl`) and the trainer node."""
