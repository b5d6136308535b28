"""Reading a store's tables on one open connection: the reader (benchmarks/store/reader.py) and the
writer (benchmarks/store/writer.py, which reads what it resumes from on its own connection) share these.

Frames come back in a stable order with metrics expanded into columns; predictions come back decoded
from their raw little-endian arrays in one pass for all cells.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from imbench.benchmarks.store.results import InnerPredictions
from imbench.benchmarks.store.schema import FINAL_STATUSES
from imbench.benchmarks.store.spec_union import union_spec

CELL_COLUMNS = ("key", "run_id", "dataset", "model", "strategy", "label", "params", "repeat", "fold", "status",
                "message", "family", "anti_pattern", "training_prior", "prior_rule", "fingerprint", "degenerate",
                "inner_folds", "inner_status", "fit_seconds", "predict_seconds", "inner_seconds", "extra",
                "finished_at")
DERIVED_COLUMNS = ("key", "posthoc", "status", "message", "outcome", "threshold", "report", "finished_at")
#: Keys per `IN (...)` query, below SQLite's parameter limit.
KEY_CHUNK = 900


def _frame(conn: sqlite3.Connection, columns: tuple[str, ...], table: str) -> pd.DataFrame:
    """The `columns` of `table` and its metrics, expanded into columns."""
    frame = pd.read_sql_query(f"SELECT {', '.join(columns)}, metrics FROM {table}", conn)
    # the metrics parsed as one JSON array: ~2x faster than a json.loads per row on 100k cells
    metrics = pd.DataFrame.from_records(json.loads("[" + ",".join(frame.pop("metrics")) + "]"), index=frame.index)
    return pd.concat([frame, metrics], axis=1)


class StoreTables:
    """The read side of a store on the connection `conn` (set by the subclass)."""

    conn: sqlite3.Connection

    def _chunked(self, query: str, keys: Iterable[str] | None, extra: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of `query` (with a `{where}` slot), all or for some keys, filtered in SQLite by primary key."""
        if keys is None:
            return self.conn.execute(query.format(where="1=1"), extra).fetchall()
        wanted = list(dict.fromkeys(keys))
        return [row for i in range(0, len(wanted), KEY_CHUNK)
                for row in self.conn.execute(
                    query.format(where=f"key IN ({','.join('?' * len(wanted[i:i + KEY_CHUNK]))})"),
                    (*wanted[i:i + KEY_CHUNK], *extra))]

    def get_meta(self, key: str) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def meta_table(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.conn.execute("SELECT key, value FROM meta")}

    def runs(self) -> list[dict[str, Any]]:
        """Every run into the store, oldest first, with its spec and environment."""
        rows = self.conn.execute("SELECT id, started_at, finished_at, spec, environment, host, pid FROM runs ORDER BY id")
        return [{"id": i, "started_at": s, "finished_at": f, "spec": json.loads(spec), "environment": json.loads(env),
                 "host": host, "pid": pid} for i, s, f, spec, env, host, pid in rows]

    def run_specs(self) -> list[dict[str, Any]]:
        """Each run's grid spec, oldest first."""
        return [json.loads(spec) for (spec,) in self.conn.execute("SELECT spec FROM runs ORDER BY id")]

    def union_spec(self) -> dict[str, Any] | None:
        """The union of every run's spec: what produced the stored cells (benchmarks/store/spec_union.py)."""
        specs = self.run_specs()
        return union_spec(specs) if specs else None

    def datasets(self) -> pd.DataFrame:
        rows = [{"name": name, "fingerprint": fingerprint, **json.loads(meta)}
                for name, fingerprint, meta in self.conn.execute("SELECT name, fingerprint, meta FROM datasets")]
        return pd.DataFrame(rows)

    def dataset_fingerprints(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT name, fingerprint FROM datasets"))

    def cell_fingerprints(self) -> dict[str, str]:
        """dataset → the content fingerprint its stored cells were fitted on."""
        return dict(self.conn.execute("SELECT dataset, fingerprint FROM cells"))

    def cells(self) -> pd.DataFrame:
        """One row per cell (one fit); metrics expanded into columns (NaN where a cell has none)."""
        frame = _frame(self.conn, CELL_COLUMNS, "cells")
        frame["anti_pattern"] = frame["anti_pattern"].astype(bool)
        return frame.sort_values(["dataset", "model", "label", "repeat", "fold"], kind="stable", ignore_index=True)

    def derived(self) -> pd.DataFrame:
        """One row per (cell, post-hoc step) evaluated; only the metrics the step can change."""
        return _frame(self.conn, DERIVED_COLUMNS, "derived")

    def cell_states(self) -> dict[str, tuple[str, int, str]]:
        """key → (status, inner folds stored, inner status) of every stored cell."""
        return {key: (status, int(k), inner) for key, status, k, inner
                in self.conn.execute("SELECT key, status, inner_folds, inner_status FROM cells")}

    def final_keys(self) -> set[str]:
        """Keys of the cells stored with a final status (ok, skipped)."""
        marks = ",".join("?" * len(FINAL_STATUSES))
        return {key for (key,) in self.conn.execute(f"SELECT key FROM cells WHERE status IN ({marks})", FINAL_STATUSES)}

    def cell_priors(self, keys: Iterable[str]) -> dict[str, tuple[float | None, str, str]]:
        """key → (the prior its model trained at, inner status, extra JSON) of some cells."""
        rows = self._chunked("SELECT key, training_prior, inner_status, extra FROM cells WHERE {where}", keys)
        return {key: (prior, inner_status, extra) for key, prior, inner_status, extra in rows}

    def degenerate_of(self, key: str) -> str:
        """Why a stored cell's fit is degenerate ('' when it is not, or the cell is not stored)."""
        row = self.conn.execute("SELECT degenerate FROM cells WHERE key = ?", (key,)).fetchone()
        return row[0] if row else ""

    def oom_limits(self) -> dict[str, float | None]:
        """key → the memory limit (MiB) each `oom` cell was stopped under (None if not recorded)."""
        rows = self.conn.execute("SELECT key, json_extract(extra, '$.memory_limit_mb') FROM cells WHERE status = 'oom'")
        return {key: None if limit is None else float(limit) for key, limit in rows}

    def derived_states(self) -> dict[tuple[str, str], str]:
        """(cell key, post-hoc step) → status of every stored derived result."""
        return {(key, step): status for key, step, status in self.conn.execute("SELECT key, posthoc, status FROM derived")}

    def predictions(self, keys: Iterable[str] | None = None) -> pd.DataFrame:
        """Long table (key, row_index, y_true, proba) of the final models' test-fold predictions."""
        rows = self._chunked("SELECT key, row_index, y_true, proba FROM predictions WHERE {where}", keys)
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

    def inner_predictions(self, keys: Iterable[str] | None = None) -> dict[str, InnerPredictions]:
        """cell key → its inner k-fold predictions (cells without them are absent)."""
        rows = self._chunked("SELECT key, k, row_index, y_true, fold, proba, test_proba FROM inner_predictions "
                             "WHERE {where}", keys)
        out = {}
        for key, k, rows_blob, y_blob, fold_blob, proba_blob, test_blob in rows:
            test = np.frombuffer(test_blob, dtype="<f8")
            out[key] = InnerPredictions(int(k), np.frombuffer(rows_blob, dtype="<i4"), np.frombuffer(y_blob, dtype="i1"),
                                        np.frombuffer(fold_blob, dtype="i1"), np.frombuffer(proba_blob, dtype="<f8"),
                                        test.reshape(int(k), -1))
        return out

    def derived_probabilities(self, posthoc: str, keys: Iterable[str] | None = None
                              ) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
        """cell key → (test-fold, inner out-of-fold) probabilities after `posthoc`, for steps that change them."""
        rows = self._chunked("SELECT key, proba, inner_proba FROM derived WHERE {where} AND posthoc = ? "
                             "AND proba IS NOT NULL", keys, (posthoc,))
        return {key: (np.frombuffer(proba, dtype="<f8"), None if inner is None else np.frombuffer(inner, dtype="<f8"))
                for key, proba, inner in rows}
