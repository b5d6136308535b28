"""The stored folds the prior-shift, calibration and budget analyses work on, loaded once.

Each ok cell becomes a `StoredFold`: its test-fold predictions (sorted once), its training fold's
inner out-of-fold predictions when the grid stored them (`[cv] inner_folds = k`, or any post-hoc
step), the training fold's prevalence, the prior its model was trained at (recorded with the cell)
and the post-hoc threshold it deploys. Derived post-hoc labels become folds too: a threshold step
shares its cell's predictions and deploys its own threshold; a calibration or prior correction brings
its own probabilities. Nothing is refitted, and no strategy registry is needed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imbench.analysis.prior_shift import model_prior
from imbench.analysis.shift_metrics import SortedFold
from imbench.benchmarks.store.reader import store_reader, store_stamp
from imbench.foundation.progress import stage

#: One line for every store without training-fold predictions.
MISSING_TRAIN_PREDICTIONS = (
    "no inner out-of-fold predictions on the training folds in this store, so precision, recall and alert rate at a "
    "threshold chosen on training data are unavailable (post-hoc threshold labels excepted): add `inner_folds = 3` "
    "under [cv] in the grid and run it again into the same folder (only the inner models are fitted)")


@dataclass(frozen=True)
class StoredFold:
    key: str
    dataset: str
    model: str
    strategy: str
    label: str
    family: str
    repeat: int
    fold: int
    test: SortedFold
    train_y: np.ndarray | None
    train_proba: np.ndarray | None
    #: Prevalence of the training fold: the prior at deployment when nothing shifts.
    train_prior: float
    #: Prior the model's probabilities are calibrated to, and the rule that said so (PRIOR_RULES).
    model_prior: float
    prior_rule: str
    #: Threshold a post-hoc threshold strategy chose on the training fold (`extra["threshold"]`).
    posthoc_threshold: float | None

    @property
    def has_train_predictions(self) -> bool:
        return self.train_proba is not None

    def identity(self) -> dict[str, Any]:
        return {"key": self.key, "dataset": self.dataset, "model": self.model, "strategy": self.label,
                "family": self.family, "repeat": self.repeat, "fold": self.fold}


@dataclass
class StoredFolds:
    """Every ok fold of a run, all cells (failures included, for counting) and the run's ECE bins."""

    results_dir: Path
    cells: pd.DataFrame
    folds: list[StoredFold]
    ece_bins: int

    @property
    def n_with_train_predictions(self) -> int:
        return sum(f.has_train_predictions for f in self.folds)

    @property
    def labels(self) -> list[str]:
        return sorted(self.cells["label"].unique()) if len(self.cells) else []

    def subset(self, dataset: str | None = None, model: str | None = None) -> "StoredFolds":
        """Only the folds (and cells) of one dataset and/or one model: the per-dataset answer. A name
        the store does not hold is an UnknownNameError naming the closest stored ones."""
        from imbench.foundation.names import UnknownNameError, unknown_name_message

        cells, folds = self.cells, self.folds
        for column, name in (("dataset", dataset), ("model", model)):
            if name is None:
                continue
            stored = sorted(self.cells[column].unique()) if len(self.cells) else []
            if name not in stored:
                raise UnknownNameError(unknown_name_message(f"{column} in this store", name, stored))
            cells = cells[cells[column] == name]
            folds = [f for f in folds if getattr(f, column) == name]
        return replace(self, cells=cells.reset_index(drop=True), folds=folds)

    def notes(self) -> list[str]:
        """What is missing and how to get it (one line each)."""
        notes = []
        if self.folds and self.n_with_train_predictions == 0:
            notes.append(MISSING_TRAIN_PREDICTIONS)
        elif self.n_with_train_predictions < len(self.folds):
            notes.append(f"{len(self.folds) - self.n_with_train_predictions} of {len(self.folds)} folds have no "
                         "training-fold out-of-fold predictions; their thresholds are unavailable")
        failed = int((self.cells["status"] != "ok").sum()) if len(self.cells) else 0
        if failed:
            notes.append(f"{failed} cells are not ok (error, timeout, crashed or skipped) and are left out; "
                         "a strategy is only summarised on datasets where all its folds are ok")
        return notes


def load_folds(results_dir: str | Path) -> StoredFolds:
    """Read cells, predictions and dataset metadata of a run (StoreError if it is not a store).
    Cached per store content, so a report calling several analyses reads the store once."""
    return _load_folds(Path(results_dir), store_stamp(results_dir))


