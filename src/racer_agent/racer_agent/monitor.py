"""Watch a run live: a WebSocket server speaking the Foxglove protocol (foxglove-sdk), so Foxglove
or Lichtblick connect to a training as they would to a robot, and a page of racer's own served by
the same process, for any browser with nothing installed.

Channels: `/camera` (foxglove.CompressedImage, JPEG of the chosen car's camera), and JSON channels
the page reads: `/racer/camera` (the same JPEG, base64), `/racer/cars` (every car's pose),
`/racer/track` (borders and centre line, repeated so a late client gets it), `/racer/episodes`
(the episodes finished since the last message, as `rows`, with the next picture) and
`/racer/curves` (each iteration's row of iterations.csv).

The server runs in foxglove-sdk's own threads; a client that disconnects or sends garbage is its
business, never the run's. Pictures and poses go out at most `hz` times a second and each only
while a client subscribes to it, so a run nobody watches pays a clock read a step and, `hz` times
a second, one gathering of the cars' poses.
"""

from __future__ import annotations

import base64
import functools
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np

from racer_core.track import Track

FRAME_HZ = 10.0  # driving watched in real time (evaluate, drive, the sim node)
TRAINING_HZ = 1.0  # training: its simulator runs tens of times faster than real time, so its pictures
# are snapshots either way, and each one costs a viewer on the training's own cores: racer's page in
# Chromium beside a training on 2 cores cost it 12 % at 2 pictures a second, 0.2 % at 1 (bench scale)
TRACK_EVERY_S = 2.0
PAGE = Path(__file__).with_name("monitor_page.html")
DEFAULT_ADDRESS = "127.0.0.1:8765"


def open_monitor(address: str, track: Track | None = None, hz: float = FRAME_HZ) -> Monitor:
    """The live view at `address`, its addresses printed for the user."""
    live = Monitor(address, track, hz=hz)
    print(f"racer: live view at {live.url} (Foxglove / Lichtblick: ws://{live.host}:{live.port})", flush=True)
    return live


def parse_address(address: str) -> tuple[str, int]:
    """`[HOST:]PORT` -> (host, port); loopback unless a host is named."""
    host, _, port = address.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"--monitor wants [HOST:]PORT, got {address!r}") from None
    if not 0 < number < 65535:
        raise ValueError(f"--monitor port must lie in 1..65534 (the page takes the next one), got {number}")
    return host or "127.0.0.1", number


