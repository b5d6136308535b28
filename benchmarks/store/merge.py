"""`imbench merge OUT STORE...`: one store from the stores of parts of one grid (shards run on
several machines or CI jobs, or subsets run into separate folders).

Refused in one line, before anything is written: a store being written by a run, a folder that is
not a store, stores of different grids (their union specs differ), a dataset whose content differs
between stores (fingerprints), and package versions that differ between any two runs (cells fitted
by different code are not one experiment). OUT must not hold a store yet.

Every run of every store is kept (a new row of `runs`, same spec, environment, host and pid), and
each cell points to its run, so the merged store still says where each cell came from. A cell (one
key) present in several stores is stored once: a final copy (ok, skipped) wins over a failed one,
and between final copies the first store given wins. The merged file is written under a temporary
name and renamed, so OUT never holds half a store.
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from imbench.benchmarks.spec.cells import count_plan
from imbench.benchmarks.spec.grid import grid_from_spec
from imbench.benchmarks.store.lock import LOCK_FILE, RunLock
from imbench.benchmarks.store.spec_union import union_spec
from imbench.benchmarks.store.reader import readonly_uri, store_reader
from imbench.benchmarks.store.schema import FINAL_STATUSES, SCHEMA_SQL, SCHEMA_VERSION, STORE_FILE, StoreError, store_path
from imbench.foundation.names import UnknownNameError
from imbench.foundation.paths import check_writable_dir, prepare_dir

#: Parts of a spec that say which part of a grid a run did, not which grid it is.
NOT_THE_GRID = ("name", "part")


@dataclass
class MergeSummary:
    out: Path
    runs: int = 0
    cells: int = 0
    #: Cells found in more than one store (stored once).
    duplicates: int = 0
    #: Of those, final copies whose metrics differ (the first store's kept).
    differing: int = 0
    per_store: dict[str, int] = field(default_factory=dict)


def _grid_of(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k not in NOT_THE_GRID}


def _describe_difference(a: dict[str, Any], b: dict[str, Any]) -> str:
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            left, right = a.get(key), b.get(key)
            if isinstance(left, list) and isinstance(right, list):
                extra = [json.dumps(v) for v in right if v not in left][:2] or [json.dumps(v) for v in left
                                                                              if v not in right][:2]
                moved = key == "datasets" and any(text.startswith('"file:') for text in extra)
                return f"`{key}` differs (e.g. {', '.join(extra)})" + (
                    " — a file dataset is named by its absolute path: run every part with the data at the same "
                    "path" if moved else "")
            return f"`{key}` differs ({json.dumps(left)} vs {json.dumps(right)})"
    return "they differ"


def check_mergeable(sources: list[Path]) -> list[dict[str, Any]]:
    """The union spec of each source, after refusing anything that would make one store of two experiments."""
    if len(set(map(os.path.realpath, sources))) < len(sources):
        raise StoreError("merge: a store is given twice")
    grids, fingerprints, packages = [], {}, None
    for source in sources:
        reader = store_reader(source)
        holder = reader.in_progress()
        if holder is not None:
            raise StoreError(f"{source}: a run is writing this store ({holder.describe()}); merge it once the run ended")
        runs = reader.runs()
        names = reader.dataset_fingerprints()
        if not runs:
            raise StoreError(f"{source}: the store holds no run to merge")
        union = union_spec([run["spec"] for run in runs])
        if grids and _grid_of(union) != _grid_of(grids[0]):
            raise StoreError(f"{source}: not a part of the same grid as {sources[0]}: "
                             f"{_describe_difference(_grid_of(grids[0]), _grid_of(union))}; merge only stores of one grid")
        grids.append(union)
        for name, value in names.items():
            if fingerprints.setdefault(name, (value, source))[0] != value:
                raise StoreError(f"{source}: dataset {name!r} has other content than in {fingerprints[name][1]} "
                                 f"(fingerprint {value[:12]} vs {fingerprints[name][0][:12]}); its cells are not "
                                 "comparable")
        for run in runs:
            found = run["environment"].get("packages") or {}
            if packages is None:
                packages = (found, source)
            elif found != packages[0]:
                name = next(k for k in sorted(set(found) | set(packages[0])) if found.get(k) != packages[0].get(k))
                raise StoreError(f"{source}: run {run['id']} used {name} {found.get(name)}, {packages[1]} used "
                                 f"{packages[0].get(name)}; merge only stores run with the same package versions")
    return grids


def merge_stores(out: str | Path, sources: list[str | Path]) -> MergeSummary:
    """Write OUT/imbench.sqlite from `sources` (see the module docstring)."""
    out = Path(out)
    paths = [Path(s) for s in sources]
    if not paths:
        raise StoreError("merge: give at least one store to merge")
    if store_path(out).exists():
        raise StoreError(f"{out}: already holds a store; merge into a new folder")
    if any(os.path.realpath(p) == os.path.realpath(out) for p in paths):
        raise StoreError(f"{out}: the output folder is also an input; merge into a new folder")
    check_writable_dir(out, "OUT")
    grids = check_mergeable(paths)
    created = not out.exists()
    prepare_dir(out, "OUT")
    try:
        return _merge_locked(out, paths, grids)
    except BaseException:
        if created:  # a source that fails while being read (damage the cheap checks miss) leaves nothing
            (out / LOCK_FILE).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                out.rmdir()
        raise


def _merge_locked(out: Path, paths: list[Path], grids: list[dict[str, Any]]) -> MergeSummary:
    with RunLock(out, what="merge"):
        if store_path(out).exists():
            raise StoreError(f"{out}: already holds a store; merge into a new folder")
        temporary = out / f".{STORE_FILE}.merging"
        for leftover in out.glob(f".{STORE_FILE}.merging*"):
            leftover.unlink()
        try:
            summary = _write(temporary, paths, union_spec(grids))
            os.replace(temporary, store_path(out))
        finally:
            for leftover in out.glob(f".{STORE_FILE}.merging*"):
                leftover.unlink()
    summary.out = out
    return summary


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _write(target: Path, sources: list[Path], grid_spec: dict[str, Any]) -> MergeSummary:
    summary = MergeSummary(target)
    conn = sqlite3.connect(f"file:{quote(str(target.resolve()))}", uri=True)
    try:
        conn.executescript(SCHEMA_SQL)
        conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        conn.execute("CREATE TEMP TABLE taken (key TEXT PRIMARY KEY)")
        conn.execute("CREATE TEMP TABLE idmap (old INTEGER PRIMARY KEY, new INTEGER)")
        cell_columns = _columns(conn, "cells")
        steps: dict[str, list[str]] = {}
        final = ",".join(f"'{s}'" for s in FINAL_STATUSES)
        for source in sources:
            conn.execute("ATTACH DATABASE ? AS src", (readonly_uri(source),))
            conn.execute("DELETE FROM idmap")
            conn.execute("DELETE FROM taken")
            for run in conn.execute("SELECT id, started_at, finished_at, spec, environment, host, pid FROM src.runs "
                                    "ORDER BY id").fetchall():
                cursor = conn.execute("INSERT INTO runs (started_at, finished_at, spec, environment, host, pid) "
                                      "VALUES (?, ?, ?, ?, ?, ?)", run[1:])
                conn.execute("INSERT INTO idmap VALUES (?, ?)", (run[0], cursor.lastrowid))
                summary.runs += 1
            summary.duplicates += _scalar(conn, "SELECT COUNT(*) FROM src.cells s JOIN main.cells m ON m.key = s.key")
            summary.differing += _scalar(conn, f"SELECT COUNT(*) FROM src.cells s JOIN main.cells m ON m.key = s.key "
                                               f"WHERE s.status IN ({final}) AND m.status IN ({final}) "
                                               "AND (s.metrics != m.metrics OR s.status != m.status)")
            # a final copy replaces a failed one taken from an earlier store; otherwise the first copy stays
            conn.execute(f"INSERT INTO taken SELECT s.key FROM src.cells s LEFT JOIN main.cells m ON m.key = s.key "
                         f"WHERE m.key IS NULL OR (s.status IN ({final}) AND m.status NOT IN ({final}))")
            for table in ("predictions", "inner_predictions", "derived", "cells"):
                conn.execute(f"DELETE FROM main.{table} WHERE key IN (SELECT key FROM taken)")
            selected = ", ".join("COALESCE((SELECT new FROM idmap WHERE old = s.run_id), NULL)" if c == "run_id"
                                 else f"s.{c}" for c in cell_columns)
            conn.execute(f"INSERT INTO main.cells SELECT {selected} FROM src.cells s WHERE s.key IN (SELECT key FROM taken)")
            for table in ("predictions", "inner_predictions", "derived"):
                conn.execute(f"INSERT INTO main.{table} SELECT * FROM src.{table} WHERE key IN (SELECT key FROM taken)")
            conn.execute("INSERT OR IGNORE INTO main.datasets SELECT * FROM src.datasets")
            stored_steps = conn.execute("SELECT value FROM src.meta WHERE key = 'steps'").fetchone()
            for label, values in (json.loads(stored_steps[0]) if stored_steps else {}).items():
                steps[label] = list(dict.fromkeys([*steps.get(label, []), *values]))
            summary.per_store[str(source)] = _scalar(conn, "SELECT COUNT(*) FROM taken")
            conn.commit()
            conn.execute("DETACH DATABASE src")
        summary.cells = _scalar(conn, "SELECT COUNT(*) FROM cells")
        expected = _expected(grid_spec, conn)
        meta = {"steps": steps, **({"expected_cells": expected[0], "expected_results": sum(expected)}
                                   if expected else {})}
        conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                         [(k, json.dumps(v, sort_keys=True)) for k, v in meta.items()])
        conn.commit()
    finally:
        conn.close()
    return summary


def _expected(grid_spec: dict[str, Any], conn: sqlite3.Connection) -> tuple[int, int] | None:
    try:
        return count_plan(grid_from_spec(grid_spec))
    except (UnknownNameError, KeyError, ValueError):
        return None  # a plugin's strategy not registered here: analysis then counts what is stored


def _scalar(conn: sqlite3.Connection, query: str) -> int:
    return int(conn.execute(query).fetchone()[0])
