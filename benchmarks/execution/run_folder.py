"""A run's scratch folder in the temp dir (`imbench-cells-<pid>-*`), and removing those of dead runs.

A run keeps its memory-mapped datasets there. A run killed with `kill -9` cannot remove its folder, so
each run first removes the folders whose owner process is gone (the owner's pid and start time are
written in the folder, so a reused pid is not mistaken for the owner). Named semaphores that a dead
process's joblib/loky pool left in /dev/shm (`sem.loky-<pid>-*`, owned by this user) go too: no
other process can use them, and removing a name does not disturb a process that still holds it open.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import psutil

PREFIX = "imbench-cells-"
#: Set when a parent process watches a sequential run (imbench/sequential.py): the file where the run
#: notes the cell it is fitting, so a cell that kills the process can be named.
CURRENT_CELL_ENV = "IMBENCH_CURRENT_CELL_FILE"
OWNER_FILE = "owner"
SHM = Path("/dev/shm")
_LOKY_SEMAPHORE = re.compile(r"^sem\.loky-(\d+)-")


def _process_started(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


def make_run_folder() -> Path:
    """A new scratch folder owned by this process."""
    remove_stale()
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    (folder / OWNER_FILE).write_text(f"{os.getpid()} {_process_started(os.getpid())!r}\n")
    return folder


def owner_alive(folder: Path) -> bool:
    """Whether the process that made `folder` still runs (unknown owners count as alive)."""
    try:
        pid_text, started_text = (folder / OWNER_FILE).read_text().split()
        pid, started = int(pid_text), float(started_text)
    except (OSError, ValueError):
        match = re.match(rf"{PREFIX}(\d+)-", folder.name)
        if not match:
            return True  # not made by this version of imbench: leave it alone
        return _process_started(int(match.group(1))) is not None
    now = _process_started(pid)
    return now is not None and abs(now - started) < 1.0


def remove_stale(temp_dir: Path | None = None, shm: Path = SHM) -> list[Path]:
    """Remove scratch folders of dead runs and dead processes' loky semaphores; return what went."""
    removed = []
    for folder in Path(temp_dir or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        if folder.is_dir() and not owner_alive(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if shm.is_dir():
        uid = os.getuid()
        for path in shm.glob("sem.loky-*"):
            match = _LOKY_SEMAPHORE.match(path.name)
            try:
                if match and path.stat().st_uid == uid and not psutil.pid_exists(int(match.group(1))):
                    path.unlink()
                    removed.append(path)
            except OSError:
                pass  # gone meanwhile, or not ours to remove
    return removed
