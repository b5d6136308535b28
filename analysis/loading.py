"""Everything analysis reads from a results folder, loaded once: the results frame, dataset
metadata, the run spec and how many cells the spec plans.

Analysis never refits and never asks the strategy registry: every table and figure is computed from
what the runner stored, including what each cell is. Everything downstream reads
`RunResults.results`, one row per (cell, post-hoc step) with the columns listed in `RESULT_COLUMNS`
plus one column per metric (NaN where the row's label does not carry that metric, see
`foundation.metrics.metric_kind`); `analysis.results_frame` builds it from the store.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imbench.analysis.results_frame import RESULT_COLUMNS, results_frame
from imbench.benchmarks.store.reader import store_reader
from imbench.benchmarks.store.schema import FINAL_STATUSES

#: Columns that are neither results-frame identity nor metrics (bookkeeping of the store's tables).
STORE_ONLY_COLUMNS = ("params", "extra", "finished_at")
CELL_COLUMNS = frozenset(RESULT_COLUMNS) | frozenset(STORE_ONLY_COLUMNS)
FAILED_STATUSES = ("error", "timeout", "crashed", "oom")
UNKNOWN_FAMILY = "unknown"


class Completeness(tuple):
    """(stored final cells N, planned cells M) — a pair, as before — and `running`: who is writing
    the store now (pid and start), or None."""

    running: str | None

    def __new__(cls, stored: int, planned: int, running: str | None = None) -> "Completeness":
        pair = super().__new__(cls, (stored, planned))
        pair.running = running
        return pair

    def __getnewargs__(self) -> tuple[int, int, str | None]:  # type: ignore[override]
        """What pickle passes to `__new__` (a tuple's own would be the pair alone): boards holding it
        travel to the figure workers."""
        return (self.stored, self.planned, self.running)

    @property
    def stored(self) -> int:
        return int(self[0])

    @property
    def planned(self) -> int:
        return int(self[1])

    def describe(self) -> str:
        """`incomplete: run in progress (pid 7, started ...), 300 of 360 results`, or '' when complete. A
        result is a cell or one of its post-hoc steps (the rows a board ranks), so with post-hoc steps
        there are more results than the cells `run` and `plan` count."""
        parts = ([f"run in progress ({self.running})"] if self.running else []) + (
            [f"{self.stored:,} of {self.planned:,} results"] if self.stored < self.planned else [])
        return f"incomplete: {', '.join(parts)}" if parts else ""


def metric_columns(cells: pd.DataFrame) -> list[str]:
    """The metric columns of a results frame (everything that is not identity or bookkeeping)."""
    return sorted(set(cells.columns) - CELL_COLUMNS)


@dataclass
class RunResults:
    """A run's stored results: the results frame (one row per cell and post-hoc step), dataset
    metadata indexed by name, the run meta, and how many cells the spec plans."""

    results_dir: Path
    results: pd.DataFrame
    datasets: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    #: Labels of anti-pattern strategies (e.g. leaky-smote) left out of the results, so outputs can say so.
    anti_patterns: list[str] = field(default_factory=list)
    #: Rows (cell × post-hoc step) the stored grid spec plans; None when the spec does not say.
    expected_cells: int | None = None
    #: Rows stored with a final status (ok or skipped), anti-patterns included, to set against `expected_cells`.
    stored_cells: int = 0

    @classmethod
    def load(cls, results_dir: str | Path, include_anti_patterns: bool = False) -> "RunResults":
        """Read a run; anti-pattern strategies (demonstrations of a mistake) are left out unless asked for."""
        results_dir = Path(results_dir)
        results, meta = results_frame(results_dir)
        stored = int(results["status"].isin(FINAL_STATUSES).sum()) if len(results) else 0
        left_out: list[str] = []
        if not include_anti_patterns and len(results):
            flagged = results["anti_pattern"].astype(bool)
            left_out = sorted(results.loc[flagged, "label"].unique())
            results = results.loc[~flagged].reset_index(drop=True)
        datasets = dataset_table(store_reader(results_dir).datasets(), results)
        expected = meta.get("expected_results")
        return cls(results_dir, results, datasets, meta, left_out,
                   int(expected) if isinstance(expected, (int, float)) else None, stored)

    @property
    def planned_folds(self) -> int | None:
        """Folds × repeats per dataset the spec plans (None when it does not say)."""
        cv = (self.meta.get("spec") or {}).get("cv") or {}
        try:
            return int(cv["n_splits"]) * int(cv["n_repeats"])
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def completeness(self) -> Completeness | None:
        """(stored final cells N, planned cells M, the run writing the store) when the spec says M or a
        run is in progress, for "incomplete: run in progress, N of M cells"."""
        running = self.meta.get("in_progress")
        if self.expected_cells is None and not running:
            return None
        planned = self.expected_cells if self.expected_cells is not None else self.stored_cells
        return Completeness(self.stored_cells, planned, running)

    def anti_pattern_note(self) -> str:
        """One line saying which anti-pattern strategies were left out ('' when none)."""
        if not self.anti_patterns:
            return ""
        return (f"left out: anti-pattern strategies {', '.join(self.anti_patterns)} (demonstrations of a mistake; "
                "--include-anti-patterns shows them)")

    @property
    def models(self) -> list[str]:
        return sorted(self.results["model"].unique())

    @property
    def labels(self) -> list[str]:
        return sorted(self.results["label"].unique())

    def families(self) -> dict[str, str]:
        """label → family stored with its cells (a strategy's own family when chance models share its label)."""
        pairs = self.results[["label", "family"]].drop_duplicates()
        pairs = pairs.iloc[(pairs["family"] == "baseline").argsort(kind="stable")].drop_duplicates("label")
        return dict(pairs.itertuples(index=False))

    def predictions(self, keys: list[str]) -> pd.DataFrame:
        return store_reader(self.results_dir).predictions(keys)


def dataset_table(meta: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """Dataset metadata indexed by name, one row per dataset that has cells; IR falls back to the
    stored test-fold prevalence when the metadata lacks it."""
    names = sorted(cells["dataset"].unique()) if len(cells) else []
    table = meta.set_index("name") if "name" in meta.columns else pd.DataFrame(index=pd.Index([], name="name"))
    table = table.reindex(names)
    if "prevalence" in cells.columns and len(cells):
        prevalence = cells.groupby("dataset")["prevalence"].mean().reindex(names)
        fallback = (1 - prevalence) / prevalence
        table["ir"] = table["ir"].astype(float).fillna(fallback) if "ir" in table.columns else fallback
    elif "ir" not in table.columns:
        table["ir"] = np.nan
    table.index.name = "name"
    return table
