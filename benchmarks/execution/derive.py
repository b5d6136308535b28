"""Post-hoc steps evaluated on one cell's predictions: the same code for a cell just fitted (in the
worker) and for a step added to a finished store (in the client, from the stored predictions).

A derived result carries only the metrics its step can change (`PostHoc.changes`), the deployed
threshold, the outcome of a threshold target, the alert rate on the inner folds and on the test fold
(they differ when the final model, refitted on the whole training fold, scores differently from the
inner models: expected for boosted trees with a fixed number of rounds, or for resampling), and the
probabilities when the step changes them.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from imbench.benchmarks.store.results import DerivedResult, InnerPredictions
from imbench.foundation.metrics import MetricConfig, compute_metrics, metric_kind
from imbench.strategies.base import NotApplicable
from imbench.strategies.posthoc import POSTHOC, PosthocInput, parse_posthoc

MAX_MESSAGE = 500
#: Stored with every derived result that has inner predictions (a `reference` metric: never ranked).
INNER_ALERT_RATE = "alert_rate@inner"


@dataclass(frozen=True)
class CellPredictions:
    """What a step is evaluated on: one cell's stored predictions and recorded priors."""

    key: str
    test_y: np.ndarray
    test_proba: np.ndarray
    inner: InnerPredictions | None
    #: Why there are no inner predictions ("" when there are): a skip reason or a failure.
    inner_status: str
    inner_message: str
    train_prior: float
    model_prior: float | None

    def as_input(self) -> PosthocInput:
        inner = self.inner
        return PosthocInput(
            inner_y=None if inner is None else np.asarray(inner.y_true, dtype=np.int8),
            inner_scores=None if inner is None else np.asarray(inner.proba, dtype=float),
            inner_fold=None if inner is None else np.asarray(inner.fold, dtype=np.int8),
            inner_test_scores=None if inner is None else np.asarray(inner.test_proba, dtype=float),
            test_scores=np.asarray(self.test_proba, dtype=float), train_prior=self.train_prior,
            model_prior=self.model_prior)


def one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0][:MAX_MESSAGE] if text else type(exc).__name__


def derive(cell: CellPredictions, steps: Iterable[str], metrics: MetricConfig) -> list[DerivedResult]:
    """Every step (canonical text) evaluated on `cell`; a step that fails is an `error` result with its
    reason (retried by the next run), one that cannot apply here is `skipped` with why."""
    return [_derive_one(cell, text, metrics) for text in steps]


def _derive_one(cell: CellPredictions, text: str, metrics: MetricConfig) -> DerivedResult:
    spec = parse_posthoc(text)
    step = POSTHOC.get(spec.step)
    if step.needs_inner and cell.inner is None:
        status = cell.inner_status if cell.inner_status and cell.inner_status != "ok" else "skipped"
        return DerivedResult(cell.key, text, status, f"no inner predictions: {cell.inner_message or 'none stored'}")
    data = cell.as_input()
    try:
        out = step.evaluate(spec.params, data)
        proba = np.asarray(out.test_proba, dtype=float)
        if proba.shape != data.test_scores.shape or not np.all(np.isfinite(proba)) or proba.min() < 0 or proba.max() > 1:
            raise ValueError(f"posthoc {text} returned test probabilities of shape {proba.shape} outside [0, 1] or "
                             f"non-finite (expected {data.test_scores.shape[0]} values in [0, 1])")
        threshold = float(out.threshold)
        if math.isnan(threshold):
            raise ValueError(f"posthoc {text} returned a NaN threshold")
    except NotApplicable as exc:
        return DerivedResult(cell.key, text, "skipped", str(exc)[:MAX_MESSAGE] or "not applicable")
    except Exception as exc:  # a failure is recorded, never papered over
        return DerivedResult(cell.key, text, "error", one_line(exc))
    kinds = step.changes(spec.params)
    values = compute_metrics(cell.test_y, proba, metrics, deployed_threshold=threshold, kinds=kinds)
    kept = {name: value for name, value in values.items() if metric_kind(name) in kinds}
    inner_scores = out.inner_proba if out.inner_proba is not None else data.inner_scores
    report = {**out.report, "test_alert_rate": float(np.mean(proba >= threshold))}
    if inner_scores is not None:
        # the alert rate the training fold promised at this threshold, next to alert_rate@deployed on
        # the test fold: they part when the final model scores unlike the inner ones
        report["inner_alert_rate"] = kept[INNER_ALERT_RATE] = float(np.mean(np.asarray(inner_scores) >= threshold))
    if out.reason:
        report["reason"] = out.reason
    keep_proba = bool(kinds & {"probability", "ranking"})
    return DerivedResult(cell.key, text, "ok", out.reason[:MAX_MESSAGE], out.outcome, threshold, kept, report,
                         proba if keep_proba else None,
                         None if not keep_proba or out.inner_proba is None else np.asarray(out.inner_proba, float))
