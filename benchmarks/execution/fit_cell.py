"""Running one cell: fold → applicability check → build → fit on the training rows → predict the test
rows → metrics; then, when the grid asks, an inner stratified k-fold of the whole pipeline on the
training fold, and the post-hoc steps derived from those predictions.

This is the only code that runs in workers. It never writes anything: it returns a CellResult and
the client stores it. Any exception becomes an `error` result, never a fallback; a strategy that
cannot apply (its `check`, or `NotApplicable` raised during fit) becomes a `skipped` result.

A cell does exactly 1 + k fits whatever the number of post-hoc steps, and its final model is the same
whether or not the inner folds are fitted (they are separate estimators, fitted after it). Only the
training rows reach `fit`; the single exception is a strategy declared both `anti_pattern` and
`uses_full_dataset` (`leaky-smote`), whose `training_data` sees the whole dataset on purpose (it gets
no inner folds and no post-hoc steps).
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from imbench.benchmarks.spec.cells import Cell
from imbench.benchmarks.spec.cv import fold_indices
from imbench.benchmarks.execution.derive import MAX_MESSAGE, CellPredictions, derive, one_line
from imbench.benchmarks.execution.fold_rows import fits_in_batches, predict_positive, take_rows
from imbench.benchmarks.store.results import CellResult, InnerPredictions
from imbench.datasets import Dataset, load_dataset
from imbench.foundation.hashing import derive_seed
from imbench.foundation.metrics import MetricConfig, compute_metrics
from imbench.foundation.plugins import load_external_plugins
from imbench.strategies import TrainingContext, get_model, get_strategy
from imbench.strategies.base import NotApplicable
from imbench.strategies.row_fit import fit_from_rows, fits_from_rows


@dataclass(frozen=True)
class CellTask:
    """What a worker needs: the cell, what to compute, and the dataset's fingerprint (the data itself
    is loaded by name in the worker)."""

    cell: Cell
    metrics: MetricConfig
    #: k ≥ 2: also fit an inner stratified k-fold on the training fold; 0: none.
    inner_folds: int = 0
    #: Post-hoc steps (canonical text, not "none") to derive from the predictions.
    steps: tuple[str, ...] = ()
    skip_reason: str = ""
    fingerprint: str = ""
    #: The final fit is already stored (with these test probabilities and the prior its model trained
    #: at): fit only the inner models.
    stored_test_proba: np.ndarray | None = field(default=None, compare=False)
    stored_model_prior: float | None = None

    @property
    def inner_only(self) -> bool:
        return self.stored_test_proba is not None


#: name → file of a dataset the client shares memory-mapped (benchmarks/execution/shared_data.py), in local workers.
_SHARED_FILES: dict[str, str] = {}
#: What a worker keeps loaded: at most this many datasets and, for those it holds in its own memory
#: (not mapped from the client's shared copy), at most this many bytes; least recently used go first.
CACHE_DATASETS = 64
CACHE_BYTES = 512 * 2**20
_CACHE: OrderedDict[str, tuple[Dataset, int]] = OrderedDict()


def use_shared_files(files: dict[str, str]) -> None:
    """Read these datasets from the client's mapped files instead of loading them by name."""
    _SHARED_FILES.clear()
    _SHARED_FILES.update(files)
    _CACHE.clear()


def cached_dataset(name: str) -> Dataset:
    """Each worker loads a dataset once (while it fits the cache): a large one by mapping the client's
    shared copy, others by name (bundled loads take milliseconds, so no data is shipped)."""
    if name in _CACHE:
        _CACHE.move_to_end(name)
        return _CACHE[name][0]
    if name in _SHARED_FILES:
        from imbench.benchmarks.execution.shared_data import load_shared

        dataset, size = load_shared(_SHARED_FILES[name]), 0
    else:
        from imbench.benchmarks.execution.shared_data import nbytes

        dataset = load_dataset(name)
        size = nbytes(dataset)
    _CACHE[name] = (dataset, size)
    while len(_CACHE) > 1 and (len(_CACHE) > CACHE_DATASETS or sum(s for _, s in _CACHE.values()) > CACHE_BYTES):
        _CACHE.popitem(last=False)
    return dataset


def cell_family(cell: Cell) -> str:
    """The family stored with a cell: its strategy's, or `baseline` for a chance reference model."""
    return get_model(cell.model_config.name).family or cell.strategy.family


def _result(task: CellTask, status: str, message: str = "", **fields: Any) -> CellResult:
    cell = task.cell
    return CellResult(key=cell.key, dataset=cell.dataset, model=cell.model, strategy=cell.strategy.name,
                      label=cell.strategy.label, params=cell.strategy.params, repeat=cell.repeat, fold=cell.fold,
                      status=status, message=message[:MAX_MESSAGE], family=cell_family(cell),
                      anti_pattern=cell.strategy.anti_pattern, fingerprint=task.fingerprint, **fields)


def failed_result(task: CellTask, status: str, message: str) -> CellResult:
    """A `timeout` or `crashed` row, written by the client for a cell whose worker was lost."""
    return _result(task, status, message)


