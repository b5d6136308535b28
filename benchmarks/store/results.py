"""What a cell produces, as the runner stores it and a reader gives it back: the cell's row
(`CellResult`), its inner k-fold predictions (`InnerPredictions`) and its post-hoc steps
(`DerivedResult`). Plain data: workers build them, the client writes them (benchmarks/store/writer.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class InnerPredictions:
    """An inner stratified k-fold on one training fold: out-of-fold probabilities of the training rows
    (with each row's inner fold id) and every inner model's probabilities on the test fold."""

    k: int
    row_index: np.ndarray
    y_true: np.ndarray
    fold: np.ndarray
    proba: np.ndarray
    #: (k, n_test): inner model i's probabilities on the test fold, in the test fold's row order.
    test_proba: np.ndarray


@dataclass
class DerivedResult:
    """A post-hoc step evaluated on one cell's stored predictions."""

    key: str
    posthoc: str
    status: str
    message: str = ""
    #: "met", "unreachable" or "over budget" (threshold targets); "" when the step has no target.
    outcome: str = ""
    threshold: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    #: Test-fold (and inner out-of-fold) probabilities after the step, when it changes them.
    proba: np.ndarray | None = None
    inner_proba: np.ndarray | None = None


@dataclass
class CellResult:
    """What one cell produced; `row_index/y_true/proba` are the test-fold predictions when status is ok."""

    key: str
    dataset: str
    model: str
    strategy: str
    label: str
    params: dict[str, Any]
    repeat: int
    fold: int
    status: str
    message: str = ""
    family: str = "unknown"
    anti_pattern: bool = False
    training_prior: float | None = None
    prior_rule: str = "unknown"
    fingerprint: str = ""
    #: Why the fit is degenerate (a single predicted value on the test fold or an inner fold), or "".
    degenerate: str = ""
    #: The inner k-fold: "" (not asked for), "ok", "skipped" (final), or a failure status (retried).
    inner_status: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    fit_seconds: float | None = None
    predict_seconds: float | None = None
    inner_seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    row_index: np.ndarray | None = None
    y_true: np.ndarray | None = None
    proba: np.ndarray | None = None
    inner: InnerPredictions | None = None
    derived: list[DerivedResult] = field(default_factory=list)
