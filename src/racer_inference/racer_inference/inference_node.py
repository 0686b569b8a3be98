"""`racer_inference_node`: an exported ONNX model drives a car from its camera.

One command per picture (newest frame only), a stop command first, and a stop whenever driving
would be unsafe: no fresh picture for `image_timeout_s` (a watchdog on a steady clock, so a dead
simulator's frozen /clock cannot silence it), a picture it cannot read, a model output that is not
finite, and on SIGINT / SIGTERM, where the stop is acknowledged before the node exits. Python 3.8,
numpy, onnxruntime and message packages only: it runs on the car.
"""

from __future__ import annotations

import sys
import time
from typing import List, Optional

from rclpy.clock import Clock, ClockType
from rclpy.node import Node

from racer_inference import node_support
from racer_inference.cars import CARS
from racer_inference.images import ImageError, image_array, model_input
from racer_inference.model import MetadataError, Model

PARAMETERS: node_support.ParameterTable = {
    "model_dir": ("", "directory with model.onnx and model_metadata.json (racer export)"),
    "target": ("sim", "sim: racer's simulated car (cmd_drive); deepracer: the physical car's stock stack",
               node_support.one_of(*CARS)),
    "image_timeout_s": (0.25, "no fresh picture for this long: stop", node_support.positive, True),
    "watchdog_hz": (20.0, "how often the stalled-camera check runs", node_support.positive),
    "max_throttle": (0.5, "deepracer: throttle at the action space's top speed (the console's speed slider)",
                     node_support.between(0.0, 1.0), True),
    "service_timeout_s": (5.0, "deepracer: how long to wait for the car's ctrl_pkg services", node_support.positive),
}
WARN_EVERY_S = 2.0


class InferenceNode(Node):
    def __init__(self, **kwargs):
        super().__init__("racer_inference", **kwargs)
        self.p = node_support.declare(self, PARAMETERS)
        self.car = CARS[self.p["target"]](self, self.p)
        self.stopped = True
        self.car.stop()  # whatever happens next, the car's first command is a stop
        if not self.p["model_dir"]:
            raise ValueError("parameter model_dir is required (a directory written by `racer export`)")
        self.model: Optional[Model] = None
        try:
            self.model = Model(self.p["model_dir"])
        except MetadataError as err:  # refused: the node stays up and answers every picture with a stop
            self.get_logger().error(f"{err}; the car will only be sent stop commands")
        self.inputs = None  # the model's input buffer, reused for every picture
        self.last_image = -float("inf")
        try:
            self.car.start(self._on_image)
        except RuntimeError as err:  # the car refused autonomous mode: report it, stay stopped
            self.get_logger().error(f"{err}; not driving")
            self.model = None
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(1.0 / float(self.p["watchdog_hz"]), self._watchdog, clock=steady)
        if self.model is not None:
            self.get_logger().info(f"driving the {self.p['target']} car with {self.model.path}")

    def _on_image(self, image) -> None:
        if self.model is None:
            self.stop()
            return
        try:
            if image is None:
                raise ImageError("camera message without an image")
            frame = image_array(image)
            self.inputs = model_input(frame, image.encoding, self.model.input_shape, self.model.grey_weights,
                                      self.inputs)
        except ImageError as err:
            self._halt(f"{err}; stopping")
            return
        drive = self.model.drive(self.inputs)
        if drive is None:
            self._halt("the model's output is not finite; stopping")
            return
        steer, speed = drive
        self.car.drive(steer, speed, self.model, image.header.stamp)
        self.last_image, self.stopped = time.monotonic(), False

    def _halt(self, why: str) -> None:
        self.get_logger().warning(why, throttle_duration_sec=WARN_EVERY_S)
        self.stop()

    def _watchdog(self) -> None:
        if not self.stopped and time.monotonic() - self.last_image > float(self.p["image_timeout_s"]):
            self._halt("camera stalled: stop")

    def stop(self) -> None:
        self.car.stop()
        self.stopped = True

    def last_stop(self) -> None:
        """On exit: the stop command, delivered, then the car handed back."""
        self.stop()
        self.car.close()


def main(args: Optional[List[str]] = None) -> int:
    return node_support.spin_main(InferenceNode, args, "racer_inference_node", on_exit=InferenceNode.last_stop)


if __name__ == "__main__":
    sys.exit(main())