def oom_result(task: CellTask, limit_mb: float | None, message: str, peak_bytes: int) -> CellResult:
    """An `oom` row: the limit is kept with the cell, so a later run retries it only under a higher one."""
    return _result(task, "oom", message, extra={"memory_limit_mb": limit_mb, "peak_mb": round(peak_bytes / 2**20, 1)})


@dataclass
class FoldFit:
    """A strategy fitted on one fold: the estimator, test-fold probabilities, timings, the prior it
    learned at and what to record with the cell."""

    estimator: BaseEstimator
    proba: np.ndarray
    fit_seconds: float
    predict_seconds: float
    training_prior: float | None = None
    prior_rule: str = "unknown"
    extra: dict[str, Any] = field(default_factory=dict)


def fit_on_fold(model_name: str, strategy_name: str, params: dict[str, Any], X: pd.DataFrame, y: np.ndarray,
                categorical: list[str], train: np.ndarray, test: np.ndarray, seed: int,
                model_options: dict[str, Any] | None = None) -> FoldFit:
    """Check, build, fit on the training rows and predict the test rows; NotApplicable if it cannot apply.

    The contract tests call this directly, with altered test rows, to prove fitted models depend on
    training rows only.
    """
    model = get_model(model_name).with_options(model_options or {})
    strategy = get_strategy(strategy_name)
    params = strategy.resolve_params(params)
    y_train = np.asarray(y)[train]
    numeric = [c for c in X.columns if c not in set(categorical)]
    ctx = TrainingContext(n_train=len(train), n_pos=int(y_train.sum()), numeric_columns=tuple(numeric),
                          categorical_columns=tuple(categorical))
    used, notes = strategy.adapt(model, params, ctx)
    ok, reason = strategy.check(model, used, ctx)
    if not ok:
        raise NotApplicable(reason or f"strategy {strategy.name!r} not applicable")
    estimator = strategy.build(model, used, ctx, seed)
    if strategy.uses_full_dataset:
        if not strategy.anti_pattern:  # register_strategy refuses this too; never let it through
            raise RuntimeError(f"strategy {strategy.name!r} asks for the full dataset but is not an anti-pattern")
        X_fit, y_fit = strategy.training_data(X, np.asarray(y), train, used, seed)
    elif fits_from_rows(estimator) and fits_in_batches(X):
        X_fit, y_fit = None, y_train  # read from X a batch at a time, never copied whole
    else:
        X_fit, y_fit = take_rows(X, train), y_train
    with threadpool_limits(limits=1):
        start = time.perf_counter()
        if X_fit is None:
            fit_from_rows(estimator, X, train, y_fit)
        else:
            estimator.fit(X_fit, y_fit)
        fit_seconds = time.perf_counter() - start
        X_fit = None  # the training rows' copy is not needed to predict: free it first (large datasets)
        start = time.perf_counter()
        proba = predict_positive(estimator, X, test)
        predict_seconds = time.perf_counter() - start
    extra: dict[str, Any] = {}
    if notes:
        extra["adapted"] = notes
        extra["effective_params"] = used
    rules = [getattr(part, "min_leaf_rule_") for part in _estimators(estimator) if hasattr(part, "min_leaf_rule_")]
    if rules:
        extra["model_rules"] = rules
    prior, rule = strategy.learned_prior(estimator, used, np.asarray(y_fit))
    return FoldFit(estimator, proba, fit_seconds, predict_seconds, prior, rule, extra)


def _estimators(estimator: Any) -> list[Any]:
    """The estimator, its pipeline steps and the members of wrappers and ensembles (one level each way)."""
    parts = [estimator]
    for step in getattr(estimator, "named_steps", {}).values():
        parts += [step, *getattr(step, "estimators_", [])[:1], getattr(step, "estimator_", None)]
    return [p for p in parts if p is not None]


def _check_proba(proba: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(proba)) or proba.min(initial=0) < 0 or proba.max(initial=0) > 1:
        raise ValueError(f"{what} returned probabilities outside [0, 1] or non-finite")


@dataclass
class InnerFit:
    predictions: InnerPredictions | None
    status: str
    message: str
    seconds: float
    degenerate: str = ""


