"""Headless Chromium (Debian's `chromium`) driven over the DevTools protocol on a pipe, to read a live
page's state and take its screenshot: what the tests, `racer bench scale` (a page watching a run)
and `make pictures` use. The browser reads commands on fd 3 and answers on fd 4, each a
NUL-terminated JSON message, so no WebSocket client is needed.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM = shutil.which("chromium")
# What a browser driven by a program has no use for, as Puppeteer turns it off: its background
# networking, updates and reports. Idle at about:blank they took 0.01 of a core (0.0025 without), work
# that a page watching a run would otherwise be charged for on the run's own cores.
QUIET = ("--disable-background-networking", "--disable-component-update", "--disable-default-apps",
         "--disable-extensions", "--disable-sync", "--no-first-run", "--disable-breakpad", "--mute-audio",
         "--metrics-recording-only")


class HeadlessChromium:
    def __init__(self, width: int = 1300, height: int = 900):
        commands_r, self._commands = os.pipe()  # we write, chromium reads (its fd 3)
        self._answers, answers_w = os.pipe()  # chromium writes (its fd 4), we read
        commands_r, answers_w = (_above_four(fd) for fd in (commands_r, answers_w))
        self.profile = tempfile.mkdtemp(prefix="racer-chromium-")
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", *QUIET, "--remote-debugging-pipe",
                f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "about:blank"]
        # bash puts the pipes on fds 3 and 4, where chromium expects them, then becomes chromium
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$@" 3<&{commands_r} 4>&{answers_w}', "bash", *args],
            pass_fds=(commands_r, answers_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_r)
        os.close(answers_w)
        self._id, self._buffer = 0, b""
        target = next(t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)["sessionId"]

    def call(self, method: str, session: str | None = None, **params) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._answers, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def open(self, url: str) -> None:
        self.call("Page.navigate", self.session, url=url)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", self.session, expression=expression, returnByValue=True)
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return True
            time.sleep(0.25)
        return False

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", self.session, format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def cpu_seconds(self) -> float:
        """CPU time (user and system) of the browser and every process it started, from /proc:
        what it took from the machine it shares with a run."""
        return sum(cpu_seconds(pid) for pid in [self.process.pid, *descendants(self.process.pid)])

    def __enter__(self) -> HeadlessChromium:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        os.close(self._commands)
        os.close(self._answers)
        shutil.rmtree(self.profile, ignore_errors=True)


def cpu_seconds(pid: int) -> float:
    """One process's CPU time (user and system) from /proc; 0 once it has gone."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0  # utime, stime


def descendants(pid: int) -> list[int]:
    """Every process `pid` started, and theirs (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        fields = _stat(int(entry)) if entry.isdigit() else None
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, stack = [], list(children.get(pid, []))
    while stack:
        found.append(stack.pop())
        stack += children.get(found[-1], [])
    return found


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after the command name (state first), or None for a process gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _above_four(fd: int) -> int:
    """The same pipe end on a descriptor above 4, so putting the ends on 3 and 4 cannot clobber one."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high
