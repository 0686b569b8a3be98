"""`racer bench inference`: how long the car's driver takes, per network, in the same run.

- inference: what the inference node does with one frame (grey conversion of a 160x120 bgr8
  picture, onnxruntime, the action mapping), in process, one thread.
- end to end: a camera Image published -> the cmd_drive answering it received, over loopback DDS with
  racer_inference_node as a separate process (ping-pong: the next frame goes out when the answer
  came, so no frame is dropped by the node's newest-only camera queue).
Both for racer's default network and DeepRacer's shallow one, exported untrained (the weights do not
change the cost).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from racer_agent.env.actions import ActionSpace
from racer_agent.evaluation import model_metadata
from racer_agent.evaluation.export import export
from racer_agent.evaluation.policy import TorchPolicy, build_model
from racer_agent.training.config import TrainConfig
from racer_core.camera import camera_from
from racer_inference.images import model_input
from racer_inference.model import Model
from racer_sim.node_processes import NodeProcesses, node_command

NETWORKS = {"default": TrainConfig().network, "deepracer_shallow": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW"}
RESENDS = 10
TARGETS_MS = {"inference_p99_ms": 1.0, "end_to_end_p99_ms": 3.0}


def exported(network: str, out: Path) -> Path:
    camera = camera_from()
    actions = ActionSpace.from_spec()
    model = build_model(network, camera.shape, actions).eval()
    export(TorchPolicy(model, model_metadata.build(actions, network, camera)), out)
    return out


def percentiles(samples_s: list[float]) -> tuple[float, float]:
    ms = np.asarray(samples_s) * 1e3
    return round(float(np.percentile(ms, 50)), 3), round(float(np.percentile(ms, 99)), 3)


def inference_times(model_dir: Path, frames: np.ndarray) -> list[float]:
    model, buffer, times = Model(model_dir), None, []
    for i, frame in enumerate(frames):
        start = time.perf_counter()
        buffer = model_input(frame, "bgr8", model.input_shape, model.grey_weights, buffer)
        model.drive(buffer)
        if i >= 20:  # warm-up left out
            times.append(time.perf_counter() - start)
    return times


def end_to_end_times(model_dir: Path, frames: np.ndarray, timeout_s: float = 30.0) -> list[float]:
    import rclpy
    from ackermann_msgs.msg import AckermannDriveStamped
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    context = Context()
    rclpy.init(context=context)
    node = Node("racer_latency_probe", context=context, start_parameter_services=False)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    answered: dict[int, float] = {}
    node.create_subscription(AckermannDriveStamped, "cmd_drive",
                             lambda m: answered.setdefault(m.header.stamp.sec, time.perf_counter()), 10)
    newest_only = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
    camera = node.create_publisher(Image, "camera/image_raw", newest_only)
    times: list[float] = []
    try:
        with NodeProcesses() as nodes:
            nodes.start(node_command("racer_inference_node", "racer_inference", None, {"model_dir": str(model_dir)}))
            deadline = time.monotonic() + timeout_s
            while camera.get_subscription_count() == 0 or node.count_publishers("cmd_drive") == 0:
                if time.monotonic() > deadline:
                    raise RuntimeError("racer_inference_node did not come up")
                executor.spin_once(timeout_sec=0.05)
            for i, frame in enumerate(frames, start=1):
                msg = Image(height=120, width=160, encoding="bgr8", step=480, data=frame.tobytes())
                msg.header.stamp.sec = i
                for _attempt in range(RESENDS):  # a frame can be lost before the node is fully up: send it again
                    sent = time.perf_counter()
                    camera.publish(msg)
                    wait_until = time.monotonic() + 0.5
                    while i not in answered and time.monotonic() < wait_until:
                        executor.spin_once(timeout_sec=0.01)
                    if i in answered:
                        break
                else:
                    raise RuntimeError(f"racer_inference_node did not answer frame {i} in {RESENDS} tries")
                if i > 20:
                    times.append(answered[i] - sent)
    finally:
        executor.shutdown(timeout_sec=0)
        node.destroy_node()
        rclpy.try_shutdown(context=context)
    return times


def run(frames: int = 500) -> dict:
    rng = np.random.default_rng(0)
    pictures = rng.integers(0, 256, (frames + 20, 120, 160, 3), dtype=np.uint8)
    result: dict = {"frames": frames, "targets_ms (default network)": TARGETS_MS}
    with tempfile.TemporaryDirectory() as tmp:
        for name, network in NETWORKS.items():
            model_dir = exported(network, Path(tmp) / name)
            p50, p99 = percentiles(inference_times(model_dir, pictures))
            e50, e99 = percentiles(end_to_end_times(model_dir, pictures))
            result[name] = {"network": network, "inference_p50_ms": p50, "inference_p99_ms": p99,
                            "end_to_end_p50_ms": e50, "end_to_end_p99_ms": e99}
    return result
