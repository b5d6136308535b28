"""Everything analysis reads from a results folder, loaded once: cells, dataset metadata, run spec.

Analysis never refits: every table and figure is computed from what the runner stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.store import read_cells, read_datasets, read_meta, read_predictions

#: Columns of `read_cells` that are not metrics (identity, status and bookkeeping).
CELL_COLUMNS = frozenset({"key", "dataset", "model", "strategy", "label", "params", "posthoc", "repeat", "fold",
                          "status", "message", "fit_seconds", "predict_seconds", "extra", "finished_at"})
FAILED_STATUSES = ("error", "timeout", "crashed")
UNKNOWN_FAMILY = "unknown"


def metric_columns(cells: pd.DataFrame) -> list[str]:
    """The metric columns of a cells table (everything that is not cell identity or bookkeeping)."""
    return sorted(set(cells.columns) - CELL_COLUMNS)


@lru_cache(maxsize=None)
def family_of(strategy: str) -> str:
    """The registered family of a strategy name, or "unknown" when it is no longer registered
    (a store outlives the code that wrote it)."""
    try:
        from strategies import get_strategy

        return get_strategy(strategy).family
    except Exception:  # unregistered, or the strategies package failed to import
        return UNKNOWN_FAMILY


@dataclass
class RunResults:
    """A run's stored results: one row per cell, dataset metadata indexed by name, and the run meta."""

    results_dir: Path
    cells: pd.DataFrame
    datasets: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    #: Labels of anti-pattern strategies (e.g. leaky-smote) left out of the cells, so outputs can say so.
    anti_patterns: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, results_dir: str | Path, include_anti_patterns: bool = False) -> "RunResults":
        """Read a run; anti-pattern strategies (demonstrations of a mistake) are left out unless asked for."""
        results_dir = Path(results_dir)
        cells = read_cells(results_dir)
        left_out: list[str] = []
        if not include_anti_patterns and len(cells):
            flagged = anti_pattern_rows(cells)
            left_out = sorted(cells.loc[flagged, "label"].unique())
            cells = cells.loc[~flagged].reset_index(drop=True)
        meta = read_meta(results_dir)
        datasets = dataset_table(read_datasets(results_dir), cells)
        return cls(results_dir, cells, datasets, meta, left_out)

    def anti_pattern_note(self) -> str:
        """One line saying which anti-pattern strategies were left out ('' when none)."""
        if not self.anti_patterns:
            return ""
        return (f"left out: anti-pattern strategies {', '.join(self.anti_patterns)} (demonstrations of a mistake; "
                "--include-anti-patterns shows them)")

    @property
    def models(self) -> list[str]:
        return sorted(self.cells["model"].unique())

    @property
    def labels(self) -> list[str]:
        return sorted(self.cells["label"].unique())

    def families(self) -> dict[str, str]:
        """label → family of the strategy it was built from."""
        pairs = self.cells[["label", "strategy"]].drop_duplicates("label")
        return {label: family_of(strategy) for label, strategy in pairs.itertuples(index=False)}

    def predictions(self, keys: list[str]) -> pd.DataFrame:
        return read_predictions(self.results_dir, keys)


def anti_pattern_rows(cells: pd.DataFrame) -> pd.Series:
    """`analysis.anti_patterns.is_anti_pattern`, asked only about the rows that can be one: those whose
    `extra` mentions the flag or whose strategy is registered as an anti-pattern. Same answer, but it
    parses a few JSON strings instead of every cell's (5 s → 0.1 s on 100,000 cells)."""
    from analysis.anti_patterns import is_anti_pattern

    strategies = cells.drop_duplicates("strategy").assign(extra="{}")
    registered = set(strategies.loc[is_anti_pattern(strategies), "strategy"])
    candidates = cells["extra"].astype(str).str.contains("anti_pattern", regex=False) | cells["strategy"].isin(registered)
    flagged = pd.Series(False, index=cells.index, dtype=bool)
    if candidates.any():
        flagged[candidates] = is_anti_pattern(cells[candidates]).to_numpy()
    return flagged


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
