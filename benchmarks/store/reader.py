"""Reading a store: one connection, one check of its header and schema, for everything a command reads.

`store_reader(results_dir)` is how every command and analysis function reads: it gives this process's
reader of that store, opened and checked once, and the same reader again while the store is
unchanged (its file, its write-ahead log and its lock holder), so a leaderboard that reads cells,
predictions and datasets opens the store once. When the store changed (a run wrote to it), the next
call opens a new reader, since a reader of a store at rest reads the file as it is (SQLite's
`immutable` mode, which creates nothing next to it, so read-only folders are analysable) and must
never read it while it changes. Frames a reader returned are kept (`cells`, `derived`, `datasets`,
`meta`) and handed out as copies, so each is parsed once per command.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from imbench.benchmarks.store.lock import Holder, run_in_progress
from imbench.benchmarks.store.schema import StoreError, check_header, check_schema, store_path, wal_path
from imbench.benchmarks.store.tables import StoreTables


def _wal_pending(path: Path) -> bool:
    wal = wal_path(path)
    return wal.is_file() and wal.stat().st_size > 0


def readonly_uri(results_dir: str | Path) -> str:
    """How to open a store for reading. At rest (no other run writing, nothing in a WAL) the one file
    is read as it is (`immutable`), creating nothing next to it; the run holding the lock may be this
    process (checking its store before writing), where a `mode=ro` connection would leave -wal/-shm
    files behind when the run stops at a refusal. A store being written is read in `mode=ro`."""
    path = store_path(results_dir)
    holder = run_in_progress(results_dir)
    immutable = not _wal_pending(path) and (holder is None or holder.pid == os.getpid())
    return f"file:{quote(str(path.resolve()))}?" + ("immutable=1" if immutable else "mode=ro")


def _stat(path: Path) -> tuple[int, int] | None:
    """(size, modification time) of a file that has content, else None (an empty write-ahead log, which
    a first reader may create, counts as none)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns) if stat.st_size else None


def store_stamp(results_dir: str | Path) -> tuple[object, ...]:
    """What identifies a store's current content (for readers and caches): its resolved path, its file and
    write-ahead log (any write changes one of them) and who is writing it."""
    path = store_path(results_dir)
    holder = run_in_progress(results_dir)
    return (str(path.resolve()), _stat(path), _stat(wal_path(path)), holder.pid if holder is not None else None)


class StoreReader(StoreTables):
    """A read connection to an existing store of this schema, checked when opened (a StoreError saying
    what is wrong otherwise); frames it read are kept for the next caller."""

    #: Readers opened by this process (each opens the file and checks its schema once).
    opened = 0

    def __init__(self, results_dir: str | Path) -> None:
        self.dir = Path(results_dir)
        self.path = store_path(results_dir)
        self.stamp = store_stamp(results_dir)
        self.conn = _open(results_dir)
        self._kept: dict[str, Any] = {}
        StoreReader.opened += 1

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "StoreReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _keep(self, name: str, read: Any) -> Any:
        if name not in self._kept:
            self._kept[name] = read()
        value = self._kept[name]
        return value.copy(deep=False) if isinstance(value, pd.DataFrame) else value

    def cells(self) -> pd.DataFrame:
        return self._keep("cells", super().cells)

    def derived(self) -> pd.DataFrame:
        return self._keep("derived", super().derived)

    def datasets(self) -> pd.DataFrame:
        return self._keep("datasets", super().datasets)

    def in_progress(self) -> Holder | None:
        """Who is writing this store now (a run holding its lock), else None."""
        return run_in_progress(self.dir)

    def meta(self) -> dict[str, Any]:
        """The meta table, with `spec` the union of every run's spec (what produced the stored cells,
        see benchmarks/store/spec_union.py), `specs` each run's own, `environment` of the latest run
        (None before the first run) and `in_progress` (who is writing the store now, or None)."""
        def read() -> dict[str, Any]:
            meta = self.meta_table()
            runs = self.conn.execute("SELECT environment FROM runs ORDER BY id").fetchall()
            meta["specs"] = self.run_specs()
            meta["spec"] = self.union_spec()
            meta["environment"] = json.loads(runs[-1][0]) if runs else None
            return meta

        meta = dict(self._keep("meta", read))
        holder = self.in_progress()
        meta["in_progress"] = holder.describe() if holder is not None else None
        return meta


def _open(results_dir: str | Path) -> sqlite3.Connection:
    """A store at rest (no run holds its lock, no pending WAL) is read in SQLite's `immutable` mode,
    which creates no `-wal`/`-shm` files next to it, so a store on a read-only file system (or a copy
    without write permission) is analysable; a store a run is writing is read in `mode=ro` (WAL
    readers see every committed cell); a pending WAL in a read-only folder is refused in one line."""
    path = store_path(results_dir)
    if not path.is_file():
        hint = " (did you mean the run folder, e.g. results/smoke?)" if Path(results_dir).is_dir() else ""
        raise StoreError(f"{results_dir}: no imbench results store here (expected {path}){hint}")
    check_header(path)
    if _wal_pending(path) and not os.access(path.parent, os.W_OK):
        raise StoreError(f"{path}: the store has unmerged writes in {path.name}-wal and its folder is read-only; "
                         "copy the folder to a writable disk to read it")
    conn = sqlite3.connect(readonly_uri(results_dir), uri=True, timeout=60, check_same_thread=False)
    try:
        check_schema(conn, path)
        conn.execute("SELECT 1 FROM cells LIMIT 1")
        conn.execute("SELECT 1 FROM derived LIMIT 1")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: not a readable imbench store ({exc})") from None
    except StoreError:
        conn.close()
        raise
    return conn


_READERS: dict[str, StoreReader] = {}
_READERS_LOCK = threading.Lock()


def store_reader(results_dir: str | Path) -> StoreReader:
    """This process's reader of the store in `results_dir` (see the module docstring): the same one
    while the store is unchanged, a new one (the old closed) once it changed."""
    where = str(store_path(results_dir).resolve())
    stamp = store_stamp(results_dir)
    with _READERS_LOCK:
        kept = _READERS.get(where)
        if kept is not None and kept.stamp == stamp:
            return kept
        reader = StoreReader(results_dir)
        _READERS[where] = reader
        if kept is not None:
            kept.close()
        return reader


def forget_reader(results_dir: str | Path) -> None:
    """Close this process's reader of a store (a command about to change or remove it)."""
    with _READERS_LOCK:
        kept = _READERS.pop(str(store_path(results_dir).resolve()), None)
    if kept is not None:
        kept.close()
