"""Running one cell: fold → applicability check → build (+ post-hoc step) → fit on train → predict
test → metrics.

This is the only code that runs in workers. It never writes anything: it returns a CellResult and
the client stores it. Any exception becomes an `error` result, never a fallback; a strategy that
cannot apply (its `check`, or `NotApplicable` raised during fit) becomes a `skipped` result.

Only the training rows reach `fit`; the single exception is a strategy declared both `anti_pattern`
and `uses_full_dataset` (`leaky-smote`), whose `training_data` sees the whole dataset on purpose.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_limits

from benchmarks.cells import Cell
from foundation.hashing import derive_seed
from benchmarks.cv import fold_indices
from foundation.metrics import MetricConfig, compute_metrics
from benchmarks.store import CellResult
from datasets import Dataset, load_dataset
from strategies import TrainingContext, get_model, get_strategy
from strategies.base import NotApplicable
from foundation.plugins import load_external_plugins
from strategies.posthoc import POSTHOC, parse_posthoc

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


def cell_flags(cell: Cell) -> dict[str, Any]:
    """What every row of this cell records in `extra`, whatever its status: the post-hoc step, and
    `anti_pattern` so analysis can leave demonstrations out without the strategy registry."""
    flags: dict[str, Any] = {}
    if cell.strategy.posthoc != "none":
        flags["posthoc"] = cell.strategy.posthoc
    try:
        if get_strategy(cell.strategy.name).anti_pattern:
            flags["anti_pattern"] = True
    except LookupError:
        pass
    return flags


def _result(cell: Cell, status: str, message: str = "", extra: dict[str, Any] | None = None,
            **fields: object) -> CellResult:
    return CellResult(key=cell.key, dataset=cell.dataset, model=cell.model, strategy=cell.strategy.name,
                      label=cell.strategy.label, params=cell.strategy.params, repeat=cell.repeat, fold=cell.fold,
                      status=status, message=message[:MAX_MESSAGE], extra={**cell_flags(cell), **(extra or {})},
                      **fields)  # type: ignore[arg-type]


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


@dataclass
class FoldFit:
    """A strategy (+ post-hoc step) fitted on one fold: the estimator, test-fold probabilities, timings
    and what to record with the cell."""

    estimator: BaseEstimator
    proba: np.ndarray
    fit_seconds: float
    predict_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


def fit_on_fold(model_name: str, strategy_name: str, params: dict[str, Any], posthoc: str, X: pd.DataFrame,
                y: np.ndarray, categorical: list[str], train: np.ndarray, test: np.ndarray, seed: int) -> FoldFit:
    """Check, build, fit on the training rows and predict the test rows; NotApplicable if it cannot apply.

    The contract tests call this directly, with altered test rows, to prove fitted models depend on
    training rows only.
    """
    model = get_model(model_name)
    strategy = get_strategy(strategy_name)
    params = strategy.resolve_params(params)
    step_spec = parse_posthoc(posthoc)
    step = POSTHOC.get(step_spec.step)
    y_train = np.asarray(y)[train]
    numeric = [c for c in X.columns if c not in set(categorical)]
    ctx = TrainingContext(n_train=len(train), n_pos=int(y_train.sum()), numeric_columns=tuple(numeric),
                          categorical_columns=tuple(categorical))
    # A post-hoc step with inner CV also fits the pipeline on smaller inner training sets: parameter rules
    # and checks use the smallest of them, so the same parameters are valid in every fit of the cell.
    fit_ctx = step.fit_context(ctx)
    used, notes = strategy.adapt(model, params, fit_ctx)
    for where, context in (("", ctx), (f" (in the inner training sets of posthoc {step_spec.text})", fit_ctx)):
        ok, reason = strategy.check(model, used, context)
        if not ok:
            raise NotApplicable((reason or f"strategy {strategy.name!r} not applicable") + where)
    ok, reason = step.check(strategy, model, step_spec.params, ctx)
    if not ok:
        raise NotApplicable(reason)
    estimator = step.wrap(strategy.build(model, used, ctx, seed), step_spec.params, strategy, used,
                          derive_seed("posthoc", seed))
    if strategy.uses_full_dataset:
        if not strategy.anti_pattern:  # register_strategy refuses this too; never let it through
            raise RuntimeError(f"strategy {strategy.name!r} asks for the full dataset but is not an anti-pattern")
        X_fit, y_fit = strategy.training_data(X, np.asarray(y), train, used, seed)
    else:
        X_fit, y_fit = X.iloc[train], y_train
    with threadpool_limits(limits=1):
        start = time.perf_counter()
        estimator.fit(X_fit, y_fit)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        proba = np.asarray(estimator.predict_proba(X.iloc[test]))[:, 1]
        predict_seconds = time.perf_counter() - start
    extra: dict[str, Any] = {}
    if notes:
        extra["adapted"] = notes
        extra["effective_params"] = used
    prior = step.model_prior(estimator, strategy, used, np.asarray(y_fit))
    if prior is not None:
        extra["model_prior"] = float(prior)
    report = getattr(estimator, "fit_report_", None)
    if report:
        extra["posthoc_report"] = report
    return FoldFit(estimator, proba, fit_seconds, predict_seconds, extra)


def run_cell(task: CellTask) -> CellResult:
    """Fit and score one cell; every failure is a stored row with its reason."""
    cell = task.cell
    if task.skip_reason:
        return _result(cell, "skipped", task.skip_reason)
    try:
        load_external_plugins()  # dataset sources, models and strategies from entry points / IMBENCH_PLUGINS
        data = cached_dataset(cell.dataset)
        train, test = fold_indices(data.y, cell.n_splits, cell.n_repeats, cell.run_seed, cell.dataset,
                                   cell.repeat, cell.fold)
        try:
            fitted = fit_on_fold(cell.model, cell.strategy.name, cell.strategy.params, cell.strategy.posthoc,
                                 data.X, data.y, list(data.categorical), train, test, cell.seed)
        except NotApplicable as exc:
            return _result(cell, "skipped", str(exc) or "strategy not applicable")
        proba, estimator = fitted.proba, fitted.estimator
        if not np.all(np.isfinite(proba)) or proba.min() < 0 or proba.max() > 1:
            return _result(cell, "error", "model returned probabilities outside [0, 1] or non-finite")
        threshold = getattr(estimator, "deployed_threshold_", None)
        y_train, y_test = data.y[train], data.y[test]
        metrics = compute_metrics(y_test, proba, task.metrics, deployed_threshold=threshold)
        extra: dict[str, object] = dict(fitted.extra)
        if threshold is not None:
            extra["threshold"] = float(threshold)
        inner = None
        if task.inner_folds > 1:
            inner, extra["inner_seconds"] = inner_oof(estimator, data.X.iloc[train], y_train, task.inner_folds,
                                                      cell.seed)
        return _result(cell, "ok", metrics=metrics, fit_seconds=fitted.fit_seconds,
                       predict_seconds=fitted.predict_seconds, extra=extra, row_index=test.astype(np.int32),
                       y_true=y_test.astype(np.int8), proba=proba.astype(np.float64),
                       train_row_index=train.astype(np.int32) if inner is not None else None,
                       train_y_true=y_train.astype(np.int8) if inner is not None else None, train_proba=inner)
    except Exception as exc:  # recorded, never papered over
        return _result(cell, "error", one_line(exc), extra={"traceback": traceback.format_exc()[-4000:]})
