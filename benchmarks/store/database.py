"""The results store: one SQLite file per results folder (`<results>/imbench.sqlite`), no server, no pickle.

Why SQLite: each finished cell is one transaction (its row, its predictions, its derived post-hoc
results), so `kill -9` at any moment loses at most the cells in flight and never leaves a half-written
row; WAL mode lets analysis read while a run writes. Predictions are raw little-endian arrays (int32
row index, int8 labels and fold ids, float64 probabilities): compact, exact, readable without Python.

Schema 2 describes itself, so a store can be read without the code (or plugins) that wrote it:
- `runs`: one row per run into the store (spec, environment, host, pid, start and end);
- `datasets`: metadata and content fingerprint of each dataset;
- `cells`: one fit each — status, metrics, timings, and what the cell is (family, anti-pattern flag,
  the prior its model trained at and how that is known, the dataset fingerprint, degenerate fits);
- `predictions`: the final model's test-fold probabilities;
- `inner_predictions`: the inner k-fold on the training fold — out-of-fold probabilities with their
  inner fold ids, and each inner model's probabilities on the test fold;
- `derived`: post-hoc steps evaluated on those predictions (metrics, threshold, outcome, and the
  probabilities when the step changes them).

This module imports nothing from the strategy or dataset registries: analysis reads through it.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from imbench.benchmarks.store.lock import Holder, run_in_progress
from imbench.benchmarks.store.spec_union import grid_part, union_spec  # noqa: F401 - analysis reads them from here

STORE_FILE = "imbench.sqlite"
#: Every SQLite file starts with these 16 bytes; anything else is not a store (checked before opening).
SQLITE_HEADER = b"SQLite format 3\x00"
#: Seconds between WAL checkpoints while a run writes (the test of a kill -9 sets it lower).
CHECKPOINT_ENV = "IMBENCH_CHECKPOINT_SECONDS"
DEFAULT_CHECKPOINT_SECONDS = 60.0
SCHEMA_VERSION = 2
#: Statuses that are final; the others (error, timeout, crashed, oom) are retried by the next run.
FINAL_STATUSES = ("ok", "skipped")
STATUSES = ("ok", "error", "timeout", "crashed", "oom", "skipped")

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, finished_at TEXT, spec TEXT NOT NULL,
    environment TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS datasets (name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, meta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cells (
    key TEXT PRIMARY KEY, run_id INTEGER REFERENCES runs(id), dataset TEXT NOT NULL, model TEXT NOT NULL,
    strategy TEXT NOT NULL, label TEXT NOT NULL, params TEXT NOT NULL, repeat INTEGER NOT NULL,
    fold INTEGER NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL, family TEXT NOT NULL,
    anti_pattern INTEGER NOT NULL, training_prior REAL, prior_rule TEXT NOT NULL, fingerprint TEXT NOT NULL,
    degenerate TEXT NOT NULL, inner_folds INTEGER NOT NULL, inner_status TEXT NOT NULL, metrics TEXT NOT NULL,
    fit_seconds REAL, predict_seconds REAL, inner_seconds REAL, extra TEXT NOT NULL, finished_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS predictions (
    key TEXT PRIMARY KEY REFERENCES cells(key), row_index BLOB NOT NULL, y_true BLOB NOT NULL,
    proba BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS inner_predictions (
    key TEXT PRIMARY KEY REFERENCES cells(key), k INTEGER NOT NULL, row_index BLOB NOT NULL,
    y_true BLOB NOT NULL, fold BLOB NOT NULL, proba BLOB NOT NULL, test_proba BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS derived (
    key TEXT NOT NULL REFERENCES cells(key), posthoc TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL,
    outcome TEXT NOT NULL, threshold REAL, metrics TEXT NOT NULL, report TEXT NOT NULL, proba BLOB,
    inner_proba BLOB, finished_at TEXT NOT NULL, PRIMARY KEY (key, posthoc));
"""
TABLES = ("meta", "runs", "datasets", "cells", "predictions", "inner_predictions", "derived")


class StoreError(ValueError):
    """A results folder that is missing, not a store, or incompatible with the requested run."""


@dataclass
class InnerPredictions:
    """An inner stratified k-fold on one training fold: out-of-fold probabilities of the training rows
    (with each row's inner fold id) and every inner model's probabilities on the test fold."""

    k: int
    row_index: np.ndarray
    y_true: np.ndarray
    fold: np.ndarray
    proba: np.ndarray
    #: (k, n_test): inner model i's probabilities on the test fold, in the test fold's row order.
    test_proba: np.ndarray


