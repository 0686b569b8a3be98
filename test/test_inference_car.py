"""racer_inference as the car runs it: Python 3.8, numpy + onnxruntime + messages only, the training
input reproduced from the car's camera encodings, and unsafe model outputs turned into no command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from racer_inference.images import ImageError, model_input
from racer_inference.model import MetadataError, Model

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "racer_inference"
HEAVY = ["numba", "torch", "gymnasium", "matplotlib", "cv2", "onnx", "racer_agent", "racer_core", "racer_sim"]


def test_python_3_8_everywhere_it_imports():
    vermin = shutil.which("vermin", path=str(Path(sys.executable).parent))
    result = subprocess.run([vermin, "--eval-annotations", "--no-tips", "--violations", "-t=3.8-",
                             str(PACKAGE / "racer_inference")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_node_imports_nothing_heavy():
    code = ("import sys, racer_inference.inference_node, racer_inference.cars; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


def test_the_cars_pinned_requirements_resolve_for_python_3_8(tmp_path):
    """Both wheels exist for the car: Python 3.8, glibc 2.31 (manylinux_2_27 and manylinux2014)."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version", "3.8",
         "--platform", "manylinux_2_27_x86_64", "--platform", "manylinux2014_x86_64", "-d", str(tmp_path),
         "-r", str(PACKAGE / "car-requirements.txt")], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    wheels = sorted(p.name for p in tmp_path.glob("*.whl"))
    assert any(w.startswith("onnxruntime-1.19.2-cp38") for w in wheels) and \
        any(w.startswith("numpy-1.24.4-cp38") for w in wheels), wheels


def test_the_nodes_input_is_the_trainers_frame_for_every_encoding():
    """The simulator renders the same state in grey (what training saw) and in colour (what a camera
    sends); the node's conversion of the colour frame, as rgb8 or bgr8, gives the training input."""
    from racer_core.builtin_tracks import build
    from racer_core.camera import camera_from
    from racer_core.scenery import GRAY_WEIGHTS
    from racer_core.simulator import Simulator

    track = build("circuit")
    frames = {}
    for grey in (True, False):
        sim = Simulator(track, 1, camera_from("deepracer_car", grayscale=grey))
        sim.place(0, *track.pose_at(3.0))
        sim.render()
        frames[grey] = sim.frames[0].copy()
    shape = (1, 120, 160, 1)
    trained = frames[True].astype(np.float32)[None]
    for encoding, frame in [("rgb8", frames[False]), ("bgr8", frames[False][:, :, ::-1])]:
        got = model_input(np.ascontiguousarray(frame), encoding, shape, GRAY_WEIGHTS)
        assert got.shape == shape and got.dtype == np.float32
        assert np.abs(got - trained).max() <= 1.0  # rounding of the colour frame, nothing more
        assert np.abs(got - trained).mean() < 0.5
    assert np.array_equal(model_input(frames[True], "mono8", shape, GRAY_WEIGHTS), trained)
    with pytest.raises(ImageError, match="the model needs 160x120"):
        model_input(np.zeros((240, 320, 3), np.uint8), "bgr8", shape, GRAY_WEIGHTS)


def _write_model(directory: Path, weights: np.ndarray, metadata_shape=(1, 120, 160, 1)) -> Path:
    """A real ONNX graph (Flatten, MatMul) with a racer model_metadata.json beside it."""
    import json

    directory.mkdir(parents=True, exist_ok=True)
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["observation"], ["flat"]), helper.make_node("MatMul", ["flat", "w"], ["action"])],
        "tiny", [helper.make_tensor_value_info("observation", TensorProto.FLOAT, ["N", 120, 160, 1])],
        [helper.make_tensor_value_info("action", TensorProto.FLOAT, ["N", weights.shape[1]])],
        [numpy_helper.from_array(weights.astype(np.float32), "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, str(directory / "model.onnx"))
    actions = [{"steering_angle": s, "speed": v} for s, v in [(-30, 1.0), (0, 2.0), (30, 1.0)]]
    (directory / "model_metadata.json").write_text(json.dumps({
        "action_space": actions, "action_space_type": "discrete",
        "racer": {"input": {"shape": list(metadata_shape)}, "grayscale_weights": [0.2989, 0.587, 0.114]}}))
    return directory


def test_discrete_argmax_and_non_finite_outputs(tmp_path):
    w = np.zeros((120 * 160, 3))
    w[:, 1] = 1.0  # action 1 wins on any non-black picture
    model = Model(_write_model(tmp_path / "ok", w))
    steer, speed = model.drive(np.full((1, 120, 160, 1), 10, np.float32))
    assert (steer, speed) == (0.0, 2.0)
    nan = Model(_write_model(tmp_path / "nan", np.full((120 * 160, 3), np.nan)))
    assert nan.drive(np.ones((1, 120, 160, 1), np.float32)) is None  # no command, never NaN on the wire


def test_a_model_that_disagrees_with_its_metadata_is_refused(tmp_path):
    with pytest.raises(MetadataError, match="input shape"):
        Model(_write_model(tmp_path / "shape", np.zeros((120 * 160, 3)), metadata_shape=(1, 120, 160, 3)))
    with pytest.raises(MetadataError, match="output shape"):
        Model(_write_model(tmp_path / "width", np.zeros((120 * 160, 4))))


def test_continuous_means_are_rescaled_to_the_ranges(tmp_path):
    import json

    w = np.zeros((120 * 160, 2))
    w[0, 0], w[0, 1] = 0.01, -0.01  # the first pixel sets (steering, speed) in [-1, 1]
    directory = _write_model(tmp_path / "continuous", w)
    meta = json.loads((directory / "model_metadata.json").read_text())
    meta["action_space"] = {"steering_angle": {"low": -30.0, "high": 30.0}, "speed": {"low": 1.0, "high": 3.0}}
    meta["action_space_type"] = "continuous"
    (directory / "model_metadata.json").write_text(json.dumps(meta))
    model = Model(directory)
    frame = np.zeros((1, 120, 160, 1), np.float32)
    frame[0, 0, 0, 0] = 50.0  # means (0.5, -0.5)
    steer, speed = model.drive(frame)
    assert np.degrees(steer) == pytest.approx(15.0) and speed == pytest.approx(1.5)
    frame[0, 0, 0, 0] = 1000.0  # means (10, -10): clipped to the ranges' ends
    steer, speed = model.drive(frame)
    assert np.degrees(steer) == pytest.approx(30.0) and speed == pytest.approx(1.0)
