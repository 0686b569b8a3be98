"""`racer deploy RUN --target deepracer`: one archive with everything the car needs and nothing it
does not: the exported model, racer_inference's source (numpy + onnxruntime + ROS messages, Python
3.8), a launch file for the car's ROS 2 Foxy, and install.sh / start.sh for Ubuntu 20.04."""

from __future__ import annotations

import io
import tarfile
import tempfile
from pathlib import Path

import racer_inference
from racer_agent.evaluation.export import export
from racer_inference.model import METADATA_FILE, MODEL_FILE

ROOT = "racer-deepracer"
PACKAGE_FILES = ["package.xml", "setup.py", "setup.cfg", "car-requirements.txt", "resource/racer_inference"]
EXECUTABLE = 0o755


def inference_source() -> Path:
    """racer_inference's package directory (package.xml, setup.py, the module): a checkout or an
    editable install has it; the bundle is built from it so the car runs exactly this code."""
    source = Path(racer_inference.__file__).resolve().parents[1]
    if not (source / "setup.py").is_file():
        raise FileNotFoundError(f"racer_inference's source package is not at {source}: racer deploy runs from a "
                                "racer checkout (scripts/setup.sh installs it there in editable mode)")
    return source


def model_files(run: Path, scratch: Path) -> Path:
    """The run's exported model, else an export of its best checkpoint made now."""
    for candidate in (run, run / "model"):
        if (candidate / MODEL_FILE).is_file():
            return candidate
    export(run, scratch / "model")
    return scratch / "model"


def deploy(run: str | Path, target: str, out: str | Path) -> dict:
    if target != "deepracer":
        raise ValueError(f"unknown deploy target {target!r}; racer deploys to: deepracer")
    source, out = inference_source(), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        model = model_files(Path(run), Path(scratch))
        with tarfile.open(out, "w:gz") as tar:
            for name in (MODEL_FILE, METADATA_FILE):
                tar.add(model / name, f"{ROOT}/model/{name}")
            package = f"{ROOT}/src/racer_inference"
            for name in PACKAGE_FILES:
                tar.add(source / name, f"{package}/{name}")
            for module in sorted((source / "racer_inference").glob("*.py")):
                tar.add(module, f"{package}/racer_inference/{module.name}")
            _add(tar, source / "deploy" / "racer_deepracer.launch.py", f"{ROOT}/launch/racer_deepracer.launch.py")
            for script in ("install.sh", "start.sh"):
                _add(tar, source / "deploy" / script, f"{ROOT}/{script}", EXECUTABLE)
            _add(tar, source / "deploy" / "README.txt", f"{ROOT}/README.txt")
    return {"bundle": str(out), "model": str(model / MODEL_FILE), "target": target}


def _add(tar: tarfile.TarFile, path: Path, name: str, mode: int = 0o644) -> None:
    info = tar.gettarinfo(str(path), name)
    info.mode = mode
    with path.open("rb") as f:
        tar.addfile(info, io.BytesIO(f.read()))