@dataclass
class DerivedResult:
    """A post-hoc step evaluated on one cell's stored predictions."""

    key: str
    posthoc: str
    status: str
    message: str = ""
    #: "met", "unreachable" or "over budget" (threshold targets); "" when the step has no target.
    outcome: str = ""
    threshold: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    #: Test-fold (and inner out-of-fold) probabilities after the step, when it changes them.
    proba: np.ndarray | None = None
    inner_proba: np.ndarray | None = None


@dataclass
class CellResult:
    """What one cell produced; `row_index/y_true/proba` are the test-fold predictions when status is ok."""

    key: str
    dataset: str
    model: str
    strategy: str
    label: str
    params: dict[str, Any]
    repeat: int
    fold: int
    status: str
    message: str = ""
    family: str = "unknown"
    anti_pattern: bool = False
    training_prior: float | None = None
    prior_rule: str = "unknown"
    fingerprint: str = ""
    #: Why the fit is degenerate (a single predicted value on the test fold or an inner fold), or "".
    degenerate: str = ""
    #: The inner k-fold: "" (not asked for), "ok", "skipped" (final), or a failure status (retried).
    inner_status: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    fit_seconds: float | None = None
    predict_seconds: float | None = None
    inner_seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    row_index: np.ndarray | None = None
    y_true: np.ndarray | None = None
    proba: np.ndarray | None = None
    inner: InnerPredictions | None = None
    derived: list[DerivedResult] = field(default_factory=list)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def store_path(results_dir: str | Path) -> Path:
    return Path(results_dir) / STORE_FILE


def _blob(values: np.ndarray | None, dtype: str) -> bytes | None:
    return None if values is None else np.ascontiguousarray(values, dtype=dtype).tobytes()


