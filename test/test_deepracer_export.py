"""`racer export --format deepracer`: the archive a DeepRacer car's web page takes, unpacked by the
car loader's rules, its graph run by TensorFlow against onnxruntime, and converted as the community
car converts it (OpenVINO from PyPI, TFLite) with the actions compared on rendered frames."""

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="the deepracer-export extra (scripts/setup.sh --test installs it)")

from racer_agent.evaluation import deepracer_export as dr  # noqa: E402
from racer_agent.evaluation.export import export as export_onnx  # noqa: E402
from racer_agent.evaluation.onnx_policy import OnnxPolicy  # noqa: E402
from racer_agent.evaluation.policy import load  # noqa: E402

pytestmark = pytest.mark.xdist_group("lapping_run")  # the lapping model: actions worth comparing
BIN = Path(sys.executable).parent


def run_graph(pb: bytes, frames: np.ndarray) -> np.ndarray:
    """The frozen graph in TensorFlow, one frame at a time (its input is [1, 120, 160, 1])."""
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(pb)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as session:
        return np.concatenate([session.run(dr.OUTPUT_NAME + ":0", {dr.INPUT_NAME + ":0": f[None]}) for f in frames])


@pytest.fixture(scope="module")
def archive(lapping_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("deepracer") / "racer_oval.tar.gz"
    done = subprocess.run([str(BIN / "racer"), "export", str(lapping_run), "--format", "deepracer", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def frames(lapping_run) -> np.ndarray:
    """1,000 camera frames the lapping model sees driving the oval (the frames a car would feed)."""
    import gymnasium as gym

    import racer_agent  # noqa: F401

    policy = load(lapping_run)
    env = gym.make("racer/TimeTrial-v0", track="oval", action_space=policy.metadata, camera={"grayscale": True})
    obs, _ = env.reset(seed=0)
    seen = []
    while len(seen) < 1000:
        seen.append(obs)
        obs, _, terminated, truncated, _ = env.step(int(policy(obs[None].astype(np.float32))[0]))
        if terminated or truncated:
            obs, _ = env.reset()
    return np.stack(seen).astype(np.float32)


def graph_of(archive: Path) -> bytes:
    with tarfile.open(archive) as tar:
        return tar.extractfile(dr.GRAPH_PATH).read()


def test_archive_is_what_the_cars_loader_takes(archive, lapping_run):
    found = dr.check_archive(archive)
    assert found["model_file"] == dr.GRAPH_PATH and found["actions"] == 10
    with tarfile.open(archive) as tar:
        assert sorted(m.name for m in tar.getmembers() if m.isfile()) == ["agent/model.pb", "model_metadata.json"]
        meta = json.loads(tar.extractfile("model_metadata.json").read())
    trained = json.loads((lapping_run / "model" / "model_metadata.json").read_text())
    assert meta["action_space"] == trained["action_space"]
    assert meta["sensor"] == ["FRONT_FACING_CAMERA"] and meta["training_algorithm"] == "clipped_ppo"


def test_the_loaders_rules_refuse_what_the_car_refuses(archive, tmp_path):
    def repack(extra: dict[str, bytes], drop: str | None = None) -> Path:
        out = tmp_path / f"bad{len(list(tmp_path.iterdir()))}.tar.gz"
        with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
            for member in src.getmembers():
                if member.name != drop:
                    dst.addfile(member, src.extractfile(member))
            for name, data in extra.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                dst.addfile(info, io.BytesIO(data))
        return out

    with pytest.raises(dr.ArchiveError, match="2 model files"):
        dr.check_archive(repack({"checkpoint": b"x"}))  # no extension: the loader counts it as a model
    with pytest.raises(dr.ArchiveError, match="2 model files"):
        dr.check_archive(repack({"agent/other.pb": b"x"}))
    with pytest.raises(dr.ArchiveError, match="0 model files"):
        dr.check_archive(repack({}, drop=dr.GRAPH_PATH))
    with pytest.raises(dr.ArchiveError, match="model_metadata.json"):
        dr.check_archive(repack({"agent/model_metadata.json": b"{}"}, drop="model_metadata.json"))
    assert dr.check_archive(repack({"README.txt": b"x"}))["model_file"] == dr.GRAPH_PATH  # .txt: not a model
    for name in ("my.model.tar.gz", "my model.tar.gz", "model.zip"):
        with pytest.raises(dr.ArchiveError):
            dr.check_name(tmp_path / name)


def test_tensorflow_runs_the_graph_as_onnxruntime_runs_the_model(archive, frames, lapping_run, tmp_path):
    export_onnx(lapping_run, tmp_path / "onnx")
    expected = OnnxPolicy(tmp_path / "onnx").probabilities_or_means(frames[:200])
    got = run_graph(graph_of(archive), frames[:200])
    assert np.abs(got - expected).max() < 1e-4


@pytest.mark.parametrize("network,discrete", [("DEEP_CONVOLUTIONAL_NETWORK_SHALLOW", True),
                                              ("DEEP_CONVOLUTIONAL_NETWORK", True), ("RACER_SMALL", False)])
def test_every_network_and_the_continuous_head_export(network, discrete, frames):
    """Untrained weights of each network (the graph's structure is what is checked)."""
    import torch

    from racer_agent.env.actions import ActionSpace
    from racer_agent.training.networks import ARCHITECTURES, ActorCritic

    torch.manual_seed(0)
    actions = ActionSpace.from_spec(None if discrete else {"steering_angle": {"low": -30, "high": 30},
                                                           "speed": {"low": 0.5, "high": 2.0}})
    model = ActorCritic(ARCHITECTURES[network], (120, 160, 1), len(actions.table) if discrete else None)
    with torch.no_grad():  # a spread of outputs, not the near-uniform start
        model.actor_head.weight.mul_(100.0)
    pb = dr.graph_def(model, (120, 160, 1))
    with torch.no_grad():
        expected = model.actor(torch.from_numpy(frames[:20]))
        expected = torch.softmax(expected, -1) if discrete else expected
    assert np.abs(run_graph(pb, frames[:20]) - expected.numpy()).max() < 1e-4


def agreement(got: np.ndarray, reference: np.ndarray) -> tuple[float, float, float]:
    """(share of frames with the same action, the same share where the reference's top two differ
    by more than TIE, the largest difference in any output)."""
    top2 = np.sort(reference, 1)[:, -2:]
    decided = top2[:, 1] - top2[:, 0] > TIE
    same = got.argmax(1) == reference.argmax(1)
    return float(same.mean()), float(same[decided].mean()), float(np.abs(got - reference).max())


TIE = 1e-4  # probabilities closer than this are a tie: any change of precision may break it either way


def test_openvino_and_tflite_convert_it_and_choose_the_same_actions(archive, frames, tmp_path):
    """As the community car converts at load time: OpenVINO (FP16 weights) and TFLite (float16
    quantisation) from the frozen graph. Each picks TensorFlow's action on >= 99.9 % of the frames
    where TensorFlow's choice is not a tie, and on >= 99.5 % of all (measured with the lapping model:
    99.8 %, the two others ties by 1e-5 and 1e-6); no output differs by 1e-4."""
    ov = pytest.importorskip("openvino")
    pb = graph_of(archive)
    reference = run_graph(pb, frames)
    (tmp_path / "model.pb").write_bytes(pb)

    model = ov.convert_model(str(tmp_path / "model.pb"))
    ov.save_model(model, str(tmp_path / "model.xml"), compress_to_fp16=True)
    # the car's Atom computes in f32 (FP16 weights widened); this machine's CPU would pick bf16 by itself
    compiled = ov.Core().compile_model(str(tmp_path / "model.xml"), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    all_frames, decided, diff = agreement(np.concatenate([compiled(f[None])[0] for f in frames]), reference)
    assert all_frames >= 0.995 and decided >= 0.999 and diff < 1e-4, (all_frames, decided, diff)

    converter = tf.compat.v1.lite.TFLiteConverter.from_frozen_graph(
        str(tmp_path / "model.pb"), [dr.INPUT_NAME], [dr.OUTPUT_NAME], {dr.INPUT_NAME: [1, 120, 160, 1]})
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    interpreter = tf.lite.Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()
    into, out = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]
    outputs = []
    for f in frames:
        interpreter.set_tensor(into, f[None])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(out))
    all_frames, decided, diff = agreement(np.concatenate(outputs), reference)
    assert all_frames >= 0.995 and decided >= 0.999 and diff < 1e-4, (all_frames, decided, diff)


MO_VENV = Path(__file__).resolve().parents[1] / ".venv-mo2021"


@pytest.mark.skipif(not (MO_VENV / "bin" / "mo").exists(), reason="the stock car's converter (setup.sh --test)")
def test_the_stock_cars_model_optimizer_converts_it_and_its_engine_chooses_the_same_actions(archive, frames, tmp_path):
    """The stock car's own path, as near as it can be had: OpenVINO 2021.4.2's Model Optimizer on
    Python 3.8 with the car's arguments (FP16, fusing off, scale 1, the input named and shaped;
    the car has 2021.1), then its Inference Engine fed NCHW raw grey frames as the car's node feeds them."""
    pb = tmp_path / "model.pb"
    pb.write_bytes(graph_of(archive))
    converted = subprocess.run([str(MO_VENV / "bin" / "mo"), "--framework", "tf", "--input_model", str(pb),
                                "--output_dir", str(tmp_path), "--model_name", "model", "--data_type", "FP16",
                                "--disable_fusing", "--disable_gfusing", "--scale", "1", "--input", dr.INPUT_NAME,
                                "--input_shape", "[1,120,160,1]"], capture_output=True, text=True, timeout=300)
    assert converted.returncode == 0 and "Generated IR version 10 model" in converted.stdout, \
        converted.stdout[-2000:] + converted.stderr[-2000:]
    np.save(tmp_path / "frames.npy", frames)
    inferred = subprocess.run([str(MO_VENV / "bin" / "python"), str(Path(__file__).with_name("openvino2021_infer.py")),
                               str(tmp_path / "model.xml"), str(tmp_path / "frames.npy"), str(tmp_path / "out.npy")],
                              capture_output=True, text=True, timeout=300)
    assert inferred.returncode == 0, inferred.stderr[-2000:]
    all_frames, decided, diff = agreement(np.load(tmp_path / "out.npy"), run_graph(pb.read_bytes(), frames))
    assert all_frames >= 0.995 and decided >= 0.999 and diff < 1e-4, (all_frames, decided, diff)


def test_without_the_extra_the_command_says_how_to_get_it(lapping_run, tmp_path):
    code = ("import sys; sys.modules['tensorflow'] = None\n"
            "from racer_sim.cli import main\n"
            f"sys.exit(main(['export', {str(lapping_run)!r}, '--format', 'deepracer', "
            f"'--out', {str(tmp_path / 'm.tar.gz')!r}]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "racer_agent[deepracer-export]" in done.stderr
    assert not (tmp_path / "m.tar.gz").exists()
