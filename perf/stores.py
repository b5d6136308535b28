"""What the reliability scripts ask of a store: how many cells it holds now (read while a run
writes it), and whether two stores hold the same results."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from imbench.benchmarks.store.reader import store_reader
from imbench.benchmarks.store.schema import store_path


def stored_cells(results: Path) -> int:
    """Cells committed so far (0 while the store does not exist yet)."""
    try:
        with sqlite3.connect(f"file:{store_path(results)}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
    except sqlite3.Error:
        return 0


def same_results(a: Path, b: Path) -> bool:
    """Equal cells (key, status, AP, ROC AUC) and equal predictions, row by row."""
    cells = [store_reader(p).cells().sort_values("key")[["key", "status", "ap", "roc_auc"]].reset_index(drop=True)
             for p in (a, b)]
    preds = [store_reader(p).predictions().sort_values(["key", "row_index"]).reset_index(drop=True) for p in (a, b)]
    return cells[0].equals(cells[1]) and preds[0].equals(preds[1])