def _check_header(path: Path, allow_empty: bool = False) -> None:
    """The cheapest check: the file starts as every SQLite database does (a text file, a truncated or
    overwritten store is refused before SQLite is asked anything)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the results store ({exc.strerror or exc})") from None
    if head and head != SQLITE_HEADER:
        raise StoreError(f"{path}: not an imbench results store (not an SQLite file; damaged or overwritten?)")
    if not head and not allow_empty and not path.with_name(path.name + "-wal").is_file():
        raise StoreError(f"{path}: an empty file, not an imbench results store")


def _check_schema(conn: sqlite3.Connection, path: Path, empty_ok: bool = False) -> None:
    """A store of another schema is refused in one line naming both versions (no migration); so is a
    file that is no imbench store or lacks one of its tables (an empty new database is fine when
    creating one)."""
    try:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables and empty_ok:
            return
        if "meta" not in tables:
            raise StoreError(f"{path}: not an imbench results store (no meta table)")
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a readable imbench store ({exc})") from None
    if row is not None and str(row[0]) != str(SCHEMA_VERSION):
        raise StoreError(f"{path}: a results store of schema {row[0]}, written by an earlier imbench; this imbench "
                         f"reads schema {SCHEMA_VERSION} only (no migration): run the grid into a new folder "
                         "(--results)")
    missing = [table for table in TABLES if table not in tables]
    if missing:
        raise StoreError(f"{path}: a damaged imbench store: table{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)} missing (`imbench check` says more)")


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


class Store:
    """Writer side of a store (only the client process writes; workers only compute)."""

    def __init__(self, results_dir: str | Path, checkpoint_every: float | None = None) -> None:
        """Open (or create) the store; with `checkpoint_every`, a thread checkpoints the WAL that often."""
        self.dir = Path(results_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = store_path(self.dir)
        if self.path.is_file():
            _check_header(self.path, allow_empty=True)
        self.conn = _connect(self.path)
        _check_schema(self.conn, self.path, empty_ok=True)
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

    def get_meta(self, key: str) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

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

    def dataset_fingerprints(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT name, fingerprint FROM datasets"))

    def cell_states(self) -> dict[str, tuple[str, int, str]]:
        """key → (status, inner folds stored, inner status) of every stored cell."""
        return {key: (status, int(k), inner) for key, status, k, inner
                in self.conn.execute("SELECT key, status, inner_folds, inner_status FROM cells")}

    def oom_limits(self) -> dict[str, float | None]:
        """key → the memory limit (MiB) each `oom` cell was stopped under (None if not recorded)."""
        rows = self.conn.execute("SELECT key, json_extract(extra, '$.memory_limit_mb') FROM cells WHERE status = 'oom'")
        return {key: None if limit is None else float(limit) for key, limit in rows}

    def derived_states(self) -> dict[tuple[str, str], str]:
        """(cell key, post-hoc step) → status of every stored derived result."""
        return {(key, step): status for key, step, status in self.conn.execute("SELECT key, posthoc, status FROM derived")}

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


# --- reading ---------------------------------------------------------------------------------------

def _readonly_uri(path: Path, immutable: bool) -> str:
    return f"file:{quote(str(path.resolve()))}?" + ("immutable=1" if immutable else "mode=ro")


def _wal_pending(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    return wal.is_file() and wal.stat().st_size > 0


def readonly_uri(results_dir: str | Path) -> str:
    """How to open a store for reading. At rest (no other run writing, nothing in a WAL) the one file
    is read as it is (`immutable`), creating nothing next to it; the run holding the lock may be this
    process (checking its store before writing), where a `mode=ro` connection would leave -wal/-shm
    files behind when the run stops at a refusal. A store being written is read in `mode=ro`."""
    path = store_path(results_dir)
    holder = run_in_progress(results_dir)
    immutable = not _wal_pending(path) and (holder is None or holder.pid == os.getpid())
    return _readonly_uri(path, immutable)


def open_readonly(results_dir: str | Path) -> sqlite3.Connection:
    """A read connection to an existing store of this schema, or a StoreError saying what is wrong.

    A store at rest (no run holds its lock, no pending WAL) is read in SQLite's `immutable` mode,
    which creates no `-wal`/`-shm` files next to it, so a store on a read-only file system (or a copy
    without write permission) is analysable; a store a run is writing is read in `mode=ro` (WAL
    readers see every committed cell); a pending WAL in a read-only folder is refused in one line."""
    path = store_path(results_dir)
    if not path.is_file():
        hint = " (did you mean the run folder, e.g. results/smoke?)" if Path(results_dir).is_dir() else ""
        raise StoreError(f"{results_dir}: no imbench results store here (expected {path}){hint}")
    _check_header(path)
    pending = _wal_pending(path)
    if pending and not os.access(path.parent, os.W_OK):
        raise StoreError(f"{path}: the store has unmerged writes in {path.name}-wal and its folder is read-only; "
                         "copy the folder to a writable disk to read it")
    conn = sqlite3.connect(readonly_uri(results_dir), uri=True, timeout=60)
    try:
        _check_schema(conn, path)
        conn.execute("SELECT 1 FROM cells LIMIT 1")
        conn.execute("SELECT 1 FROM derived LIMIT 1")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: not a readable imbench store ({exc})") from None
    except StoreError:
        conn.close()
        raise
    return conn


def check_store(results_dir: str | Path) -> None:
    """The cheap checks `run`, `report` and `export` make before trusting a store (header, schema,
    tables); `imbench check` does the full integrity check."""
    open_readonly(results_dir).close()


def in_progress(results_dir: str | Path) -> Holder | None:
    """Who is writing this store now (a run holding its lock), else None."""
    return run_in_progress(results_dir)


def read_runs(results_dir: str | Path) -> list[dict[str, Any]]:
    """Every run into the store, oldest first, with its spec and environment."""
    with closing(open_readonly(results_dir)) as conn:
        rows = conn.execute("SELECT id, started_at, finished_at, spec, environment, host, pid FROM runs ORDER BY id")
        return [{"id": i, "started_at": s, "finished_at": f, "spec": json.loads(spec), "environment": json.loads(env),
                 "host": host, "pid": pid} for i, s, f, spec, env, host, pid in rows]


def read_meta(results_dir: str | Path) -> dict[str, Any]:
    """The meta table, with `spec` the union of every run's spec (what produced the stored cells,
    see benchmarks/store/spec_union.py), `specs` each run's own, `environment` of the latest run (None
    before the first run) and `in_progress` (who is writing the store now, or None)."""
    with closing(open_readonly(results_dir)) as conn:
        meta = {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM meta")}
        runs = conn.execute("SELECT spec, environment FROM runs ORDER BY id").fetchall()
    specs = [json.loads(spec) for spec, _ in runs]
    meta["specs"] = specs
    meta["spec"] = union_spec(specs) if specs else None
    meta["environment"] = json.loads(runs[-1][1]) if runs else None
    holder = in_progress(results_dir)
    meta["in_progress"] = holder.describe() if holder is not None else None
    return meta


def read_datasets(results_dir: str | Path) -> pd.DataFrame:
    with closing(open_readonly(results_dir)) as conn:
        rows = [{"name": name, "fingerprint": fingerprint, **json.loads(meta)}
                for name, fingerprint, meta in conn.execute("SELECT name, fingerprint, meta FROM datasets")]
    return pd.DataFrame(rows)


CELL_COLUMNS = ("key", "run_id", "dataset", "model", "strategy", "label", "params", "repeat", "fold", "status",
                "message", "family", "anti_pattern", "training_prior", "prior_rule", "fingerprint", "degenerate",
                "inner_folds", "inner_status", "fit_seconds", "predict_seconds", "inner_seconds", "extra",
                "finished_at")
DERIVED_COLUMNS = ("key", "posthoc", "status", "message", "outcome", "threshold", "report", "finished_at")


def _with_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    # the metrics parsed as one JSON array: ~2x faster than a json.loads per row on 100k cells
    metrics = pd.DataFrame.from_records(json.loads("[" + ",".join(frame.pop("metrics")) + "]"), index=frame.index)
    return pd.concat([frame, metrics], axis=1)


def read_cells(results_dir: str | Path) -> pd.DataFrame:
    """One row per cell (one fit); metrics expanded into columns (NaN where a cell has none)."""
    with closing(open_readonly(results_dir)) as conn:
        frame = pd.read_sql_query(f"SELECT {', '.join(CELL_COLUMNS)}, metrics FROM cells", conn)
    frame["anti_pattern"] = frame["anti_pattern"].astype(bool)
    frame = frame.sort_values(["dataset", "model", "label", "repeat", "fold"], kind="stable", ignore_index=True)
    return _with_metrics(frame)


def read_derived(results_dir: str | Path) -> pd.DataFrame:
    """One row per (cell, post-hoc step) evaluated; only the metrics the step can change."""
    with closing(open_readonly(results_dir)) as conn:
        frame = pd.read_sql_query(f"SELECT {', '.join(DERIVED_COLUMNS)}, metrics FROM derived", conn)
    return _with_metrics(frame)


def _chunked(conn: sqlite3.Connection, query: str, keys: Iterable[str] | None, extra: tuple[Any, ...] = ()
             ) -> list[tuple[Any, ...]]:
    """Rows of `query` (with a `{where}` slot), all or for some keys, filtered in SQLite by primary key in
    chunks below SQLite's parameter limit."""
    if keys is None:
        return conn.execute(query.format(where="1=1"), extra).fetchall()
    wanted = list(dict.fromkeys(keys))
    return [row for i in range(0, len(wanted), 900)
            for row in conn.execute(query.format(where=f"key IN ({','.join('?' * len(wanted[i:i + 900]))})"),
                                    (*wanted[i:i + 900], *extra))]


