"""Resuming a finished run without redoing its checks: a receipt kept in the store.

When a run leaves nothing to do (every cell of its grid, or part, final; every post-hoc step
derived), the runner stores a receipt: a key of everything that decides what the run does — the
grid file (path and content), the part options, plugin files and entry points, imbench's own code
(sizes and modification times of its modules and bundle manifest), the Python version — plus the
size and modification time of every dataset file, and the store's row counts. Re-running the same
command finds the same key, unchanged files and counts, and has nothing to do: it says so and prints
the leaderboard without importing the strategy and dataset registries (scikit-learn and friends),
which is most of a no-op resume's time. Anything that differs — an edited grid or dataset, new
code, another run into the store — takes the normal path, which checks everything.

The leaderboard a resume prints is the one the run printed when it finished, kept with the receipt
(`remember_board`) under a key of the analysis and CLI code, the metric and the terminal width: the
same store, code and options give the same board (its bootstrap is seeded), so it is printed again
rather than recomputed; anything else recomputes it.

This module imports only the standard library (and reads SQLite itself) on purpose.
"""
from __future__ import annotations

import hashlib
import json
import importlib.util
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

RECEIPT_META = "resume_receipt"
STORE_FILE = "imbench.sqlite"
FINAL = ("ok", "skipped")
#: The rooms whose code decides what a cell is and how it is fitted.
CODE_ROOMS = ("foundation", "datasets", "strategies", "benchmarks")
#: The rooms whose code decides what a leaderboard looks like.
BOARD_ROOMS = ("foundation", "benchmarks", "analysis", "imbench")
CODE_SUFFIXES = (".py", ".json", ".toml")


def _file_stat(path: Path) -> list[Any] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [str(path), stat.st_size, stat.st_mtime_ns]


def room_folder(room: str) -> Path:
    """Where a room's modules are (a folder of the source tree, or of site-packages), found without
    importing it."""
    spec = importlib.util.find_spec(room if room == "imbench" else f"imbench.{room}")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent


def code_stamp(rooms: tuple[str, ...] = CODE_ROOMS) -> list[list[Any]]:
    """Size and modification time of every module (and manifest) of `rooms`."""
    out = []
    for room in rooms:
        for folder, _, files in sorted(os.walk(room_folder(room))):
            for name in sorted(files):
                if name.endswith(CODE_SUFFIXES):
                    out.append(_file_stat(Path(folder) / name))
    return out


def _plugin_stamp(dirs: list[Path]) -> list[Any]:
    listed = [*dirs, *(Path(d) for d in os.environ.get("IMBENCH_PLUGINS", "").split(os.pathsep) if d)]
    out: list[Any] = []
    for directory in listed:
        directory = directory.resolve()
        out.append(str(directory))
        if directory.is_dir():
            out += [_file_stat(path) for path in sorted(directory.glob("*.py"))]
    from importlib.metadata import entry_points

    for group in ("imbench.strategies", "imbench.models", "imbench.datasets"):
        out += sorted(f"{group}:{point.name}={point.value}" for point in entry_points(group=group))
    return out


def inputs_key(grid_file: Path, part: dict[str, str], plugin_dirs: list[Path]) -> str | None:
    """The key of a `run` command's inputs (None when the grid file cannot be read)."""
    try:
        content = grid_file.read_bytes()
    except OSError:
        return None
    payload = [str(grid_file.resolve()), hashlib.sha256(content).hexdigest(), sorted(part.items()),
               _plugin_stamp(plugin_dirs), code_stamp(), sys.version]
    return hashlib.sha256(json.dumps(payload, default=str).encode()).hexdigest()


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    marks = ",".join("?" * len(FINAL))
    cells, final = conn.execute(f"SELECT COUNT(*), COALESCE(SUM(status IN ({marks})), 0) FROM cells", FINAL).fetchone()
    derived = conn.execute(f"SELECT COUNT(*), COALESCE(SUM(status IN ({marks})), 0) FROM derived", FINAL).fetchone()
    return {"cells": int(cells), "final": int(final), "derived": int(derived[0]), "derived_final": int(derived[1])}


def make_receipt(conn: sqlite3.Connection, key: str, files: list[Path], summary: dict[str, Any]) -> dict[str, Any]:
    """What `fast_resume` compares with, written by the runner at the end of a complete run."""
    return {"key": key, "files": [_file_stat(path) for path in files], "counts": _counts(conn), "summary": summary}


def board_key(metric: str, width: int) -> str:
    """The key a remembered leaderboard is printed again under."""
    payload = [metric, width, code_stamp(BOARD_ROOMS), sys.version]
    return hashlib.sha256(json.dumps(payload, default=str).encode()).hexdigest()


def remember_board(results_dir: Path, key: str, board: str, text: str) -> None:
    """Keep the leaderboard a finished run printed with its receipt (when the receipt still holds)."""
    from imbench.benchmarks.store.lock import RunLock, StoreBusyError

    path = results_dir / STORE_FILE
    try:
        with RunLock(results_dir, what="leaderboard"):
            conn = sqlite3.connect(path, timeout=10)
            try:
                row = conn.execute("SELECT value FROM meta WHERE key = ?", (RECEIPT_META,)).fetchone()
                receipt = json.loads(row[0]) if row else None
                if not isinstance(receipt, dict) or receipt.get("key") != key or _counts(conn) != receipt.get("counts"):
                    return
                receipt["board"] = {"key": board, "text": text}
                with conn:
                    conn.execute("UPDATE meta SET value = ? WHERE key = ?", (json.dumps(receipt), RECEIPT_META))
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
    except (StoreBusyError, sqlite3.Error, OSError, ValueError):
        return  # only a shortcut lost: the next resume recomputes the board


def fast_resume(grid_file: Path, results_dir: Path, part: dict[str, str], plugin_dirs: list[Path]
                ) -> dict[str, Any] | None:
    """The receipt (its `summary`, and the `board` printed last) when re-running this command has
    nothing to do, else None."""
    path = results_dir / STORE_FILE
    wal = results_dir / f"{STORE_FILE}-wal"
    if not path.is_file() or (wal.is_file() and wal.stat().st_size > 0):
        return None
    from imbench.benchmarks.store.lock import run_in_progress

    if run_in_progress(results_dir) is not None:
        return None
    try:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                return None
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?immutable=1", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (RECEIPT_META,)).fetchone()
            receipt = json.loads(row[0]) if row else None
            if not isinstance(receipt, dict) or receipt.get("key") != inputs_key(grid_file, part, plugin_dirs):
                return None
            if any(_file_stat(Path(stat[0])) != stat for stat in receipt.get("files", [None])):
                return None
            if _counts(conn) != receipt.get("counts"):
                return None
        finally:
            conn.close()
    except (sqlite3.Error, OSError, ValueError, TypeError):
        return None  # anything unusual: the normal path checks and says what it is
    return receipt if isinstance(receipt.get("summary"), dict) else None
