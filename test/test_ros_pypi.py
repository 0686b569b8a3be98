"""rclpy from PyPI really works in this venv: an Image crosses between two processes over DDS."""

import os
import subprocess
import sys
import textwrap

PUBLISHER = textwrap.dedent("""
    import time, numpy as np, rclpy
    from sensor_msgs.msg import Image
    rclpy.init()
    node = rclpy.create_node("racer_test_camera")
    pub = node.create_publisher(Image, "camera/image_raw", 10)
    frame = (np.arange(120 * 160 * 3) % 251).astype(np.uint8).reshape(120, 160, 3)
    msg = Image(height=120, width=160, encoding="rgb8", step=480, data=frame.tobytes())
    msg.header.frame_id = "camera_optical_frame"
    end = time.time() + 30
    while time.time() < end:
        pub.publish(msg)
        rclpy.spin_once(node, timeout_sec=0.05)
""")

SUBSCRIBER = textwrap.dedent("""
    import sys, numpy as np, rclpy
    from sensor_msgs.msg import Image
    rclpy.init()
    node = rclpy.create_node("racer_test_viewer")
    got = []
    node.create_subscription(Image, "camera/image_raw", got.append, 10)
    import time
    end = time.time() + 25
    while not got and time.time() < end:
        rclpy.spin_once(node, timeout_sec=0.1)
    if not got:
        sys.exit("no image received")
    m = got[0]
    a = np.frombuffer(bytes(m.data), np.uint8).reshape(m.height, m.width, 3)
    print(m.encoding, m.header.frame_id, int(a.astype(np.int64).sum()))
""")


def test_image_between_two_processes():
    env = dict(os.environ)
    assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
    pub = subprocess.Popen([sys.executable, "-c", PUBLISHER], env=env)
    try:
        out = subprocess.run([sys.executable, "-c", SUBSCRIBER], env=env, capture_output=True, text=True, timeout=60)
    finally:
        pub.kill()
        pub.wait()
    assert out.returncode == 0, out.stderr
    expected = int((__import__("numpy").arange(120 * 160 * 3) % 251).sum())
    assert out.stdout.split() == ["rgb8", "camera_optical_frame", str(expected)]


def test_interface_packages_built_by_setup():
    code = ("from tf2_msgs.msg import TFMessage; from ackermann_msgs.msg import AckermannDriveStamped as A;"
            "from geometry_msgs.msg import TransformStamped;"
            "m = A(); m.drive.speed = 1.5; m.drive.steering_angle = 0.2;"
            "t = TFMessage(transforms=[TransformStamped()]); print(m.drive.speed, len(t.transforms))")
    assert _python_prints(code) == ["1.5", "1"]


def test_racer_interfaces_services_built_by_setup():
    code = ("from racer_interfaces.srv import ResetCar, StepSimulation;"
            "r = ResetCar.Request(mode=ResetCar.Request.POSE, x=1.0, y=-2.0, yaw=0.5);"
            "s = StepSimulation.Request(periods=3); a = StepSimulation.Response(step=7);"
            "print(r.mode, r.x, r.yaw, s.periods, a.step, a.stamp.sec)")
    assert _python_prints(code) == ["1", "1.0", "0.5", "3", "7", "0"]


def _python_prints(code: str) -> list[str]:
    """Run `code` in a fresh interpreter (as a user's script would import the packages); its output words."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()
