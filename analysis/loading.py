"""Everything analysis reads from a results folder, loaded once: the results frame, dataset
metadata, the run spec and how many cells the spec plans.

Analysis never refits: every table and figure is computed from what the runner stored. Everything
downstream reads `RunResults.results`, one row per (cell, post-hoc step) with the columns listed in
`RESULT_COLUMNS` plus one column per metric (NaN where the row's label does not carry that metric,
see `foundation.metrics.metric_kind`). `results_frame` builds it from the store; it is the only place
that knows the store's schema.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.store import read_cells, read_datasets, read_meta, read_predictions
from foundation.metrics import metric_kind

#: Columns of the results frame that are not metrics: identity, what the row is, status, timings.
RESULT_COLUMNS = ("key", "posthoc", "label", "base_label", "dataset", "model", "strategy", "family", "anti_pattern",
                  "repeat", "fold", "status", "message", "degenerate", "outcome", "fit_seconds", "predict_seconds")
#: Columns of a store's cells table (schema 1) that are neither results-frame columns nor metrics.
STORE_ONLY_COLUMNS = ("params", "extra", "finished_at")
CELL_COLUMNS = frozenset(RESULT_COLUMNS) | frozenset(STORE_ONLY_COLUMNS)
FAILED_STATUSES = ("error", "timeout", "crashed", "oom")
#: Statuses after which a cell is not run again (what "stored" means for a partial store).
FINAL_STATUSES = ("ok", "skipped")
UNKNOWN_FAMILY = "unknown"


def metric_columns(cells: pd.DataFrame) -> list[str]:
    """The metric columns of a results frame (everything that is not identity or bookkeeping)."""
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
        results = results_frame(read_cells(results_dir))
        stored = int(results["status"].isin(FINAL_STATUSES).sum()) if len(results) else 0
        left_out: list[str] = []
        if not include_anti_patterns and len(results):
            flagged = results["anti_pattern"].astype(bool)
            left_out = sorted(results.loc[flagged, "label"].unique())
            results = results.loc[~flagged].reset_index(drop=True)
        meta = read_meta(results_dir)
        datasets = dataset_table(read_datasets(results_dir), results)
        return cls(results_dir, results, datasets, meta, left_out, expected_cells(meta.get("spec")), stored)

    @property
    def planned_folds(self) -> int | None:
        """Folds × repeats per dataset the spec plans (None when it does not say)."""
        cv = (self.meta.get("spec") or {}).get("cv") or {}
        try:
            return int(cv["n_splits"]) * int(cv["n_repeats"])
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def completeness(self) -> tuple[int, int] | None:
        """(stored final cells N, planned cells M) when the spec says M, for "incomplete: N of M cells"."""
        return None if self.expected_cells is None else (self.stored_cells, self.expected_cells)

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
        """label → family stored with its cells."""
        pairs = self.results[["label", "family"]].drop_duplicates("label")
        return dict(pairs.itertuples(index=False))

    def predictions(self, keys: list[str]) -> pd.DataFrame:
        return read_predictions(self.results_dir, keys)


def expected_cells(spec: dict[str, Any] | None) -> int | None:
    """Rows of the results frame the stored spec plans: datasets × models × strategy points ×
    post-hoc steps × folds × repeats (None when the spec is missing or does not say)."""
    if not spec:
        return None
    try:
        cv = spec["cv"]
        return (len(spec["datasets"]) * len(spec["models"]) * len(spec["strategies"])
                * len(spec.get("posthoc") or ["none"]) * int(cv["n_splits"]) * int(cv["n_repeats"]))
    except (KeyError, TypeError, ValueError):
        return None


def results_frame(cells: pd.DataFrame) -> pd.DataFrame:
    """The results frame (see the module docstring) from a schema-1 `read_cells` table.

    Schema 1 stores each `strategy+step` as its own cell and does not record families, so this
    shim splits the label, asks the registry for families, finds anti-patterns by the stored flag,
    fills `…@deployed` of rows without a threshold step from `…@0.5` (their deployed threshold
    is 0.5), blanks the metrics a step cannot change, and makes a precision undefined (NaN, not 0)
    where nothing was flagged. Schema 1 records no degenerate fits and no threshold outcomes.
    """
    every = {"ranking", "probability", "decision@0.5", "decision@deployed", "reference"}
    carried = {"none": every, "calibrate:isotonic": every, "calibrate:sigmoid": every - {"ranking"},
               "prior": every - {"ranking"}, "threshold": {"decision@deployed", "reference"}}
    frame = cells.copy()
    split = {label: (label.split("+", 1) + ["none"])[:2] for label in frame["label"].unique()}  # few labels, many rows
    frame["base_label"] = frame["label"].map({label: parts[0] for label, parts in split.items()})
    frame["posthoc"] = frame["label"].map({label: parts[1] for label, parts in split.items()})
    frame["family"] = frame["strategy"].map({s: family_of(s) for s in frame["strategy"].unique()})
    frame["anti_pattern"] = anti_pattern_rows(frame) if len(frame) else pd.Series(dtype=bool)
    frame["degenerate"], frame["outcome"] = False, ""
    metrics = metric_columns(frame)
    is_threshold = frame["posthoc"].isin([p for p in frame["posthoc"].unique() if p.startswith("threshold")])
    for name in [m for m in metrics if metric_kind(m) == "decision@0.5"]:
        deployed = name.replace("@0.5", "@deployed")
        fill = frame[name].where(~is_threshold)
        frame[deployed] = frame[deployed].fillna(fill) if deployed in frame.columns else fill
    for step in frame["posthoc"].unique():
        kinds = carried.get(step.split(":")[0] if step.startswith("threshold") else step, every)
        blank = [m for m in metric_columns(frame) if metric_kind(m) not in kinds]
        frame.loc[frame["posthoc"] == step, blank] = np.nan
    for suffix in ("@0.5", "@deployed"):
        if f"precision{suffix}" in frame.columns and f"alert_rate{suffix}" in frame.columns:
            frame.loc[frame[f"alert_rate{suffix}"] == 0, f"precision{suffix}"] = np.nan
    ordered = [c for c in RESULT_COLUMNS if c in frame.columns]
    return frame[ordered + metric_columns(frame)]


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
