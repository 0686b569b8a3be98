"""Test-wide settings: DDS stays on this machine, each run on its own domain; shared reference data."""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

# Before anything can start rclpy: discovery on loopback only, and a domain of this run's own.
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("ROS_DOMAIN_ID", str(os.getpid() % 90 + 10))
# pytest-xdist's workers (gw0, gw1, ...) start the same node names and topics at once: a domain each.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
os.environ["ROS_DOMAIN_ID"] = str((int(os.environ["ROS_DOMAIN_ID"]) + int(_WORKER[2:] or 0)) % 100 + 1)
# Ray (test_distributed, test_sweep) likewise: its clusters listen and connect on 127.0.0.1 only.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"

ROOT = Path(__file__).resolve().parents[1]
SHARED_TRACKS = ROOT.parent / "shared" / "deepracer_tracks"
# Reference laps the suite would otherwise solve with IPOPT on every run (minutes of it), stored once.
# Each carries the solver's digest and is only served to that solver; test_reference_lap.py solves a
# representative set for real on every run and checks them against these.
STORED_REFERENCE_LAPS = ROOT / "test" / "fixtures" / "reference_laps"

# The tests' own cache, never the user's ~/.cache/racer: the stored solutions, and whatever this run adds.
CACHE = Path(tempfile.mkdtemp(prefix="racer-test-cache-"))
for stored in STORED_REFERENCE_LAPS.glob("reference-*.npz"):
    shutil.copy(stored, CACHE)
os.environ["RACER_CACHE"] = str(CACHE)
atexit.register(shutil.rmtree, CACHE, ignore_errors=True)


def pytest_sessionfinish(session, exitstatus):
    """RACER_STORE_REFERENCE_LAPS=1 (`make store-reference-laps`): keep what this run solved as the
    stored set (each answer is the solver's whatever else failed; every xdist worker adds its own)."""
    if os.environ.get("RACER_STORE_REFERENCE_LAPS") == "1":
        STORED_REFERENCE_LAPS.mkdir(parents=True, exist_ok=True)
        for solved in CACHE.glob("reference-*.npz"):
            shutil.copy(solved, STORED_REFERENCE_LAPS)


def pytest_collection_finish(session):
    """The heavy fixtures (a trained model, a colcon workspace) are built once per group only if xdist
    really groups: pytest 9.2 broke that silently (pytest-xdist#1386), so a lost group stops the run."""
    if not getattr(session.config.option, "loadgroup", False):  # set on xdist's workers under --dist loadgroup
        return
    lost = [item.nodeid for item in session.items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:  # said on stderr too: xdist reports a worker's collection error only as its own assertion
        message = f"--dist loadgroup is not grouping ({lost[0]} has no @group suffix): pytest version?"
        print(message, file=sys.stderr)
        raise pytest.UsageError(message)


@pytest.fixture(scope="session")
def route_files() -> list[Path]:
    files = sorted(SHARED_TRACKS.glob("*.npy"))
    if not files:
        pytest.skip(f"DeepRacer route files not found in {SHARED_TRACKS}")
    return files


@pytest.fixture(scope="session")
def reinvent_base() -> Path:
    path = SHARED_TRACKS / "reinvent_base.npy"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path


# A run that laps the oval, trained, evaluated and exported as `racer train` leaves it. The car's
# tests drive its model and `racer analyze`'s tests read its logs: both modules are in the xdist
# group "lapping_run", so it is trained once per test run. Its action space is the 1-2 m/s one:
# a model of it laps the real-time DeepRacer emulator reliably (DDS latency costs more at 4 m/s).
LAPPING_ACTIONS = [{"steering_angle": a, "speed": v} for v in (1.0, 2.0) for a in (-30.0, -15.0, 0.0, 15.0, 30.0)]


@pytest.fixture(scope="session")
def lapping_run(tmp_path_factory) -> Path:
    import json
    import subprocess

    out = tmp_path_factory.mktemp("lapping") / "run"
    actions = out.parent / "actions.json"
    actions.write_text(json.dumps({"action_space": LAPPING_ACTIONS, "action_space_type": "discrete"}))
    # a sample budget, not a wall-clock one: the same model on a quiet or a busy machine
    subprocess.run([str(Path(sys.executable).parent / "racer"), "train", "--track", "oval", "--steps", "80000",
                    "--seed", "0", "--quiet", "--actions", str(actions), "--out", str(out)],
                   check=True, capture_output=True, timeout=300)
    return out


def wait_for_page(url: str, process: subprocess.Popen, timeout: float) -> None:
    """Until the live view's page at `url` answers (a process that ends first fails the test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def chromium_missing() -> bool:
    from racer_agent import browser

    return browser.CHROMIUM is None


needs_chromium = pytest.mark.skipif(chromium_missing(), reason="Debian's chromium (scripts/setup.sh --test)")


LIVE_STATUS = "document.getElementById('status').dataset"
ONE_CAR_DRIVING = (f"Number({LIVE_STATUS}.frames) >= 3 && Number({LIVE_STATUS}.changes) >= 1 && "
                   f"{LIVE_STATUS}.track === '1' && {LIVE_STATUS}.cars === '1'")


def run_watched(cmd: list[str], port: int, condition: str = ONE_CAR_DRIVING, page_timeout: float = 60,
                run_timeout: float = 240) -> subprocess.CompletedProcess:
    """Run a command started with `--monitor PORT`, open its live page in headless Chromium while it
    runs and assert `condition` (JavaScript on the page) becomes true; then let it finish."""
    from racer_agent import browser

    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_page(f"http://127.0.0.1:{port + 1}/", process, 60)
        with browser.HeadlessChromium() as page:
            page.open(f"http://127.0.0.1:{port + 1}/")
            assert page.wait_for(condition, timeout=page_timeout), page.evaluate(f"JSON.stringify({LIVE_STATUS})")
        stdout, stderr = process.communicate(timeout=run_timeout)
    finally:
        if process.poll() is None:
            process.kill()
    return subprocess.CompletedProcess(cmd, process.returncode, stdout, stderr)