@lru_cache(maxsize=2)
def _load_folds(results_dir: Path, stamp: tuple[object, ...]) -> StoredFolds:
    stage("reading predictions")
    store = store_reader(results_dir)
    cells = store.cells()
    derived = store.derived()
    spec = store.meta().get("spec") or {}
    ece_bins = int((spec.get("metrics") or {}).get("ece_bins", 10))
    datasets = store.datasets()
    datasets = datasets.set_index("name") if "name" in datasets.columns else datasets
    ok = cells[cells["status"] == "ok"]
    test = _by_key(store.predictions(list(ok["key"])))
    inner = store.inner_predictions(list(ok["key"]))
    folds: dict[str, StoredFold] = {}
    sizes = _dataset_sizes(datasets)
    for row in ok.itertuples(index=False):
        if row.key not in test:
            continue
        y, proba = test[row.key]
        own = inner.get(row.key)
        train_y = None if own is None else np.asarray(own.y_true)
        train_prior = float(np.mean(train_y)) if train_y is not None else _train_prior(row.dataset, y, sizes)
        recorded = None if row.training_prior != row.training_prior else float(row.training_prior)
        m_prior, rule = model_prior(recorded, row.prior_rule, train_prior)
        folds[row.key] = StoredFold(row.key, row.dataset, row.model, row.strategy, row.label, row.family,
                                    int(row.repeat), int(row.fold), SortedFold.from_arrays(y, proba), train_y,
                                    None if own is None else np.asarray(own.proba), train_prior, m_prior, rule, None)
    derived_folds = _derived_folds(results_dir, derived, folds, test)
    return StoredFolds(results_dir, _all_labels(cells, derived), list(folds.values()) + derived_folds, ece_bins)


def _derived_folds(results_dir: Path, derived: pd.DataFrame, base: dict[str, StoredFold],
                   test: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[StoredFold]:
    """Folds of the post-hoc labels: a threshold step deploys its own threshold on its cell's
    predictions; a step that changes probabilities brings its own (calibrated to the training prior)."""
    out = []
    # chance references (family `baseline`) are rows as they come: their post-hoc labels are left out
    ok = derived[(derived["status"] == "ok") & derived["key"].isin([k for k, f in base.items() if f.family != "baseline"])]
    for step, rows in ok.groupby("posthoc", sort=True):
        probabilities = store_reader(results_dir).derived_probabilities(str(step), list(rows["key"]))
        for row in rows.itertuples(index=False):
            fold = base[row.key]
            label = f"{fold.label}+{step}"
            if row.key in probabilities:
                proba, inner_proba = probabilities[row.key]
                out.append(replace(fold, label=label, test=SortedFold.from_arrays(test[row.key][0], proba),
                                   train_proba=inner_proba if inner_proba is not None else fold.train_proba,
                                   model_prior=fold.train_prior, prior_rule="posthoc"))
            else:
                threshold = float(row.threshold) if row.threshold == row.threshold else None
                out.append(replace(fold, label=label, posthoc_threshold=threshold))
    return out


def _dataset_sizes(datasets: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """dataset → (n, n_pos) from the stored metadata, looked up once (a pandas lookup per fold cost
    about a millisecond: most of reading a 10,000-cell store)."""
    if not {"n", "n_pos"} <= set(datasets.columns):
        return {}
    n, n_pos = (pd.to_numeric(datasets[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                for column in ("n", "n_pos"))
    return dict(zip(datasets.index, zip(n, n_pos)))


def _train_prior(dataset: str, test_y: np.ndarray, sizes: dict[str, tuple[float, float]]) -> float:
    """The training fold's prevalence without its labels: dataset totals minus the test fold."""
    n, n_pos = sizes.get(dataset, (math.nan, math.nan))
    if not math.isnan(n) and not math.isnan(n_pos) and n > len(test_y):
        return float((n_pos - test_y.sum()) / (n - len(test_y)))
    return float(np.mean(test_y))  # stratified folds: the test prevalence is the training one ±1 row


def _all_labels(cells: pd.DataFrame, derived: pd.DataFrame) -> pd.DataFrame:
    """Every stored cell and derived result as (key, dataset, model, strategy, label, status, repeat,
    fold): what the analyses count and list, failures included."""
    columns = ["key", "dataset", "model", "strategy", "label", "status", "repeat", "fold"]
    steps = derived[["key", "posthoc", "status"]].merge(cells[[c for c in columns if c != "status"]], on="key")
    steps["label"] = steps["label"] + "+" + steps["posthoc"]
    return pd.concat([cells[columns], steps[columns]], ignore_index=True)


def _by_key(predictions: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {key: (part["y_true"].to_numpy(), part["proba"].to_numpy())
            for key, part in predictions.groupby("key", sort=False)}
