"""`racer tracks import` and `racer tracks fetch` fill the user's track library; every racer command
then takes the route's name. fetch runs against a real HTTP server on loopback serving route files."""

import functools
import http.server
import shutil
import subprocess
import sys
import threading
from urllib.parse import urlparse

import numpy as np
import pytest
from conftest import SHARED_TRACKS

from racer_core.builtin_tracks import load
from racer_core.track import Track, TrackError
from racer_core.track_library import DEFAULT_BASE_URL

RACER = [sys.executable, "-m", "racer_sim.cli"]


@pytest.fixture
def library(tmp_path, monkeypatch):
    folder = tmp_path / "library"
    monkeypatch.setenv("RACER_TRACKS", str(folder))
    return folder


@pytest.fixture
def route_server(tmp_path):
    """A copy of the shared route files, plus a broken one, served on 127.0.0.1."""
    if not SHARED_TRACKS.is_dir():
        pytest.skip("no shared route files")
    root = tmp_path / "served"
    routes_path = urlparse(DEFAULT_BASE_URL).path  # the community simulator's layout, under its own path
    assert routes_path.endswith("/deepracer-simapp/master/bundle/routes"), routes_path
    served = root / routes_path.lstrip("/")
    served.mkdir(parents=True)
    for name in ("reinvent_base", "Oval_track"):
        shutil.copy(SHARED_TRACKS / f"{name}.npy", served)
    (served / "broken.npy").write_bytes(b"not a numpy file")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}{routes_path}"
    server.shutdown()
    server.server_close()


def test_fetch_checks_and_stores_then_the_name_works_everywhere(library, route_server, tmp_path):
    out = subprocess.run([*RACER, "tracks", "fetch", "reinvent_base", "Oval_track", "--base-url", route_server],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in library.iterdir()) == ["Oval_track.npy", "reinvent_base.npy"]
    fetched = load("reinvent_base")
    original = Track.from_route_file(SHARED_TRACKS / "reinvent_base.npy")
    np.testing.assert_array_equal(fetched.to_array(), original.to_array())
    listing = subprocess.run([*RACER, "tracks", "list"], capture_output=True, text=True, timeout=60).stdout
    assert "reinvent_base" in listing and "Oval_track" in listing
    world = subprocess.run([*RACER, "gazebo", "world", "Oval_track", "--out", str(tmp_path / "world")],
                           capture_output=True, text=True, timeout=300)
    assert world.returncode == 0, world.stderr
    assert (tmp_path / "world" / "world.sdf").is_file()


def test_fetch_refuses_a_broken_or_missing_route_and_stores_nothing(library, route_server):
    for name, problem in (("broken", "not a usable route file"), ("no_such_route", "download failed")):
        out = subprocess.run([*RACER, "tracks", "fetch", name, "--base-url", route_server],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 2 and problem in out.stderr, out.stderr
    assert not library.exists() or not any(library.glob("*.npy"))
    with pytest.raises(TrackError, match="racer tracks import"):
        load("broken")


def test_an_empty_library_says_how_to_fill_it(library):
    listing = subprocess.run([*RACER, "tracks", "list"], capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0 and "0 route(s)" in listing.stdout
    assert "racer tracks fetch" in listing.stdout and "racer tracks import" in listing.stdout


def test_import_a_folder_like_a_simapp_checkout(library, tmp_path):
    if not SHARED_TRACKS.is_dir():
        pytest.skip("no shared route files")
    checkout = tmp_path / "deepracer-simapp" / "bundle" / "deepracer_simulation_environment" / "routes"
    checkout.mkdir(parents=True)
    for name in ("China_track", "Bowtie_track"):
        shutil.copy(SHARED_TRACKS / f"{name}.npy", checkout)
    out = subprocess.run([*RACER, "tracks", "import", str(tmp_path / "deepracer-simapp")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert load("China_track").length == pytest.approx(Track.from_route_file(checkout / "China_track.npy").length)
    (checkout / "bad.npy").write_bytes(b"junk")
    again = subprocess.run([*RACER, "tracks", "import", str(checkout)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "bad.npy" in again.stderr
    assert not (library / "bad.npy").exists()
