"""Folders imbench writes into (a results folder, an `--out` folder), checked before anything is
written, so a path that is a file, lies below a file, or sits on a read-only or forbidden location
is one line naming the path and the reason instead of a traceback halfway through.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path


class OutputPathError(ValueError):
    """A folder imbench was asked to write into cannot be one."""


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


def _first_existing(path: Path) -> Path:
    """The path itself or its nearest existing ancestor."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable_dir(path: str | Path, what: str) -> Path:
    """Say (without creating anything) whether `path` is, or can be created as, a writable folder.

    `what` names the option in the message (`--results`, `--out`)."""
    path = Path(path)
    existing = _first_existing(path)
    if existing.exists() and not existing.is_dir():
        where = "is a file" if existing == Path(os.path.abspath(path)) else f"lies below a file ({existing})"
        raise OutputPathError(f"{what} {path}: {where}, not a folder; choose a folder path")
    if not os.access(existing, os.W_OK | os.X_OK):
        try:
            probe = os.statvfs(existing)
            read_only = bool(probe.f_flag & os.ST_RDONLY)
        except OSError:
            read_only = False
        reason = "read-only file system" if read_only else "permission denied"
        verb = "cannot write into" if existing == Path(os.path.abspath(path)) else "cannot create"
        raise OutputPathError(f"{what} {path}: {verb} it ({reason}); choose a writable folder")
    return path


def prepare_dir(path: str | Path, what: str) -> Path:
    """Create `path` (and its parents) as a folder to write into, or one line saying why it cannot be."""
    path = check_writable_dir(path, what)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(f"{what} {path}: cannot create it ({_reason(exc)}); choose a writable folder") from None
    return path
