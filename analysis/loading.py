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

    @classmethod
    def load(cls, results_dir: str | Path) -> "RunResults":
        results_dir = Path(results_dir)
        cells = read_cells(results_dir)
        meta = read_meta(results_dir)
        datasets = dataset_table(read_datasets(results_dir), cells)
        return cls(results_dir, cells, datasets, meta)

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
