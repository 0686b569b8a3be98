"""config/gz_bridge.yaml against both of its ends (racer's nodes over real DDS, the generated car
model), and racer_twist_node, which turns racer's drive command into the Twist the car takes."""

from __future__ import annotations

import math
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

rclpy = pytest.importorskip("rclpy")

from ackermann_msgs.msg import AckermannDriveStamped  # noqa: E402
from conftest import ROOT  # noqa: E402
from geometry_msgs.msg import Twist  # noqa: E402
from ros_helpers import Probe, stop  # noqa: E402

from racer_core import gazebo_interface as gz  # noqa: E402
from racer_core.vehicle import VehicleParams  # noqa: E402

BRIDGE = ROOT / "src" / "racer_sim" / "config" / "gz_bridge.yaml"
CAR = ROOT / "worlds" / "oval" / "models" / "racer_car" / "model.sdf"
BIN = Path(sys.executable).parent
# ros_gz_bridge's type pairs (ros_gz jazzy README) for the messages racer bridges
GZ_TYPE_OF = {
    "rosgraph_msgs/msg/Clock": "gz.msgs.Clock", "sensor_msgs/msg/Image": "gz.msgs.Image",
    "sensor_msgs/msg/CameraInfo": "gz.msgs.CameraInfo", "nav_msgs/msg/Odometry": "gz.msgs.Odometry",
    "tf2_msgs/msg/TFMessage": "gz.msgs.Pose_V", "geometry_msgs/msg/Twist": "gz.msgs.Twist",
}
KEYS = {"ros_topic_name", "gz_topic_name", "ros_type_name", "gz_type_name", "direction", "lazy"}


def bridge_entries() -> list[dict]:
    entries = yaml.safe_load(BRIDGE.read_text())
    assert isinstance(entries, list) and entries
    return entries


def test_bridge_entries_pair_types_and_reach_the_car_models_topics():
    car_topics = {gz.CLOCK}
    for element in ET.parse(CAR).getroot().iter():
        if element.tag in ("topic", "odom_topic", "tf_topic"):
            car_topics.add(element.text)
    car_topics.add(gz.CAMERA_INFO)  # gz-sensors publishes it beside the image topic
    for entry in bridge_entries():
        assert set(entry) <= KEYS and entry["direction"] in ("GZ_TO_ROS", "ROS_TO_GZ"), entry
        assert GZ_TYPE_OF[entry["ros_type_name"]] == entry["gz_type_name"], entry
        assert entry["gz_topic_name"] in car_topics, entry
    directions = {e["gz_topic_name"]: e["direction"] for e in bridge_entries()}
    assert directions == {gz.CLOCK: "GZ_TO_ROS", gz.CAMERA_IMAGE: "GZ_TO_ROS", gz.CAMERA_INFO: "GZ_TO_ROS",
                          gz.ODOMETRY: "GZ_TO_ROS", gz.POSE: "GZ_TO_ROS", gz.CMD_VEL: "ROS_TO_GZ"}


def graph_of(probe: Probe, node_name: str, timeout: float = 30.0) -> tuple[set, set]:
    """(published, subscribed) (topic, type) pairs of a running node, once discovery has brought them
    all (endpoints arrive one by one: wait until two looks 0.3 s apart agree)."""
    node = probe.node

    def look() -> tuple[set, set]:
        if node_name not in node.get_node_names():
            return set(), set()
        return tuple({(topic, t) for topic, types in query(node_name, "/") for t in types}
                     for query in (node.get_publisher_names_and_types_by_node,
                                   node.get_subscriber_names_and_types_by_node))

    deadline = time.monotonic() + timeout
    last = look()
    while time.monotonic() < deadline:
        probe.spin_until(lambda: False, 0.3)
        now = look()
        if now == last and now[0]:
            return now
        last = now
    raise AssertionError(f"{node_name} did not come up within {timeout:g} s")


def test_bridge_ros_side_is_what_racers_nodes_publish_and_subscribe():
    """Every topic Gazebo feeds in is one racer_sim_node publishes (same name, same type), so everything
    that listens to the embedded simulator listens to Gazebo; every topic handed to Gazebo is one the
    simulator node takes, and racer_twist_node makes it from racer's drive command."""
    sim = subprocess.Popen([str(BIN / "racer_sim_node"), "--ros-args", "-p", "lockstep:=true"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    twist = subprocess.Popen([str(BIN / "racer_twist_node")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    probe = Probe()
    try:
        sim_pub, sim_sub = graph_of(probe, "racer_sim")
        twist_pub, twist_sub = graph_of(probe, "racer_twist")
    finally:
        probe.close()
        stop(sim), stop(twist)
    for entry in bridge_entries():
        pair = (entry["ros_topic_name"], entry["ros_type_name"])
        if entry["direction"] == "GZ_TO_ROS":
            assert pair in sim_pub, f"{pair} is not published by racer_sim_node: {sorted(sim_pub)}"
        else:
            assert pair in sim_sub and pair in twist_pub, pair
    assert ("/cmd_drive", "ackermann_msgs/msg/AckermannDriveStamped") in sim_sub & twist_sub


@pytest.fixture
def twist_node():
    process = subprocess.Popen([str(BIN / "racer_twist_node"), "--ros-args", "-p", "command_timeout_s:=0.3"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    probe = Probe()
    probe.listen(Twist, "/cmd_vel")
    publisher = probe.node.create_publisher(AckermannDriveStamped, "/cmd_drive", 10)
    assert probe.spin_until(lambda: publisher.get_subscription_count() > 0, 20), "racer_twist_node not up"
    yield process, probe, publisher
    probe.close()
    stop(process)


def send(probe: Probe, publisher, speed: float, steer: float) -> Twist:
    got = probe.got["/cmd_vel"]
    before = len(got)
    msg = AckermannDriveStamped()
    msg.drive.speed, msg.drive.steering_angle = speed, steer
    publisher.publish(msg)
    assert probe.spin_until(lambda: len(got) > before, 5), "no Twist came"
    return got[-1]


def test_twist_node_converts_clamps_and_stops(twist_node):
    process, probe, publisher = twist_node
    v = VehicleParams()
    twist = send(probe, publisher, 1.5, 0.25)
    assert twist.linear.x == pytest.approx(1.5) and twist.angular.z == pytest.approx(1.5 * math.tan(0.25) / v.wheelbase)
    twist = send(probe, publisher, 1.0, math.nan)
    assert (twist.linear.x, twist.angular.z) == (0.0, 0.0)  # a broken command is a stop
    twist = send(probe, publisher, 20.0, -3.0)
    assert twist.linear.x == v.max_speed
    assert twist.angular.z == pytest.approx(-v.max_speed * math.tan(math.radians(v.max_steer_deg)) / v.wheelbase)
    send(probe, publisher, 1.0, 0.0)
    got = probe.got["/cmd_vel"]
    count = len(got)
    time.sleep(0.1)
    assert probe.spin_until(lambda: len(got) > count, 3), "a silent driver's car was not stopped"
    assert (got[-1].linear.x, got[-1].angular.z) == (0.0, 0.0)
    send(probe, publisher, 1.0, 0.0)
    output = stop(process)  # SIGINT: the node's last word is a stop
    assert probe.spin_until(lambda: got[-1].linear.x == 0.0, 5), output
    assert process.returncode == 0, output
