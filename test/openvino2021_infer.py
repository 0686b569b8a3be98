"""Run an IR with OpenVINO 2021.4's Inference Engine as the stock car's inference node does: the
input NCHW [1, 1, 120, 160] of raw 0-255 grey values, the first output read. Python 3.8, run by
test_deepracer_export.py in .venv-mo2021: python openvino2021_infer.py MODEL.xml FRAMES.npy OUT.npy"""

import sys

import numpy as np
from openvino.inference_engine import IECore

xml, frames_npy, out_npy = sys.argv[1:4]
ie = IECore()
net = ie.read_network(model=xml, weights=xml[:-4] + ".bin")
name = next(iter(net.input_info))
assert list(net.input_info[name].input_data.shape) == [1, 1, 120, 160], net.input_info[name].input_data.shape
# this machine's CPU would compute in bf16, which the car's Atom cannot: f32, as on the car
executable = ie.load_network(net, "CPU", {"ENFORCE_BF16": "NO"})
frames = np.load(frames_npy)  # (N, 120, 160, 1)
outputs = [next(iter(executable.infer({name: f.transpose(2, 0, 1)[None]}).values()))[0] for f in frames]
np.save(out_npy, np.array(outputs))
print(name)