def read_predictions(results_dir: str | Path, keys: Iterable[str] | None = None) -> pd.DataFrame:
    """Long table (key, row_index, y_true, proba) of the final models' test-fold predictions."""
    with closing(open_readonly(results_dir)) as conn:
        rows = _chunked(conn, "SELECT key, row_index, y_true, proba FROM predictions WHERE {where}", keys)
    if not rows:
        return pd.DataFrame({"key": pd.Series(dtype=str), "row_index": pd.Series(dtype="int32"),
                             "y_true": pd.Series(dtype="int8"), "proba": pd.Series(dtype=float)})
    # one decode for all cells: join the blobs, then a single frombuffer per column
    lengths = np.fromiter((len(r[1]) // 4 for r in rows), dtype=np.int64, count=len(rows))
    return pd.DataFrame({
        "key": np.repeat(np.array([r[0] for r in rows], dtype=object), lengths),
        "row_index": np.frombuffer(b"".join(r[1] for r in rows), dtype="<i4"),
        "y_true": np.frombuffer(b"".join(r[2] for r in rows), dtype="i1"),
        "proba": np.frombuffer(b"".join(r[3] for r in rows), dtype="<f8")})


def read_inner_predictions(results_dir: str | Path, keys: Iterable[str] | None = None) -> dict[str, InnerPredictions]:
    """cell key → its inner k-fold predictions (cells without them are absent)."""
    with closing(open_readonly(results_dir)) as conn:
        rows = _chunked(conn, "SELECT key, k, row_index, y_true, fold, proba, test_proba FROM inner_predictions "
                              "WHERE {where}", keys)
    out = {}
    for key, k, rows_blob, y_blob, fold_blob, proba_blob, test_blob in rows:
        test = np.frombuffer(test_blob, dtype="<f8")
        out[key] = InnerPredictions(int(k), np.frombuffer(rows_blob, dtype="<i4"), np.frombuffer(y_blob, dtype="i1"),
                                    np.frombuffer(fold_blob, dtype="i1"), np.frombuffer(proba_blob, dtype="<f8"),
                                    test.reshape(int(k), -1))
    return out


def read_derived_probabilities(results_dir: str | Path, posthoc: str, keys: Iterable[str] | None = None
                               ) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """cell key → (test-fold, inner out-of-fold) probabilities after `posthoc`, for steps that change them."""
    with closing(open_readonly(results_dir)) as conn:
        rows = _chunked(conn, "SELECT key, proba, inner_proba FROM derived WHERE {where} AND posthoc = ? "
                              "AND proba IS NOT NULL", keys, (posthoc,))
    return {key: (np.frombuffer(proba, dtype="<f8"), None if inner is None else np.frombuffer(inner, dtype="<f8"))
            for key, proba, inner in rows}
