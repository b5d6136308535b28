"""`imbench check RESULTS`: the full integrity check of a store (the cheap one — header, schema,
tables — runs before every `run`, `report` and `export`, see benchmarks/store/database.py).

It reads only, and reports what is wrong rather than stopping at the first problem:
- SQLite's own `PRAGMA integrity_check` (pages, indexes, the file itself);
- the schema version and every table;
- every `ok` cell has its test predictions (of consistent lengths) and no failed cell has any;
  nothing (predictions, inner predictions, derived results) belongs to no cell; every cell points
  to a run of the `runs` table;
- no label is stored twice for one dataset, model, repeat and fold;
- counts against the spec: every stored cell is a cell of the union of the runs' grids, and how
  many of the planned cells are stored;
- the folds: each dataset's folds are recomputed (benchmarks/spec/cv.py) and compared with the stored
  test rows of every cell, and the training rows of its inner folds.
Problems make the check fail; notes (a partial store, a dataset that cannot be loaded here to
recompute its folds) do not.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imbench.benchmarks.spec.cells import enumerate_cells
from imbench.benchmarks.spec.cv import fold_indices
from imbench.benchmarks.spec.grid import grid_from_spec
from imbench.benchmarks.store.spec_union import union_spec
from imbench.benchmarks.store.lock import run_in_progress
from imbench.benchmarks.store.reader import StoreReader
from imbench.benchmarks.store.schema import FINAL_STATUSES, SCHEMA_VERSION, STORE_FILE, TABLES, store_path
from imbench.datasets import DatasetError, fingerprint, load_dataset
from imbench.datasets.cleaning import quiet_notices
from imbench.foundation.names import UnknownNameError


@dataclass
class CheckReport:
    """What the check found: passed checks, problems (the store is wrong) and notes (it is partial)."""

    results_dir: Path
    passed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _scalar(conn: sqlite3.Connection, query: str, *args: object) -> int:
    return int(conn.execute(query, args).fetchone()[0])


def check_store_integrity(results_dir: str | Path, folds: bool = True,
                          on_dataset: Callable[[str], None] | None = None) -> CheckReport:
    """Run every check on a store (raises StoreError only when it is not a store at all)."""
    results_dir = Path(results_dir)
    report = CheckReport(results_dir)
    reader = StoreReader(results_dir)  # header, schema version and tables, or a one-line StoreError
    conn = reader.conn
    try:
        holder = run_in_progress(results_dir)
        if holder is not None:
            report.notes.append(f"a run is writing this store ({holder.describe()}): counts may change while it runs")
        _sqlite_integrity(conn, report)
        if report.problems:
            return report  # the file itself is damaged: the row checks below would only repeat it
        report.passed.append(f"schema {SCHEMA_VERSION}, tables {', '.join(TABLES)}")
        _rows(conn, report)
        _duplicates(conn, report)
        _against_spec(conn, report)
        if folds:
            _folds(conn, report, on_dataset)
        _wal(results_dir, report, holder is not None)
    finally:
        reader.close()
    return report


def _sqlite_integrity(conn: sqlite3.Connection, report: CheckReport) -> None:
    try:
        rows = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        report.problems.append(f"SQLite cannot read the file: {exc}")
        return
    if rows == ["ok"]:
        report.passed.append("SQLite integrity_check: ok")
    else:
        shown = "; ".join(rows[:3]) + (f"; and {len(rows) - 3} more" if len(rows) > 3 else "")
        report.problems.append(f"SQLite integrity_check: {shown}")


def _rows(conn: sqlite3.Connection, report: CheckReport) -> None:
    cells = _scalar(conn, "SELECT COUNT(*) FROM cells")
    ok = _scalar(conn, "SELECT COUNT(*) FROM cells WHERE status = 'ok'")
    checks = [
        ("ok cells without test predictions",
         "SELECT COUNT(*) FROM cells c LEFT JOIN predictions p ON p.key = c.key WHERE c.status = 'ok' AND p.key IS NULL"),
        ("failed or skipped cells with predictions",
         "SELECT COUNT(*) FROM cells c JOIN predictions p ON p.key = c.key WHERE c.status != 'ok'"),
        ("predictions of no stored cell",
         "SELECT COUNT(*) FROM predictions p LEFT JOIN cells c ON c.key = p.key WHERE c.key IS NULL"),
        ("inner predictions of no ok cell",
         "SELECT COUNT(*) FROM inner_predictions i LEFT JOIN cells c ON c.key = i.key "
         "WHERE c.key IS NULL OR c.status != 'ok'"),
        ("derived results of no stored cell",
         "SELECT COUNT(*) FROM derived d LEFT JOIN cells c ON c.key = d.key WHERE c.key IS NULL"),
        ("predictions whose row index, labels and probabilities differ in length",
         "SELECT COUNT(*) FROM predictions WHERE length(row_index) != 4 * length(y_true) "
         "OR length(proba) != 8 * length(y_true)"),
        ("cells pointing to no run",
         "SELECT COUNT(*) FROM cells c LEFT JOIN runs r ON r.id = c.run_id WHERE c.run_id IS NOT NULL AND r.id IS NULL"),
        ("cells with an unknown status",
         "SELECT COUNT(*) FROM cells WHERE status NOT IN ('ok','error','timeout','crashed','oom','skipped')"),
    ]
    found = False
    for what, query in checks:
        count = _scalar(conn, query)
        if count:
            found = True
            report.problems.append(f"{count} {what}")
    if not found:
        report.passed.append(f"{cells:,} cells ({ok:,} ok): every ok cell has its predictions, nothing is orphaned")
    unfinished = [row[0] for row in conn.execute("SELECT id FROM runs WHERE finished_at IS NULL")]
    if unfinished:
        report.notes.append(f"run{'s' if len(unfinished) > 1 else ''} {', '.join(map(str, unfinished))} did not finish "
                            "(stopped or killed; re-running the grid resumes it)")


def _duplicates(conn: sqlite3.Connection, report: CheckReport) -> None:
    rows = conn.execute("SELECT dataset, model, label, repeat, fold, COUNT(*) FROM cells "
                        "GROUP BY dataset, model, label, repeat, fold HAVING COUNT(*) > 1").fetchall()
    if rows:
        d, m, label, r, f, n = rows[0]
        report.problems.append(f"{len(rows)} labels stored twice for one fold (e.g. {d} {m} {label} repeat {r} fold {f}: "
                               f"{n} cells)")
    else:
        report.passed.append("no label stored twice for one fold")


def _against_spec(conn: sqlite3.Connection, report: CheckReport) -> None:
    specs = [json.loads(spec) for (spec,) in conn.execute("SELECT spec FROM runs ORDER BY id")]
    stored = {key for (key,) in conn.execute("SELECT key FROM cells")}
    final = {key for (key,) in conn.execute(f"SELECT key FROM cells WHERE status IN "
                                            f"({','.join('?' * len(FINAL_STATUSES))})", FINAL_STATUSES)}
    if not specs:
        if stored:
            report.problems.append(f"{len(stored)} cells but no run recorded in the runs table")
        return
    try:
        planned = {cell.key for cell in enumerate_cells(grid_from_spec(union_spec(specs))).cells}
    except (UnknownNameError, KeyError, ValueError) as exc:
        report.notes.append(f"cannot enumerate the runs' grid here ({str(exc).splitlines()[0]}); load its plugins "
                            "(--plugins) to count cells against it")
        return
    stray = stored - planned
    if stray:
        report.problems.append(f"{len(stray)} stored cells are not cells of any run's grid (e.g. {sorted(stray)[0]})")
    else:
        report.passed.append(f"every stored cell belongs to the runs' grid ({len(planned):,} cells planned)")
    missing = len(planned) - len(final & planned)
    if missing:
        report.notes.append(f"incomplete: {len(final & planned):,} of {len(planned):,} planned cells stored with a "
                            f"final status ({missing:,} to run; re-running the grid resumes)")
    expected = conn.execute("SELECT value FROM meta WHERE key = 'expected_cells'").fetchone()
    if expected is not None and int(json.loads(expected[0])) != len(planned):
        report.problems.append(f"meta says {json.loads(expected[0])} planned cells, the runs' grid has {len(planned)}")


def _folds(conn: sqlite3.Connection, report: CheckReport, on_dataset: Callable[[str], None] | None) -> None:
    """Recompute every dataset's folds and compare them with the stored test (and inner training) rows."""
    specs = [json.loads(spec) for (spec,) in conn.execute("SELECT spec FROM runs ORDER BY id")]
    if not specs:
        return
    cv = union_spec(specs).get("cv") or {}
    seed = int(union_spec(specs).get("seed", 0))
    n_splits, n_repeats = int(cv.get("n_splits", 5)), int(cv.get("n_repeats", 2))
    fingerprints = dict(conn.execute("SELECT name, fingerprint FROM datasets"))
    checked = mismatched = 0
    bad: list[str] = []
    for (dataset,) in conn.execute("SELECT DISTINCT dataset FROM cells WHERE status = 'ok' ORDER BY dataset").fetchall():
        if on_dataset:
            on_dataset(dataset)
        try:
            with quiet_notices():
                data = load_dataset(dataset)
        except DatasetError as exc:
            report.notes.append(f"folds of {dataset} not recomputed: {str(exc).splitlines()[0]}")
            continue
        y = np.asarray(data.y, dtype=np.int8)
        if fingerprints.get(dataset) not in (None, fingerprint(data)):
            report.notes.append(f"{dataset} changed since it was stored: its folds are compared with today's data")
        rows = conn.execute("SELECT c.key, c.repeat, c.fold, p.row_index, p.y_true, i.row_index FROM cells c "
                            "JOIN predictions p ON p.key = c.key LEFT JOIN inner_predictions i ON i.key = c.key "
                            "WHERE c.dataset = ? AND c.status = 'ok'", (dataset,))
        for key, repeat, fold, test_blob, y_blob, inner_blob in rows:
            train, test = fold_indices(y, n_splits, n_repeats, seed, dataset, int(repeat), int(fold))
            stored_test = np.frombuffer(test_blob, dtype="<i4")
            good = (np.array_equal(np.sort(stored_test), np.sort(test))
                    and np.array_equal(np.frombuffer(y_blob, dtype="i1"), y[stored_test])
                    and (inner_blob is None or np.array_equal(np.sort(np.frombuffer(inner_blob, dtype="<i4")),
                                                              np.sort(train))))
            checked += 1
            if not good:
                mismatched += 1
                if len(bad) < 3:
                    bad.append(f"{dataset} repeat {repeat} fold {fold} ({key})")
    if mismatched:
        report.problems.append(f"{mismatched} of {checked} cells' stored rows differ from their recomputed folds: "
                               f"{', '.join(bad)}")
    elif checked:
        report.passed.append(f"folds recomputed: the stored rows of all {checked:,} ok cells match")


def _wal(results_dir: Path, report: CheckReport, running: bool) -> None:
    wal = store_path(results_dir).with_name(STORE_FILE + "-wal")
    if not running and wal.is_file() and wal.stat().st_size > 0:
        report.notes.append(f"{wal.name} holds {wal.stat().st_size:,} bytes not yet in {STORE_FILE} (a run was killed); "
                            "the next run folds them in — copy the folder, not only the .sqlite file, until then")
