"""Camera images to the numbers a racer model reads. Python 3.8 and numpy only: this runs on the car.

The model's own model_metadata.json says what it was trained on (height, width, channels and the
grey weights the simulator rendered with), so the conversion here follows the model, not the camera.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

CHANNELS = {"mono8": 1, "8UC1": 1, "rgb8": 3, "bgr8": 3, "8UC3": 3}


class ImageError(ValueError):
    """An image a racer node cannot read (encoding, size or row layout)."""


def image_array(msg) -> np.ndarray:
    """(H, W, C) uint8 view of a sensor_msgs/Image's pixels, row padding (`step` > width x channels) skipped.

    Raises ImageError for an encoding racer does not read or data that does not fit the header.
    """
    channels = CHANNELS.get(msg.encoding)
    if channels is None:
        raise ImageError("unsupported image encoding {!r} (racer reads {})".format(msg.encoding, ", ".join(CHANNELS)))
    row = msg.width * channels
    if msg.step < row or len(msg.data) < msg.step * msg.height or msg.height == 0 or msg.width == 0:
        raise ImageError(f"malformed {msg.encoding} image: {msg.width}x{msg.height}, step {msg.step}, "
                         f"{len(msg.data)} bytes")
    rows = np.frombuffer(msg.data, np.uint8, count=msg.step * msg.height).reshape(msg.height, msg.step)
    return rows[:, :row].reshape(msg.height, msg.width, channels)


def model_input(frame: np.ndarray, encoding: str, shape: Sequence[int],
                grey_weights: Optional[Sequence[float]], out: Optional[np.ndarray] = None) -> np.ndarray:
    """One camera frame (H, W, C) as the model's (1, H, W, C) float32 input of raw 0-255 values.

    Colour frames become grey with the weights the model was trained with (R, G, B order); bgr8 is
    reordered first. The model scales and downsamples inside its graph. A frame of another size is
    refused: resizing would change what the network sees, so the camera must be set up to match.
    """
    _, height, width, channels = shape
    if frame.shape[:2] != (height, width):
        raise ImageError(f"camera sends {frame.shape[1]}x{frame.shape[0]} pictures, the model needs {width}x{height}")
    if out is None:
        out = np.empty((1, height, width, channels), np.float32)
    if channels == 1 and frame.shape[2] == 1:
        out[0] = frame
    elif channels == 1:
        w = np.asarray(grey_weights if grey_weights is not None else (0.299, 0.587, 0.114), np.float32)
        if encoding == "bgr8":
            w = w[::-1]
        np.dot(frame, w, out=out[0, :, :, 0])
        np.rint(out, out=out)  # the simulator renders grey as whole numbers; so does the car's BGR2GRAY
    elif frame.shape[2] == 3:
        out[0] = frame[:, :, ::-1] if encoding == "bgr8" else frame
    else:
        raise ImageError(f"a {encoding} image cannot feed a colour model")
    return out
