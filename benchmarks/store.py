"""The results store: one SQLite file per run (`<results>/imbench.sqlite`), no server, no pickle.

Why SQLite: each finished cell is one transaction (cell row + its predictions), so `kill -9` at any
moment loses at most the cells in flight and never leaves a half-written row; WAL mode lets analysis
read while a run writes. Predictions are stored as raw little-endian arrays (int32 row index, int8
y_true, float64 probability) — compact, exact, and readable without Python.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

STORE_FILE = "imbench.sqlite"
SCHEMA_VERSION = 1
#: Statuses that are final; the others (error, timeout, crashed) are retried by the next run.
FINAL_STATUSES = ("ok", "skipped")
STATUSES = ("ok", "error", "timeout", "crashed", "skipped")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS datasets (name TEXT PRIMARY KEY, meta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cells (
    key TEXT PRIMARY KEY, dataset TEXT NOT NULL, model TEXT NOT NULL, strategy TEXT NOT NULL,
    label TEXT NOT NULL, params TEXT NOT NULL, repeat INTEGER NOT NULL, fold INTEGER NOT NULL,
    status TEXT NOT NULL, message TEXT NOT NULL, metrics TEXT NOT NULL, fit_seconds REAL,
    predict_seconds REAL, extra TEXT NOT NULL, finished_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS predictions (
    key TEXT PRIMARY KEY REFERENCES cells(key), row_index BLOB NOT NULL, y_true BLOB NOT NULL,
    proba BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS train_predictions (
    key TEXT PRIMARY KEY REFERENCES cells(key), row_index BLOB NOT NULL, y_true BLOB NOT NULL,
    proba BLOB NOT NULL);
"""
#: Test-fold predictions, and (when the grid asks for inner folds) training-fold out-of-fold predictions.
PREDICTION_TABLES = ("predictions", "train_predictions")


class StoreError(ValueError):
    """A results folder that is missing, not a store, or incompatible with the requested run."""


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
    metrics: dict[str, float] = field(default_factory=dict)
    fit_seconds: float | None = None
    predict_seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    row_index: np.ndarray | None = None
    y_true: np.ndarray | None = None
    proba: np.ndarray | None = None
    train_row_index: np.ndarray | None = None
    train_y_true: np.ndarray | None = None
    train_proba: np.ndarray | None = None


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def store_path(results_dir: str | Path) -> Path:
    return Path(results_dir) / STORE_FILE


class Store:
    """Writer side of a run's store (only the client process writes; workers only compute)."""

    def __init__(self, results_dir: str | Path) -> None:
        self.dir = Path(results_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conn = _connect(store_path(self.dir))
        with self.conn:
            self.conn.executescript(_SCHEMA)
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def close(self) -> None:
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

    def put_dataset(self, name: str, meta: dict[str, Any]) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO datasets VALUES (?, ?)", (name, json.dumps(meta, default=str)))

    def finished_keys(self) -> set[str]:
        """Keys of cells that need no rerun (ok or skipped)."""
        marks = ",".join("?" * len(FINAL_STATUSES))
        return {k for (k,) in self.conn.execute(f"SELECT key FROM cells WHERE status IN ({marks})", FINAL_STATUSES)}

    def put(self, result: CellResult) -> None:
        """Write one cell and its predictions atomically (replacing an earlier failed attempt)."""
        finished = pd.Timestamp.now(tz="UTC").isoformat()
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO cells VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (result.key, result.dataset, result.model, result.strategy, result.label,
                 json.dumps(result.params, sort_keys=True), result.repeat, result.fold, result.status,
                 result.message, json.dumps(result.metrics), result.fit_seconds, result.predict_seconds,
                 json.dumps(result.extra, default=str), finished))
            for table in PREDICTION_TABLES:
                self.conn.execute(f"DELETE FROM {table} WHERE key = ?", (result.key,))
            if result.status != "ok":
                return
            for table, rows, y, proba in (
                    ("predictions", result.row_index, result.y_true, result.proba),
                    ("train_predictions", result.train_row_index, result.train_y_true, result.train_proba)):
                if proba is not None:
                    self.conn.execute(f"INSERT INTO {table} VALUES (?,?,?,?)", (
                        result.key, np.asarray(rows, dtype="<i4").tobytes(), np.asarray(y, dtype="i1").tobytes(),
                        np.asarray(proba, dtype="<f8").tobytes()))


def open_readonly(results_dir: str | Path) -> sqlite3.Connection:
    """A read connection to an existing store, or a StoreError saying what is wrong."""
    path = store_path(results_dir)
    if not path.is_file():
        hint = " (did you mean the run folder, e.g. results/smoke?)" if Path(results_dir).is_dir() else ""
        raise StoreError(f"{results_dir}: no imbench results store here (expected {path}){hint}")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    try:
        conn.execute("SELECT 1 FROM cells LIMIT 1")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path}: not a readable imbench store ({exc})") from None
    return conn


def read_meta(results_dir: str | Path) -> dict[str, Any]:
    with closing(open_readonly(results_dir)) as conn:
        return {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM meta")}


def read_datasets(results_dir: str | Path) -> pd.DataFrame:
    with closing(open_readonly(results_dir)) as conn:
        rows = [{"name": name, **json.loads(meta)} for name, meta in conn.execute("SELECT name, meta FROM datasets")]
    return pd.DataFrame(rows)


def read_cells(results_dir: str | Path) -> pd.DataFrame:
    """One row per cell; metrics expanded into columns (NaN where a cell has none)."""
    with closing(open_readonly(results_dir)) as conn:
        frame = pd.read_sql_query(
            "SELECT key, dataset, model, strategy, label, params, repeat, fold, status, message, metrics, "
            "fit_seconds, predict_seconds, extra, finished_at FROM cells", conn)
    # sorted in pandas and the metrics parsed as one JSON array: both ~2x faster than ORDER BY and a
    # json.loads per row on large stores (100k cells)
    frame = frame.sort_values(["dataset", "model", "label", "repeat", "fold"], kind="stable", ignore_index=True)
    metrics = pd.DataFrame.from_records(json.loads("[" + ",".join(frame.pop("metrics")) + "]"), index=frame.index)
    return pd.concat([frame, metrics], axis=1)


def read_predictions(results_dir: str | Path, keys: Iterable[str] | None = None,
                     table: str = "predictions") -> pd.DataFrame:
    """Long table (key, row_index, y_true, proba) of test-fold predictions, optionally for some keys;
    `table="train_predictions"` gives the training-fold out-of-fold predictions instead."""
    if table not in PREDICTION_TABLES:
        raise ValueError(f"table must be one of {PREDICTION_TABLES}")
    query = f"SELECT key, row_index, y_true, proba FROM {table}"
    with closing(open_readonly(results_dir)) as conn:
        try:
            if keys is None:
                rows = conn.execute(query).fetchall()
            else:  # filter in SQLite (by primary key), in chunks below SQLite's parameter limit
                wanted = list(dict.fromkeys(keys))
                rows = [row for i in range(0, len(wanted), 900)
                        for row in conn.execute(f"{query} WHERE key IN ({','.join('?' * len(wanted[i:i + 900]))})",
                                                wanted[i:i + 900])]
        except sqlite3.OperationalError:  # a store written before the table existed
            rows = []
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