def free_port_pair(host: str = "127.0.0.1") -> int:
    """A port whose next one is free too (the page's), for a monitor that needs no fixed address."""
    for _ in range(50):
        with socket.socket() as first, socket.socket() as second:
            first.bind((host, 0))
            port = first.getsockname()[1]
            try:
                second.bind((host, port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no free pair of ports")


class Monitor:
    """The live view of one run: `cars` every step, `episode` and `iteration` as they happen."""

    def __init__(self, address: str, track: Track | None = None, car: int = 0, name: str = "racer",
                 hz: float = FRAME_HZ):
        import foxglove
        from foxglove.channels import CompressedImageChannel

        self.host, self.port = parse_address(address)
        self.car = car
        self.hz = hz
        self.server = foxglove.start_server(name=name, host=self.host, port=self.port)
        self.page = ThreadingHTTPServer((self.host, self.port + 1), functools.partial(_PageHandler, self.port, hz))
        threading.Thread(target=self.page.serve_forever, daemon=True, name="racer-monitor-page").start()
        self._image = CompressedImageChannel("/camera")
        self._json = {topic: foxglove.Channel(f"/racer/{topic}") for topic in
                      ("camera", "cars", "track", "episodes", "curves")}
        self._track: dict | None = None
        self._shown: Track | None = None
        self._next_frame = self._next_track = 0.0
        self._episodes: list[dict] = []  # finished since the last message, sent with the next frame
        if track is not None:
            self.show_track(track)

    def show_track(self, track: Track) -> None:
        """The track the cars are on (an evaluation of several tracks changes it)."""
        if track is self._shown:
            return
        self._shown = track
        self._track = {"center": _round(track.center), "inner": _round(track.inner), "outer": _round(track.outer),
                       "name": track.name}
        self._next_track = 0.0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port + 1}/"

    def due(self) -> bool:
        """Whether the next `cars` would be shown (at most `hz` times a second): asked first, so
        a step between two pictures costs a clock read and nothing is gathered for it."""
        return time.monotonic() >= self._next_frame

    def cars(self, frames: np.ndarray, states: np.ndarray) -> None:
        """Every car's pose and the chosen car's picture, at most `hz` times a second."""
        now = time.monotonic()
        if now < self._next_frame:
            return
        self._next_frame = now + 1.0 / self.hz
        self._send_episodes()
        if self._track is not None and now >= self._next_track and self._json["track"].has_sinks():
            self._next_track = now + TRACK_EVERY_S
            self._json["track"].log(self._track)
        if self._json["cars"].has_sinks():
            self._json["cars"].log({"x": _round(states[:, 0]), "y": _round(states[:, 1]),
                                    "yaw": _round(states[:, 2]), "car": self.car})
        if self._image.has_sinks() or self._json["camera"].has_sinks():
            frame = frames[self.car]
            ok, jpeg = cv2.imencode(".jpg", frame[..., 0] if frame.shape[-1] == 1 else frame[..., ::-1])  # RGB -> BGR
            if ok:
                data = jpeg.tobytes()
                self._json["camera"].log({"jpeg": base64.b64encode(data).decode(), "mean": float(frame.mean())})
                self._log_image(data)

    def episode(self, row: dict) -> None:
        if self._json["episodes"].has_sinks():
            self._episodes.append(_plain(row))

    def iteration(self, row: dict) -> None:
        self._send_episodes()
        self._json["curves"].log(_plain(row))

    def close(self) -> None:
        self._send_episodes()
        self.page.shutdown()
        self.page.server_close()
        self.server.stop()

    def _send_episodes(self) -> None:
        """One message for all the episodes that finished since the last: an iteration ends dozens at
        once, and a message each made the browser beside the run do as much work, each."""
        if self._episodes:
            self._json["episodes"].log({"rows": self._episodes})
            self._episodes = []

    def _log_image(self, data: bytes) -> None:
        from foxglove.messages import CompressedImage

        self._image.log(CompressedImage(data=data, format="jpeg", frame_id="camera_optical_frame"))


class LiveLaps:
    """An evaluation shown live (`racer evaluate --monitor`): a step listener of `drive_laps`, paced
    to `real_time_factor` so that what the embedded simulator drives in a second can be watched."""

    def __init__(self, monitor: Monitor, real_time_factor: float = 1.0):
        self.monitor = monitor
        self.real_time_factor = real_time_factor
        self._start: float | None = None

    def car_step(self, race, car: int, command: np.ndarray) -> None:
        if car != race.num_cars - 1:  # once a step, when every car has been judged
            return
        if self._start is None:
            self._start = time.monotonic() - float(race.sim_time.max()) / self.real_time_factor
        ahead = self._start + float(race.sim_time.max()) / self.real_time_factor - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        if self.monitor.due():
            self.monitor.show_track(race.track)
            self.monitor.cars(race.frames, race.sim.state)

    def evaluated(self, summary: dict) -> None:
        """Each lap of a finished evaluation, as an episode; the next evaluation starts its own clock."""
        for i, lap in enumerate(summary["laps"]):
            self.monitor.episode({"episode": i, "track": summary["track"], "direction": summary["direction"], **lap})
        self._start = None


class _PageHandler(BaseHTTPRequestHandler):
    """Serves the page at /, nothing else, with the WebSocket's port filled in and the monitor's rate
    as the page's: it draws no more often than pictures come."""

    def __init__(self, ws_port: int, hz: float, *args, **kwargs):
        self.ws_port = ws_port
        self.draw_ms = round(1000.0 / hz)
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # http.server calls it by this name
        if self.path not in ("/", "/index.html"):
            self.send_error(404)
            return
        body = PAGE.read_text().replace("__WS_PORT__", str(self.ws_port)).replace("__DRAW_MS__", str(self.draw_ms))
        body = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # a page load is not news on the run's terminal
        pass


def _round(values: np.ndarray) -> list:
    return np.round(np.asarray(values, float), 3).tolist()


def _plain(row: dict) -> dict:
    """A CSV row as JSON: numbers as numbers, the rest as text, nothing nested."""
    out = {}
    for key, value in row.items():
        if isinstance(value, (bool, int, float, str)) or value is None:
            out[key] = value
        elif isinstance(value, np.generic):
            out[key] = value.item()
    return out
