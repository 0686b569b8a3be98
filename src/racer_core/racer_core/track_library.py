"""The user's own track library: DeepRacer route files imported or downloaded once, then named like
built-in tracks (`--track reinvent_base`) by every racer command.

The library is a folder of `.npy` route files (`$RACER_TRACKS`, default `$XDG_DATA_HOME/racer/tracks`,
i.e. ~/.local/share/racer/tracks). A file enters it only after it loads as a track, so a name that
resolves always names a usable route.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
import warnings
from pathlib import Path

from racer_core.track import Track, TrackError

# The community simulator's route files (Apache-2.0); `racer tracks fetch --base-url` or
# $RACER_TRACKS_URL points elsewhere (a mirror, a fork, a local server).
# The repository's default branch is master and its route files lie at bundle/routes/<NAME>.npy.
DEFAULT_BASE_URL = "https://raw.githubusercontent.com/aws-deepracer-community/deepracer-simapp/master/bundle/routes"
EMPTY_HINT = ("no routes yet: `racer tracks fetch reinvent_base` downloads DeepRacer routes by name, "
              "`racer tracks import FOLDER` adds route files you have")
MAX_ROUTE_BYTES = 8 * 1024 * 1024  # the largest real route is well under 100 kB
FETCH_TIMEOUT_S = 30


def library_dir() -> Path:
    if os.environ.get("RACER_TRACKS"):
        return Path(os.environ["RACER_TRACKS"])
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "racer" / "tracks"


def find(name: str) -> Path | None:
    """The library's route file of that name, if it has one."""
    path = library_dir() / f"{name}.npy"
    return path if path.is_file() else None


def names() -> list[str]:
    folder = library_dir()
    return sorted(p.stem for p in folder.glob("*.npy")) if folder.is_dir() else []


def _check(path: Path, label: str) -> Track:
    """Load the file as a track (warnings kept quiet here; they are repeated when the track is used)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return Track.from_route_file(path)
        except TrackError as exc:
            raise TrackError(f"{label}: not a usable route file ({exc})") from None


def _store(source: Path, name: str) -> Path:
    """Copy a checked route into the library atomically (a half-written file never has the name)."""
    folder = library_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.npy"
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as tmp:
        shutil.copyfile(source, tmp.name)
    Path(tmp.name).replace(target)
    return target


def import_routes(paths: list[str | Path]) -> list[Path]:
    """Route files, folders of them, or a DeepRacer simapp checkout (every `.npy` below it) into the
    library. Every file is checked before any is stored, so a bad one stores nothing."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(p.rglob("*.npy"))
        elif p.is_file():
            found.append(p)
        else:
            raise TrackError(f"{p}: no such file or folder")
    if not found:
        raise TrackError(f"no .npy route files in {', '.join(map(str, paths))}")
    for p in found:
        _check(p, str(p))
    return [_store(p, p.stem) for p in found]


def fetch(route_names: list[str], base_url: str | None = None) -> list[Path]:
    """Download named routes (`<base>/<name>.npy`), check each, then store it in the library."""
    base = (base_url or os.environ.get("RACER_TRACKS_URL") or DEFAULT_BASE_URL).rstrip("/")
    stored = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in route_names:
            if not name or "/" in name or name.startswith("."):
                raise TrackError(f"{name!r}: a route name is a file name without .npy")
            url = f"{base}/{name}.npy"
            part = Path(tmp) / f"{name}.npy"
            try:
                with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as response:
                    data = response.read(MAX_ROUTE_BYTES + 1)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise TrackError(f"{url}: download failed ({exc})") from None
            if len(data) > MAX_ROUTE_BYTES:
                raise TrackError(f"{url}: larger than {MAX_ROUTE_BYTES} bytes, not a route file")
            part.write_bytes(data)
            _check(part, url)
            stored.append(_store(part, name))
    return stored
