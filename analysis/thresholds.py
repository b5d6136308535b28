"""Operating points chosen on the training fold's out-of-fold predictions (never on the test fold):
the threshold meeting a precision target, and the threshold meeting an alert budget under a
precision floor. Both read one precision–alert curve over the distinct scores."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.shift_metrics import RankingCurve

#: What `threshold_for_budget` settled on.
BUDGET_STATUSES = {
    "on budget": "the most alerts within the budget, with precision ≥ the floor",
    "floor": "precision < floor at the budget: fewer alerts, the most that keep precision ≥ the floor",
    "best precision": "no threshold within the budget reaches the floor: the highest precision within the budget",
    "over budget": "even the fewest alerts the training scores allow (one row, or scores tied at the top) exceed "
                   "the budget: the highest threshold",
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
    """The threshold with the most alerts within the budget `alert_rate` (≈ the budget when scores are
    fine-grained); if its precision is below `min_precision`, the highest-volume threshold with fewer
    alerts that keeps the floor; if none does, the most precise threshold within the budget; if no
    threshold fits the budget at all, the highest one. The status says which (BUDGET_STATUSES)."""
    curve = OperatingCurve.from_scores(y_true, score)
    within = np.flatnonzero(curve.alert_rate <= alert_rate * (1 + 1e-12))
    if not within.size:
        return BudgetChoice(*_unpack(curve, 0, "over budget"))
    at_budget = int(within[-1])
    if curve.precision[at_budget] >= min_precision:
        return BudgetChoice(*_unpack(curve, at_budget, "on budget"))
    keeping = within[curve.precision[within] >= min_precision]
    if keeping.size:
        return BudgetChoice(*_unpack(curve, int(keeping[-1]), "floor"))
    best = within[curve.precision[within] == curve.precision[within].max()]
    return BudgetChoice(*_unpack(curve, int(best[-1]), "best precision"))


def _unpack(curve: OperatingCurve, index: int, status: str) -> tuple[float, str, float, float, float]:
    threshold, precision, recall, rate = curve.at(index)
    return threshold, status, precision, recall, rate
