"""Operating points chosen on the training fold's out-of-fold predictions (never on the test fold):
the threshold meeting a precision target, and the threshold meeting an alert budget under a
precision floor. Both read one precision–alert curve over the distinct scores."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.shift_metrics import RankingCurve

#: What `threshold_for_budget` settled on.
BUDGET_STATUSES = {
    "on budget": "alert rate ≈ the budget with precision ≥ the floor",
    "floor": "precision < floor at the budget: fewer alerts, the most that keep precision ≥ the floor",
    "best precision": "no threshold within the budget reaches the floor: the highest precision within the budget",
    "unavailable": "no training-fold out-of-fold predictions stored",
}


@dataclass(frozen=True)
class OperatingCurve:
    """Precision, recall and alert rate at each distinct score used as threshold (highest first)."""

    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    alert_rate: np.ndarray

    @classmethod
    def from_scores(cls, y_true: np.ndarray, score: np.ndarray) -> "OperatingCurve":
        curve = RankingCurve.from_scores(y_true, score)
        alerts = curve.tp + curve.fp
        return cls(thresholds=curve.thresholds, precision=curve.tp / alerts, recall=curve.tp / max(curve.tp[-1], 1),
                   alert_rate=alerts / alerts[-1])

    def at(self, index: int) -> tuple[float, float, float, float]:
        return (float(self.thresholds[index]), float(self.precision[index]), float(self.recall[index]),
                float(self.alert_rate[index]))


def threshold_for_precision(y_true: np.ndarray, score: np.ndarray, target: float) -> float:
    """The lowest threshold (most recall) whose precision ≥ `target`; NaN when none reaches it."""
    curve = OperatingCurve.from_scores(y_true, score)
    ok = np.flatnonzero(curve.precision >= target)
    return float(curve.thresholds[ok[-1]]) if ok.size else float("nan")


@dataclass(frozen=True)
class BudgetChoice:
    threshold: float
    status: str
    precision: float
    recall: float
    alert_rate: float


def threshold_for_budget(y_true: np.ndarray, score: np.ndarray, alert_rate: float, min_precision: float
                         ) -> BudgetChoice:
    """The threshold whose alert rate is closest to `alert_rate` (ties: fewer alerts); if its precision
    is below `min_precision`, the highest-volume threshold with fewer alerts that keeps the floor; if
    none does, the most precise threshold within the budget (status says which, BUDGET_STATUSES)."""
    curve = OperatingCurve.from_scores(y_true, score)
    gap = np.abs(curve.alert_rate - alert_rate)
    at_budget = int(np.flatnonzero(gap == gap.min())[0])
    if curve.precision[at_budget] >= min_precision:
        return BudgetChoice(*_unpack(curve, at_budget, "on budget"))
    fewer = np.arange(at_budget + 1)
    keeping = fewer[curve.precision[fewer] >= min_precision]
    if keeping.size:
        return BudgetChoice(*_unpack(curve, int(keeping[-1]), "floor"))
    best = fewer[curve.precision[fewer] == curve.precision[fewer].max()]
    return BudgetChoice(*_unpack(curve, int(best[-1]), "best precision"))


def _unpack(curve: OperatingCurve, index: int, status: str) -> tuple[float, str, float, float, float]:
    threshold, precision, recall, rate = curve.at(index)
    return threshold, status, precision, recall, rate
