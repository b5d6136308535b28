"""The results store's file and schema: one SQLite file per results folder (`<results>/imbench.sqlite`),
no server, no pickle.

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

The store's room (benchmarks/store) holds every SQL statement of imbench: the writer (`writer.py`),
the reader (`reader.py`), and the operations on whole stores (merge, check, export, receipts).
It imports nothing from the strategy or dataset registries: analysis reads through it.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

STORE_FILE = "imbench.sqlite"
#: Every SQLite file starts with these 16 bytes; anything else is not a store (checked before opening).
SQLITE_HEADER = b"SQLite format 3\x00"
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


def store_path(results_dir: str | Path) -> Path:
    return Path(results_dir) / STORE_FILE


def wal_path(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def check_header(path: Path, allow_empty: bool = False) -> None:
    """The cheapest check: the file starts as every SQLite database does (a text file, a truncated or
    overwritten store is refused before SQLite is asked anything)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the results store ({exc.strerror or exc})") from None
    if head and head != SQLITE_HEADER:
        raise StoreError(f"{path}: not an imbench results store (not an SQLite file; damaged or overwritten?)")
    if not head and not allow_empty and not wal_path(path).is_file():
        raise StoreError(f"{path}: an empty file, not an imbench results store")


def check_schema(conn: sqlite3.Connection, path: Path, empty_ok: bool = False) -> None:
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
