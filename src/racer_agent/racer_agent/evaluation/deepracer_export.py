"""`racer export RUN --format deepracer`: the `model.tar.gz` a DeepRacer car's web page takes.

The car's loader keeps exactly two things of an upload: `model_metadata.json` from the archive's
root and the one frozen TensorFlow graph (`.pb`) it finds anywhere inside; it refuses an archive
with no model file or several, and (its extension test being a substring test) a file with no
extension counts as a model file too. At load time the stock car converts the graph with OpenVINO
2021.1's Model Optimizer (FP16, fusing off, scale 1, the input named and shaped), the community car
with TFLite or OpenVINO 2024; both feed the raw 0-255 grey frame and read the graph's one output.

So the graph is racer's actor rebuilt in TensorFlow's graph mode from the trained weights, with
DeepRacer's tensor names, the /255 scaling and racer's block-averaging inside it, and only the ops
every converter knows (Placeholder, Mul, AvgPool, Conv2D, BiasAdd, Relu, Reshape, MatMul, Softmax or
Tanh, Const). Weights are constants from the start, so the graph is frozen as built. TensorFlow
is an optional extra (`racer_agent[deepracer-export]`); nothing else in racer imports it.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import torch

from racer_agent.evaluation import model_metadata
from racer_agent.evaluation.policy import TorchPolicy, load
from racer_agent.training.networks import ActorCritic, Trunk

INPUT_NAME = "main_level/agent/main/online/network_0/FRONT_FACING_CAMERA/FRONT_FACING_CAMERA"
OUTPUT_NAME = "main_level/agent/main/online/network_1/ppo_head_0/policy"
GRAPH_PATH = "agent/model.pb"  # where DeepRacer's own training leaves it; the loader looks anywhere
MODEL_EXTENSION = ".pb"
EXTRA = "racer_agent[deepracer-export]"


class ArchiveError(ValueError):
    """An archive the car's loader would refuse, with the loader's reason."""


def _tensorflow():
    try:
        import tensorflow as tf
    except ImportError:
        raise RuntimeError(f"--format deepracer builds a TensorFlow graph: install the extra with "
                           f"`pip install '{EXTRA}'` (bash scripts/setup.sh --deepracer-export)") from None
    return tf


def graph_def(model: ActorCritic, frame_shape: tuple[int, int, int]) -> bytes:
    """The actor as a frozen TensorFlow GraphDef: raw 0-255 NHWC frame in, softmax over the actions
    (discrete) or the (steering, speed) mean in [-1, 1] (continuous) out."""
    tf = _tensorflow()
    v1 = tf.compat.v1
    h, w, c = frame_shape
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [1, h, w, c], name=INPUT_NAME)
        x = tf.multiply(x, np.float32(1.0 / 255.0), name="main_level/agent/main/online/network_0/rescale")
        d = model.arch.downscale
        if d > 1:
            x = tf.nn.avg_pool2d(x, d, d, "VALID", name="main_level/agent/main/online/network_0/downscale")
        features = _trunk(tf, x, model.actor_trunk)
        head = model.actor_head
        out = _matmul(tf, features, head.weight.detach().numpy(), head.bias,
                      "main_level/agent/main/online/network_1/ppo_head_0/policy_fc")
        (tf.nn.softmax if model.discrete else tf.tanh)(out, name=OUTPUT_NAME)
    return graph.as_graph_def().SerializeToString()


def _trunk(tf, x, trunk: Trunk):
    """Convolutions (torch OIHW -> TF HWIO), then the dense layers; the flatten in between keeps
    torch's channel-first order by permuting the first dense layer's rows, not the activations."""
    scope = "main_level/agent/main/online/network_0/FRONT_FACING_CAMERA"
    convs = [m for m in trunk.convs if isinstance(m, torch.nn.Conv2d)]
    for i, conv in enumerate(convs):
        kernel = conv.weight.detach().numpy().transpose(2, 3, 1, 0)
        x = tf.nn.conv2d(x, kernel, conv.stride[0], "VALID", name=f"{scope}/Conv2d_{i}/conv")
        x = tf.nn.relu(tf.nn.bias_add(x, conv.bias.detach().numpy()), name=f"{scope}/Conv2d_{i}/relu")
    _, fh, fw, fc = x.shape
    x = tf.reshape(x, [1, fh * fw * fc], name=f"{scope}/flatten")
    linears = [m for m in trunk.dense if isinstance(m, torch.nn.Linear)]
    for i, linear in enumerate(linears):
        weight = linear.weight.detach().numpy()
        if i == 0:  # rows in (C, H, W) order, as torch flattened them -> (H, W, C), as TF does
            weight = weight.reshape(-1, fc, fh, fw).transpose(0, 2, 3, 1).reshape(weight.shape[0], -1)
        x = tf.nn.relu(_matmul(tf, x, weight, linear.bias, f"main_level/agent/main/online/network_1/dense_{i}"))
    return x


def _matmul(tf, x, weight: np.ndarray, bias: torch.Tensor, name: str):
    return tf.nn.bias_add(tf.matmul(x, np.ascontiguousarray(weight.T)), bias.detach().numpy(), name=name)


def export_archive(source: str | Path | TorchPolicy, out: str | Path) -> dict:
    """`NAME.tar.gz` with model_metadata.json at its root and the graph at agent/model.pb; checked
    by the loader's rules before it is returned."""
    policy = source if isinstance(source, TorchPolicy) else load(source)
    if not isinstance(policy, TorchPolicy):
        raise ValueError(f"{source} is an exported model: --format deepracer needs the run (its trained weights)")
    out = Path(out)
    check_name(out)
    frame_shape = model_metadata.frame_shape(policy.metadata)
    if frame_shape[2] != 1:
        raise ValueError(f"the car feeds one grey channel; this model takes {frame_shape[2]} "
                         "(train with a grey camera)")
    graph = graph_def(policy.model, frame_shape)
    meta = json.dumps(policy.metadata, indent=2).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w:gz") as tar:
        for name, data in ((model_metadata.FILENAME, meta), (GRAPH_PATH, graph)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    found = check_archive(out)
    return {"archive": str(out), "graph": GRAPH_PATH, "graph_bytes": len(graph), "input": INPUT_NAME,
            "output": OUTPUT_NAME, **found}


def check_name(path: Path) -> str:
    """The car names a model by its file name up to the first dot (spaces made `_`) and its upload
    folder by the name less `.tar.gz`: only a name with neither dots nor spaces is the same in both."""
    if not path.name.endswith(".tar.gz"):
        raise ArchiveError(f"{path.name}: the car's page takes only a .tar.gz file")
    name = path.name[: -len(".tar.gz")]
    if not name or "." in name or " " in name:
        raise ArchiveError(f"{path.name}: use a name without dots or spaces (the car would install it as "
                           f"{name.split('.')[0].replace(' ', '_')!r} in one place and {name!r} in another)")
    return name


def check_archive(path: str | Path) -> dict:
    """What the car's loader does with the archive: exactly one model file (an extension that is a
    substring of ".pb", which an extension-less file's empty one is), model_metadata.json at the
    root. Returns the model file and the metadata's action space."""
    with tarfile.open(path, "r:gz") as tar:
        files = [m.name for m in tar.getmembers() if m.isfile()]
        models = [f for f in files if Path(f).suffix in MODEL_EXTENSION]  # the loader's own test
        if len(models) != 1:
            raise ArchiveError(f"{path}: the car finds {len(models)} model files ({models}); it needs exactly one .pb")
        if model_metadata.FILENAME not in files:
            raise ArchiveError(f"{path}: no {model_metadata.FILENAME} at the archive's root")
        meta = json.loads(tar.extractfile(model_metadata.FILENAME).read())
    for key in ("action_space", "sensor"):
        if key not in meta:
            raise ArchiveError(f"{path}: {model_metadata.FILENAME} has no {key}")
    return {"model_file": models[0], "action_space_type": meta.get("action_space_type", "discrete"),
            "actions": len(meta["action_space"]) if isinstance(meta["action_space"], list) else 2}
