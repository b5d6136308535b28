"""One run per store: an advisory lock on the results folder.

`imbench run` (and `merge` into a folder) holds `fcntl.flock(LOCK_EX)` on `<results>/imbench.lock`
from before the resume check to the end of the run. The kernel releases it when the process dies,
however it dies (`kill -9` included), so there is no stale lock to clean up; the file itself stays
and says who held it last (pid, host, start time), which is what a refused second run prints.
Analysis commands take a shared lock for a moment to learn whether a run is writing the store.

flock is reliable on local file systems only (NFS and SMB may ignore or emulate it): a store
belongs on a local disk (docs/store.md).
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

LOCK_FILE = "imbench.lock"


class StoreBusyError(ValueError):
    """Another process holds the results folder's lock (a run is writing it)."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a results folder's lock, as written in the lock file."""

    pid: int | None
    host: str
    started_at: str

    def describe(self) -> str:
        pid = f"pid {self.pid}" if self.pid is not None else "an unknown process"
        host = f" on {self.host}" if self.host and self.host != socket.gethostname() else ""
        since = f", started {self.started_at}" if self.started_at else ""
        return f"{pid}{host}{since}"


def lock_path(results_dir: str | Path) -> Path:
    return Path(results_dir) / LOCK_FILE


def read_holder(results_dir: str | Path) -> Holder:
    """What the lock file says (an empty or unreadable file gives an unknown holder)."""
    try:
        data = json.loads(lock_path(results_dir).read_text() or "{}")
    except (OSError, ValueError):
        data = {}
    pid = data.get("pid")
    return Holder(pid if isinstance(pid, int) else None, str(data.get("host", "")), str(data.get("started_at", "")))


class RunLock:
    """Exclusive lock on a results folder for the lifetime of a run (a context manager).

    The folder must exist (the runner creates it only after every input check has passed).
    Acquiring never waits: a held lock raises StoreBusyError naming the holder at once.
    """

    def __init__(self, results_dir: str | Path, what: str = "run") -> None:
        self.dir = Path(results_dir)
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> "RunLock":
        fd = os.open(lock_path(self.dir), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreBusyError(f"{self.dir}: another imbench run is writing this store ({read_holder(self.dir).describe()}); "
                                 "wait for it to finish, or run into another folder (--results)") from None
        stamp = {"pid": os.getpid(), "host": socket.gethostname(), "what": self.what,
                 "started_at": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(stamp).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire() if self._fd is None else self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def run_in_progress(results_dir: str | Path) -> Holder | None:
    """The holder when a run is writing this folder now, else None (read-only: never creates the file)."""
    try:
        fd = os.open(lock_path(results_dir), os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_holder(results_dir)
    except OSError:
        return None
    finally:
        os.close(fd)  # closing drops a shared lock we may have taken
    return None
