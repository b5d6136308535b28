"""Everything analysis reads from a results folder, loaded once: the results frame (one row per cell
and post-hoc step, `analysis.results_frame`), dataset metadata, run meta.

Analysis never refits and never asks the strategy registry: every table and figure is computed from
what the runner stored, including what each cell is (family, anti-pattern flag).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.results_frame import IDENTITY, results_frame
from benchmarks.store import read_datasets, read_predictions

#: Columns of the results frame that are not metrics (identity, status and bookkeeping).
CELL_COLUMNS = frozenset(IDENTITY) | {"extra", "finished_at"}
FAILED_STATUSES = ("error", "timeout", "crashed", "oom")
UNKNOWN_FAMILY = "unknown"


def metric_columns(cells: pd.DataFrame) -> list[str]:
    """The metric columns of a results frame (everything that is not identity or bookkeeping)."""
    return sorted(set(cells.columns) - CELL_COLUMNS)


@dataclass
class RunResults:
    """A run's stored results: the results frame, dataset metadata indexed by name, and the run meta."""

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
        cells, meta = results_frame(str(results_dir))
        left_out: list[str] = []
        if not include_anti_patterns and len(cells):
            flagged = cells["anti_pattern"]
            left_out = sorted(cells.loc[flagged, "label"].unique())
            cells = cells.loc[~flagged].reset_index(drop=True)
        datasets = dataset_table(read_datasets(results_dir), cells)
        return cls(results_dir, cells, datasets, meta, left_out)

    @property
    def results(self) -> pd.DataFrame:
        return self.cells

    @property
    def expected_cells(self) -> int | None:
        value = self.meta.get("expected_cells")
        return int(value) if isinstance(value, (int, float)) else None

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
        """label → family of the strategy it was built from (stored with each cell)."""
        pairs = self.cells[["label", "family"]].drop_duplicates("label")
        return dict(pairs.itertuples(index=False))

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
