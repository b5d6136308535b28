"""Running one cell: fold → applicability check → build → fit on train → predict test → metrics.

This is the only code that runs in workers. It never writes anything: it returns a CellResult and
the client stores it. Any exception becomes an `error` result, never a fallback.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_limits

from benchmarks.cells import Cell, derive_seed
from benchmarks.cv import fold_indices
from benchmarks.metrics import MetricConfig, compute_metrics
from benchmarks.store import CellResult
from datasets import Dataset, load_dataset
from strategies import TrainingContext, get_model, get_strategy

MAX_MESSAGE = 500


@dataclass(frozen=True)
class CellTask:
    """What a worker needs: the cell and the metric configuration (the data is loaded by name)."""

    cell: Cell
    metrics: MetricConfig
    skip_reason: str = ""
    #: k > 1: also store out-of-fold predictions on the training fold from an inner stratified k-fold, so
    #: thresholds and alert budgets can later be chosen on training data only (analysis never refits).
    inner_folds: int = 0


@lru_cache(maxsize=4)
def cached_dataset(name: str) -> Dataset:
    """Each worker loads a dataset once; bundled loads take milliseconds, so no data is shipped."""
    return load_dataset(name)


def _result(cell: Cell, status: str, message: str = "", **fields: object) -> CellResult:
    return CellResult(key=cell.key, dataset=cell.dataset, model=cell.model, strategy=cell.strategy.name,
                      label=cell.strategy.label, params=cell.strategy.params, repeat=cell.repeat, fold=cell.fold,
                      status=status, message=message[:MAX_MESSAGE], **fields)  # type: ignore[arg-type]


def failed_result(cell: Cell, status: str, message: str) -> CellResult:
    """A `timeout` or `crashed` row, written by the client for a cell whose worker was lost."""
    return _result(cell, status, message)


def one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0] if text else type(exc).__name__


def inner_oof(estimator: BaseEstimator, X_train: pd.DataFrame, y_train: np.ndarray, k: int, seed: int
              ) -> tuple[np.ndarray, float]:
    """Out-of-fold probabilities on the training fold from fresh clones (inner stratified k-fold)."""
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=derive_seed("inner", seed))
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        proba = cross_val_predict(clone(estimator), X_train, y_train, cv=folds, method="predict_proba")[:, 1]
    return proba.astype(np.float64), time.perf_counter() - start


def run_cell(task: CellTask) -> CellResult:
    """Fit and score one cell; every failure is a stored row with its reason."""
    cell = task.cell
    if task.skip_reason:
        return _result(cell, "skipped", task.skip_reason)
    try:
        data = cached_dataset(cell.dataset)
        train, test = fold_indices(data.y, cell.n_splits, cell.n_repeats, cell.run_seed, cell.dataset,
                                   cell.repeat, cell.fold)
        model = get_model(cell.model)
        strategy = get_strategy(cell.strategy.name)
        y_train = data.y[train]
        ctx = TrainingContext(n_train=len(train), n_pos=int(y_train.sum()),
                              numeric_columns=tuple(data.numeric), categorical_columns=tuple(data.categorical))
        ok, reason = strategy.check(model, cell.strategy.params, ctx)
        if not ok:
            return _result(cell, "skipped", reason or "strategy not applicable")
        estimator = strategy.build(model, cell.strategy.params, ctx, cell.seed)
        with threadpool_limits(limits=1):
            start = time.perf_counter()
            estimator.fit(data.X.iloc[train], y_train)
            fit_seconds = time.perf_counter() - start
            start = time.perf_counter()
            proba = np.asarray(estimator.predict_proba(data.X.iloc[test]))[:, 1]
            predict_seconds = time.perf_counter() - start
        if not np.all(np.isfinite(proba)) or proba.min() < 0 or proba.max() > 1:
            return _result(cell, "error", "model returned probabilities outside [0, 1] or non-finite")
        threshold = getattr(estimator, "deployed_threshold_", None)
        y_test = data.y[test]
        metrics = compute_metrics(y_test, proba, task.metrics, deployed_threshold=threshold)
        extra: dict[str, object] = {"threshold": threshold} if threshold is not None else {}
        inner = None
        if task.inner_folds > 1:
            inner, extra["inner_seconds"] = inner_oof(estimator, data.X.iloc[train], y_train, task.inner_folds,
                                                      cell.seed)
        return _result(cell, "ok", metrics=metrics, fit_seconds=fit_seconds, predict_seconds=predict_seconds,
                       extra=extra, row_index=test.astype(np.int32), y_true=y_test.astype(np.int8),
                       proba=proba.astype(np.float64),
                       train_row_index=train.astype(np.int32) if inner is not None else None,
                       train_y_true=y_train.astype(np.int8) if inner is not None else None, train_proba=inner)
    except Exception as exc:  # recorded, never papered over
        return _result(cell, "error", one_line(exc), extra={"traceback": traceback.format_exc()[-4000:]})
