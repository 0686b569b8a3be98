"""What sim:=gazebo starts, as plain data: the headless gz sim server with the track's world, the car
spawned at the start line, ros_gz_bridge with config/gz_bridge.yaml and the map -> odom transform.

Plain data (no `launch` import) so that tests can check every command, path and argument where
Gazebo is not installed; `launch_support.launch_actions` turns it into launch actions.
The worlds of the built-in tracks ship with racer_sim (worlds/<track>/); any other track (a DeepRacer
route file) or camera preset gets its world generated into a temporary directory.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from racer_core import builtin_tracks
from racer_core import gazebo_interface as gz
from racer_core.camera import DEFAULT_PRESET, camera_from
from racer_core.gazebo_interface import default_partitions, read_world
from racer_sim.gazebo_world import CAR_MODEL_DIR, WORLD_FILE, WorldConfig, write_world
from racer_sim.resources import share_file

GAZEBO_PACKAGES = ("ros_gz_sim", "ros_gz_bridge", "tf2_ros")
INSTALL_HINT = "on ROS 2 Jazzy `apt install ros-jazzy-ros-gz`, or use racer's Docker image (docker/README.md)"


@dataclass(frozen=True)
class Process:
    """A ROS node (`package` set) or a plain command (`package` None)."""

    name: str
    executable: str
    arguments: list[str] = field(default_factory=list)
    package: str | None = None
    parameters: dict = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


def world_directory(track: str, camera: str = DEFAULT_PRESET) -> Path:
    """The shipped world of a built-in track, else one generated now."""
    if track in builtin_tracks.names() and camera == DEFAULT_PRESET:
        return share_file("racer_sim", "worlds", track)
    out = Path(tempfile.mkdtemp(prefix="racer-world-"))
    write_world(builtin_tracks.load(track), out, WorldConfig(camera=camera_from(camera)))
    return out


def gazebo_processes(world_dir: Path, track: str, realtime: bool, use_sim_time: bool,
                     workers: int = 1) -> list[Process]:
    """`realtime`: the world runs on its own at real time (a driver at the wheel); otherwise it starts
    paused (no -r) and the lock-step trainer steps it. Several `workers`: one server and car each,
    kept apart by GZ_PARTITION (racer_core.gazebo_interface.default_partitions); the first is bridged."""
    world = world_dir / WORLD_FILE
    step = read_world(world).physics_step
    run = ["-r", "-z", f"{1 / step:.6f}"] if realtime else []  # -z: iterations per wall second = real time
    x, y, yaw = builtin_tracks.load(track).pose_at(0.0)
    car = world_dir / CAR_MODEL_DIR / "model.sdf"
    partitions = default_partitions(workers) if workers > 1 else [None]
    processes = []
    for i, partition in enumerate(partitions):
        env = {"GZ_PARTITION": partition} if partition else {}
        suffix = f"_{i}" if partition else ""
        processes += [
            Process(f"gz_sim{suffix}", "gz", ["sim", "-s", "-v", "2", *run, str(world)],
                    env={"GZ_SIM_RESOURCE_PATH": str(world_dir / "models"), **env}),
            Process(f"spawn_car{suffix}", "create", ["-world", gz.WORLD, "-file", str(car), "-name", gz.CAR,
                                                     "-x", f"{x:.4f}", "-y", f"{y:.4f}", "-z", "0.0",
                                                     "-Y", f"{yaw:.4f}"], package="ros_gz_sim", env=env),
        ]
    return [
        *processes,
        Process("gz_bridge", "parameter_bridge", package="ros_gz_bridge",
                parameters={"config_file": str(share_file("racer_sim", "config", "gz_bridge.yaml")),
                            "use_sim_time": use_sim_time},
                env={"GZ_PARTITION": partitions[0]} if partitions[0] else {}),
        Process("map_to_odom", "static_transform_publisher", ["--frame-id", "map", "--child-frame-id", gz.ODOM_FRAME],
                package="tf2_ros"),
    ]


def missing_packages(is_installed) -> list[str]:
    """The Gazebo-side ROS packages `is_installed(package)` does not find."""
    return [p for p in GAZEBO_PACKAGES if not is_installed(p)]
