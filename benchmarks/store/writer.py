"""Writing a store: only the client process writes (workers only compute), one transaction per finished
cell, so `kill -9` at any moment loses at most the cells in flight (benchmarks/store/schema.py says why
SQLite and what each table holds). The writer reads what a resumed run needs on its own connection
(`StoreTables`).
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from imbench.benchmarks.store.results import CellResult, DerivedResult, InnerPredictions
from imbench.benchmarks.store.schema import SCHEMA_SQL, SCHEMA_VERSION, check_header, check_schema, store_path
from imbench.benchmarks.store.tables import StoreTables

#: Seconds between WAL checkpoints while a run writes (the test of a kill -9 sets it lower).
CHECKPOINT_ENV = "IMBENCH_CHECKPOINT_SECONDS"
DEFAULT_CHECKPOINT_SECONDS = 60.0

def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _blob(values: np.ndarray | None, dtype: str) -> bytes | None:
    return None if values is None else np.ascontiguousarray(values, dtype=dtype).tobytes()


def checkpoint_seconds() -> float:
    """The WAL checkpoint interval of a run: $IMBENCH_CHECKPOINT_SECONDS, else one minute."""
    try:
        value = float(os.environ.get(CHECKPOINT_ENV, DEFAULT_CHECKPOINT_SECONDS))
    except ValueError:
        return DEFAULT_CHECKPOINT_SECONDS
    return value if value > 0 else DEFAULT_CHECKPOINT_SECONDS


class _Checkpointer:
    """Copies the WAL into the main file (TRUNCATE) every `interval` seconds from its own thread and
    connection, so committed cells reach the one file a user copies even while no cell finishes."""

    def __init__(self, path: Path, interval: float) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="imbench-checkpoint", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            while not self._stop.wait(self.interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                except sqlite3.Error:
                    pass  # busy (a long reader): the next tick tries again
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


class Store(StoreTables):
    """Writer side of a store (only the client process writes; workers only compute)."""

    def __init__(self, results_dir: str | Path, checkpoint_every: float | None = None) -> None:
        """Open (or create) the store; with `checkpoint_every`, a thread checkpoints the WAL that often."""
        self.dir = Path(results_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = store_path(self.dir)
        if self.path.is_file():
            check_header(self.path, allow_empty=True)
        self.conn = _connect(self.path)
        check_schema(self.conn, self.path, empty_ok=True)
        with self.conn:
            self.conn.executescript(SCHEMA_SQL)
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        self._checkpointer = _Checkpointer(self.path, checkpoint_every) if checkpoint_every else None

    def checkpoint(self) -> None:
        """Move every committed page from the WAL into the main file and empty the WAL."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def close(self) -> None:
        """Stop the checkpoint thread, checkpoint once more, close: at rest the store is one file."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        try:
            self.checkpoint()
        except sqlite3.Error:
            pass  # a reader still holds an old snapshot: SQLite checkpoints when the last connection closes
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_meta(self, key: str, value: Any) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value, sort_keys=True)))

    def begin_run(self, spec: dict[str, Any], environment: dict[str, Any], host: str, pid: int) -> int:
        """Record a run into this store; its cells point to it."""
        with self.conn:
            cursor = self.conn.execute(
                "INSERT INTO runs (started_at, spec, environment, host, pid) VALUES (?, ?, ?, ?, ?)",
                (_now(), json.dumps(spec, sort_keys=True), json.dumps(environment, sort_keys=True), host, pid))
        return int(cursor.lastrowid)

    def finish_run(self, run_id: int) -> None:
        with self.conn:
            self.conn.execute("UPDATE runs SET finished_at = ? WHERE id = ?", (_now(), run_id))

    def put_dataset(self, name: str, fingerprint: str, meta: dict[str, Any]) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO datasets VALUES (?, ?, ?)",
                              (name, fingerprint, json.dumps(meta, default=str)))

    def put(self, result: CellResult, run_id: int | None = None) -> None:
        """Write one cell, its predictions and its derived results atomically (replacing an earlier
        failed attempt)."""
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO cells VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (result.key, run_id, result.dataset, result.model, result.strategy, result.label,
                 json.dumps(result.params, sort_keys=True), result.repeat, result.fold, result.status, result.message,
                 result.family, int(result.anti_pattern), result.training_prior, result.prior_rule, result.fingerprint,
                 result.degenerate, result.inner.k if result.inner is not None else 0, result.inner_status,
                 json.dumps(result.metrics),
                 result.fit_seconds, result.predict_seconds, result.inner_seconds,
                 json.dumps(result.extra, default=str), _now()))
            for table in ("predictions", "inner_predictions", "derived"):
                self.conn.execute(f"DELETE FROM {table} WHERE key = ?", (result.key,))
            if result.status != "ok":
                return
            self.conn.execute("INSERT INTO predictions VALUES (?,?,?,?)", (
                result.key, _blob(result.row_index, "<i4"), _blob(result.y_true, "i1"), _blob(result.proba, "<f8")))
            if result.inner is not None:
                self._put_inner(result.key, result.inner)
            self._put_derived(result.derived)

    def put_inner(self, key: str, inner: InnerPredictions | None, inner_status: str, inner_seconds: float | None,
                  degenerate: str, derived: Iterable[DerivedResult]) -> None:
        """Add inner predictions (or why there are none) and what they allow deriving to a stored ok
        cell, leaving its fit as it is."""
        with self.conn:
            self.conn.execute("UPDATE cells SET inner_folds = ?, inner_status = ?, inner_seconds = ?, degenerate = ? "
                              "WHERE key = ?", (inner.k if inner is not None else 0, inner_status, inner_seconds,
                                                degenerate, key))
            self.conn.execute("DELETE FROM inner_predictions WHERE key = ?", (key,))
            if inner is not None:
                self._put_inner(key, inner)
            self._put_derived(derived)

    def put_derived(self, derived: Iterable[DerivedResult]) -> None:
        with self.conn:
            self._put_derived(derived)

    def _put_inner(self, key: str, inner: InnerPredictions) -> None:
        self.conn.execute("INSERT INTO inner_predictions VALUES (?,?,?,?,?,?,?)", (
            key, inner.k, _blob(inner.row_index, "<i4"), _blob(inner.y_true, "i1"), _blob(inner.fold, "i1"),
            _blob(inner.proba, "<f8"), _blob(inner.test_proba, "<f8")))

    def _put_derived(self, derived: Iterable[DerivedResult]) -> None:
        rows = [(d.key, d.posthoc, d.status, d.message, d.outcome, d.threshold, json.dumps(d.metrics),
                 json.dumps(d.report, default=str), _blob(d.proba, "<f8"), _blob(d.inner_proba, "<f8"), _now())
                for d in derived]
        self.conn.executemany("INSERT OR REPLACE INTO derived VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()
