"""`racer train --monitor`: racer's live page in headless Chromium against a real training (frames
arrive and change, every car on the track, curves grow, a screenshot), and a client that sends
garbage or goes away does not break the run."""

import socket
import subprocess
import sys

import pytest
from conftest import needs_chromium, wait_for_page

from racer_agent import browser
from racer_agent.monitor import free_port_pair, parse_address


@needs_chromium
def test_live_page_shows_a_real_training_and_survives_bad_clients(tmp_path):
    port = free_port_pair()
    out = tmp_path / "run"
    short = tmp_path / "short.yaml"  # short iterations: the curves grow within seconds
    short.write_text("num_episodes_between_training: 4\n")
    training = subprocess.Popen([sys.executable, "-m", "racer_sim.cli", "train", "--track", "oval", "--cars", "4",
                                 "--config", str(short), "--steps", "6000", "--monitor", f"127.0.0.1:{port}",
                                 "--out", str(out), "--quiet"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    chromium = None
    try:
        wait_for_page(f"http://127.0.0.1:{port + 1}/", training, 90)
        with socket.create_connection(("127.0.0.1", port)) as garbage:  # not even a WebSocket handshake
            garbage.sendall(b"\x00\xffnot a websocket\r\n\r\n" * 10)
        chromium = browser.HeadlessChromium()
        chromium.open(f"http://127.0.0.1:{port + 1}/")
        status = "document.getElementById('status').dataset"
        assert chromium.wait_for(f"Number({status}.frames) >= 3 && Number({status}.changes) >= 1 && "
                                 f"{status}.track === '1' && {status}.cars === '4' && Number({status}.points) >= 2",
                                 timeout=120), chromium.evaluate(f"JSON.stringify({status})")
        assert chromium.evaluate(f"{status}.errors") == "0"
        # what bench scale charges a watching page: the browser's own CPU and its renderer's (a child)
        own = browser.cpu_seconds(chromium.process.pid)  # read first: the whole tree, read after, holds it
        assert own > 0 and len(browser.descendants(chromium.process.pid)) >= 1 and chromium.cpu_seconds() > own
        shot = chromium.screenshot(tmp_path / "live.png")
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
        chromium.close()  # the page goes away mid-run
        chromium = None
        _, err = training.communicate(timeout=300)
    finally:
        if chromium is not None:
            chromium.close()
        if training.poll() is None:
            training.kill()
    assert training.returncode == 0, err[-3000:]
    assert (out / "model" / "model.onnx").is_file()


def test_monitor_address_is_checked():
    assert parse_address("8765") == ("127.0.0.1", 8765)
    assert parse_address("0.0.0.0:9000") == ("0.0.0.0", 9000)
    for bad in ("host:port", "65535", "0"):
        with pytest.raises(ValueError, match="--monitor"):
            parse_address(bad)
