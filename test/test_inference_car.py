"""racer_inference as the car runs it: Python 3.8, numpy + onnxruntime + messages only, the training
input reproduced from the car's camera encodings, and unsafe model outputs turned into no command."""

from __future__ import annotations

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


def test_the_node_imports_nothing_heavy():
    code = ("import sys, racer_inference.inference_node, racer_inference.cars; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


def _car_python() -> Path:
    python = ROOT / ".venv38" / "bin" / "python"
    assert python.is_file(), f"{python} missing: `bash scripts/setup.sh --test` makes it from a Python 3.8"
    return python


def test_an_exported_model_drives_the_same_under_the_cars_python_3_8(tmp_path):
    """The car's interpreter and pins (car-requirements.txt), not a linter's reading: every module of
    racer_inference and the car's launch file import under 3.8, and `Model` gives the 3.11 result on
    rendered frames. ROS packages are stood in for there (test/car_python38.py says how)."""
    import json

    import torch

    from racer_agent.env.actions import ActionSpace
    from racer_agent.evaluation import model_metadata
    from racer_agent.evaluation.export import export
    from racer_agent.evaluation.policy import TorchPolicy, build_model
    from racer_core.builtin_tracks import build
    from racer_core.camera import camera_from
    from racer_core.simulator import Simulator

    torch.manual_seed(0)
    actions, camera = ActionSpace.from_spec(None), camera_from("deepracer_car")
    net = build_model("RACER_SMALL", camera.shape, actions).eval()
    with torch.no_grad():
        net.actor_head.weight.mul_(300.0)  # decisive outputs: the chosen action does not hang on rounding
    export(TorchPolicy(net, model_metadata.build(actions, "RACER_SMALL", camera)), tmp_path / "model")
    track = build("circuit")
    sim = Simulator(track, 1, camera)
    frames = []
    for along in np.linspace(0.0, track.length, 12, endpoint=False):
        sim.place(0, *track.pose_at(float(along)))
        sim.render()
        frames.append(sim.frames[0].copy())
    np.save(tmp_path / "frames.npy", np.stack(frames))
    run = subprocess.run([str(_car_python()), str(ROOT / "test" / "car_python38.py"), str(PACKAGE),
                          str(PACKAGE / "deploy" / "racer_deepracer.launch.py"), str(tmp_path / "model"),
                          str(tmp_path / "frames.npy")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    car = json.loads(run.stdout)
    assert car["python"][:2] == [3, 8] and car["numpy"] == "1.24.4" and car["onnxruntime"] == "1.19.2", car
    modules = {p.stem for p in (PACKAGE / "racer_inference").glob("*.py")} - {"__init__"}
    assert set(car["imported"]) == modules
    here = Model(tmp_path / "model")
    expected = [here.outputs(f[None].astype(np.float32))[0] for f in frames]
    np.testing.assert_allclose(np.array(car["outputs"]), np.array(expected), atol=1e-5)
    assert [tuple(c) for c in car["commands"]] == [here.drive(f[None].astype(np.float32)) for f in frames]
    assert np.ptp(np.array(car["outputs"]), axis=0).max() > 1e-3  # the frames are told apart, not one answer


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
