"""Where a package's shared files (parameter files, launch files, rviz config) are on this install.

colcon on ROS 2 installs them into `<prefix>/share/<package>`; a pip install into `sys.prefix/share`;
an editable (development) install leaves them in the source tree. Look in that order.
"""

from __future__ import annotations

import sys
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[2]  # src/ in a checkout


def share_file(package: str, *parts: str) -> Path:
    candidates = []
    try:
        from ament_index_python.packages import get_package_share_directory

        candidates.append(Path(get_package_share_directory(package)))
    except (ImportError, LookupError, OSError):  # no ament index here, or the package is not in it
        pass
    candidates += [Path(sys.prefix) / "share" / package, SOURCE_ROOT / package]
    for root in candidates:
        path = root.joinpath(*parts)
        if path.exists():
            return path
    raise FileNotFoundError(f"{'/'.join(parts)} of package {package} not found in: "
                            + ", ".join(str(c) for c in candidates))
