"""Tracks, the embedded simulator (car, camera) and, at the edges, its ROS 2 node."""
