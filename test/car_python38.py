"""Run under the car's Python 3.8 (`.venv38`, the car's numpy and onnxruntime pins) by
test_inference_car.py: import every racer_inference module and the car's launch file, then drive an
exported model on the frames given and print the results as JSON.

ROS 2 has no Python 3.8 wheels here, so the ROS packages these modules import (rclpy, rcl_interfaces,
the message packages, launch, launch_ros) are STAND-INS: modules made on import whose every name is
an inert class. Only importability and racer's own code are tested through them, never ROS.

usage: python3.8 car_python38.py SRC_DIR LAUNCH_FILE MODEL_DIR FRAMES.npy
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import pkgutil
import sys
import types

ROS_STANDINS = ("rclpy", "rcl_interfaces", "sensor_msgs", "std_msgs", "geometry_msgs", "ackermann_msgs",
                "builtin_interfaces", "deepracer_interfaces_pkg", "launch", "launch_ros", "ament_index_python")


class _StandInMeta(type):
    def __getattr__(cls, name):
        return _stand_in_class(name)


def _stand_in_class(name):
    return _StandInMeta(name, (), {"__init__": lambda self, *args, **kwargs: None})


class _StandInModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _stand_in_class(name)


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in ROS_STANDINS:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StandInModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def main(src_dir, launch_file, model_dir, frames_file):
    sys.meta_path.append(_StandInFinder())
    sys.path.insert(0, src_dir)
    import numpy as np

    import racer_inference

    imported = []
    for info in pkgutil.iter_modules(racer_inference.__path__):
        importlib.import_module("racer_inference." + info.name)
        imported.append(info.name)
    spec = importlib.util.spec_from_file_location("racer_deepracer_launch", launch_file)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))

    from racer_inference.model import Model

    model = Model(model_dir)
    frames = np.load(frames_file)
    outputs = [model.outputs(frame[None].astype(np.float32))[0].tolist() for frame in frames]
    commands = [model.drive(frame[None].astype(np.float32)) for frame in frames]
    print(json.dumps({"python": list(sys.version_info[:3]), "numpy": np.__version__,
                      "onnxruntime": importlib.import_module("onnxruntime").__version__,
                      "imported": sorted(imported), "outputs": outputs, "commands": commands}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