def inner_fit(cell: Cell, data: Dataset, train: np.ndarray, test: np.ndarray, k: int) -> InnerFit:
    """The whole pipeline fitted on each part of an inner stratified k-fold of the training fold (each
    built for its own inner training set, seeded like the final model): out-of-fold probabilities with
    their fold ids, and each inner model's probabilities on the test fold."""
    start = time.perf_counter()
    strategy = get_strategy(cell.strategy.name)
    if strategy.uses_full_dataset:
        return InnerFit(None, "skipped", "an anti-pattern that sees the whole dataset gets no inner folds", 0.0)
    y_train = data.y[train]
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=derive_seed("inner", cell.seed))
    oof = np.empty(len(train))
    fold_ids = np.empty(len(train), dtype=np.int8)
    test_proba = np.empty((k, len(test)))
    degenerate = ""
    try:
        for i, (part_train, part_test) in enumerate(folds.split(np.zeros(len(train)), y_train)):
            fitted = fit_on_fold(cell.model_config.name, cell.strategy.name, cell.strategy.params, data.X, data.y,
                                 list(data.categorical), train[part_train], np.r_[train[part_test], test], cell.seed,
                                 cell.model_config.options)
            _check_proba(fitted.proba, f"inner model {i}")
            oof[part_test] = fitted.proba[:len(part_test)]
            fold_ids[part_test] = i
            test_proba[i] = fitted.proba[len(part_test):]
            if not degenerate and (np.ptp(fitted.proba[:len(part_test)]) == 0 or np.ptp(test_proba[i]) == 0):
                degenerate = f"inner model {i} predicts a single value"
    except NotApplicable as exc:
        return InnerFit(None, "skipped", f"inner fold: {exc}"[:MAX_MESSAGE], time.perf_counter() - start)
    except Exception as exc:
        return InnerFit(None, "error", f"inner fold: {one_line(exc)}"[:MAX_MESSAGE], time.perf_counter() - start)
    predictions = InnerPredictions(k, train.astype(np.int32), y_train.astype(np.int8), fold_ids, oof, test_proba)
    return InnerFit(predictions, "ok", "", time.perf_counter() - start, degenerate)


def run_cell(task: CellTask) -> CellResult:
    """Fit and score one cell (and its inner folds and post-hoc steps); every failure is a stored row."""
    cell = task.cell
    if task.skip_reason:
        return _result(task, "skipped", task.skip_reason)
    try:
        load_external_plugins()  # dataset sources, models and strategies from entry points / IMBENCH_PLUGINS
        data = cached_dataset(cell.dataset)
        train, test = fold_indices(data.y, cell.n_splits, cell.n_repeats, cell.run_seed, cell.dataset,
                                   cell.repeat, cell.fold)
        y_train, y_test = data.y[train], data.y[test]
        if task.inner_only:
            return _inner_only(task, data, train, test)
        try:
            fitted = fit_on_fold(cell.model_config.name, cell.strategy.name, cell.strategy.params, data.X, data.y,
                                 list(data.categorical), train, test, cell.seed, cell.model_config.options)
        except NotApplicable as exc:
            return _result(task, "skipped", str(exc) or "strategy not applicable")
        proba = fitted.proba
        _check_proba(proba, "the model")
        metrics = compute_metrics(y_test, proba, task.metrics, deployed_threshold=0.5)
        constant = np.ptp(proba) == 0 and not get_model(cell.model_config.name).is_baseline  # `prior` is constant
        degenerate = "the final model predicts a single value on the test fold" if constant else ""
        inner = InnerFit(None, "", "", 0.0)
        if task.inner_folds > 1:
            inner = inner_fit(cell, data, train, test, task.inner_folds)
            degenerate = degenerate or ("" if get_model(cell.model_config.name).is_baseline else inner.degenerate)
        extra = dict(fitted.extra)
        if cell.model_config.options:
            extra["model_options"] = cell.model_config.options
        if inner.message:
            extra["inner_message"] = inner.message
        train_prior = float(np.mean(y_train))
        predictions = CellPredictions(cell.key, y_test, proba, inner.predictions, inner.status, inner.message,
                                      train_prior, fitted.training_prior)
        return _result(task, "ok", metrics=metrics, training_prior=fitted.training_prior, prior_rule=fitted.prior_rule,
                       degenerate=degenerate, inner_status=inner.status, fit_seconds=fitted.fit_seconds,
                       predict_seconds=fitted.predict_seconds,
                       inner_seconds=inner.seconds if task.inner_folds > 1 else None, extra=extra,
                       row_index=test.astype(np.int32), y_true=y_test.astype(np.int8), proba=proba,
                       inner=inner.predictions, derived=derive(predictions, task.steps, task.metrics))
    except Exception as exc:  # recorded, never papered over
        return _result(task, "error", one_line(exc), extra={"traceback": traceback.format_exc()[-4000:]})


def _inner_only(task: CellTask, data: Dataset, train: np.ndarray, test: np.ndarray) -> CellResult:
    """A stored ok cell that now needs inner folds: fit only the inner models, then derive the steps.
    Returned as an ok CellResult whose `extra["inner_only"]` tells the client to keep the stored fit."""
    cell = task.cell
    inner = inner_fit(cell, data, train, test, task.inner_folds)
    assert task.stored_test_proba is not None
    predictions = CellPredictions(cell.key, data.y[test], task.stored_test_proba, inner.predictions, inner.status,
                                  inner.message, float(np.mean(data.y[train])), task.stored_model_prior)
    return _result(task, "ok", inner_status=inner.status, inner_seconds=inner.seconds, degenerate=inner.degenerate,
                   extra={"inner_only": True, "inner_message": inner.message}, inner=inner.predictions,
                   derived=derive(predictions, task.steps, task.metrics))
