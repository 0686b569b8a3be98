"""racer's pure core: tracks, the car, the camera and the embedded N-car simulator.

Nothing here imports rclpy or a message package. The ROS 2 nodes (racer_sim), the learner
(racer_agent) and Gazebo world generation sit on top of it and are adapters over the same
interfaces.
"""
