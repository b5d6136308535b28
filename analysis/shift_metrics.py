"""Metrics of one test fold under many label-shift weightings, sorting the fold once.

Under label shift every positive row carries the same weight and every negative row another, so a
ranking curve needs the per-class cumulative counts only once per fold: average precision for any
(w_pos, w_neg) is then a vector operation, and ROC AUC does not change at all (TPR and FPR are
each within one class). scikit-learn's `sample_weight` versions give the same numbers (the tests
check each against them) but validate their input on every call (~1 ms); the stress test evaluates
cells × shifts × corrections, which is minutes that way and seconds this way.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imbench.foundation.metrics import EPS, threshold_metrics, weighted_calibration_errors


@dataclass(frozen=True)
class RankingCurve:
    """Cumulative positives and negatives at each distinct score (the thresholds), highest first."""

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray

    @classmethod
    def from_scores(cls, y_true: np.ndarray, score: np.ndarray) -> "RankingCurve":
        order = np.argsort(-np.asarray(score, dtype=float), kind="stable")
        s = np.asarray(score, dtype=float)[order]
        y = np.asarray(y_true)[order] == 1
        last_of_tie = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # one point per distinct score
        tp = np.cumsum(y)[last_of_tie].astype(float)
        return cls(thresholds=s[last_of_tie], tp=tp, fp=(last_of_tie + 1) - tp)

    def average_precision(self, w_pos: float | np.ndarray = 1.0, w_neg: float | np.ndarray = 1.0) -> np.ndarray:
        """AP = Σ (R_k − R_{k−1}) · P_k over distinct thresholds, as scikit-learn defines it, with
        positives weighted w_pos and negatives w_neg (arrays give one AP per pair)."""
        w_pos = np.atleast_1d(np.asarray(w_pos, dtype=float))[:, None]
        w_neg = np.atleast_1d(np.asarray(w_neg, dtype=float))[:, None]
        tp, fp = w_pos * self.tp, w_neg * self.fp
        with np.errstate(invalid="ignore", divide="ignore"):
            precision = np.where(tp + fp > 0, tp / (tp + fp), 1.0)
        recall_step = np.diff(np.r_[0.0, self.tp]) / self.tp[-1]  # recall does not depend on class weights
        return np.sum(recall_step * precision, axis=1)

    def roc_auc(self) -> float:
        """Trapezoidal area under the ROC curve; invariant to class-constant weights, so one per fold."""
        tpr = np.r_[0.0, self.tp] / self.tp[-1]
        fpr = np.r_[0.0, self.fp] / self.fp[-1]
        return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def weighted_brier(y_true: np.ndarray, proba_rows: np.ndarray, weight_rows: np.ndarray) -> np.ndarray:
    """Weighted mean squared error of each row of probabilities (one Brier score per row)."""
    return np.average((np.atleast_2d(proba_rows) - y_true) ** 2, weights=np.atleast_2d(weight_rows), axis=1)


def weighted_log_loss(y_true: np.ndarray, proba_rows: np.ndarray, weight_rows: np.ndarray) -> np.ndarray:
    """Weighted log loss of each row, probabilities clipped to [EPS, 1 − EPS] as in `compute_metrics`."""
    p = np.clip(np.atleast_2d(proba_rows), EPS, 1 - EPS)
    loss = -np.where(y_true == 1, np.log(p), np.log1p(-p))
    return np.average(loss, weights=np.atleast_2d(weight_rows), axis=1)


@dataclass(frozen=True)
class SortedFold:
    """One test fold sorted by score once, so every weighting and monotone correction reuses the order."""

    y: np.ndarray
    proba: np.ndarray
    curve: RankingCurve

    @classmethod
    def from_arrays(cls, y_true: np.ndarray, proba: np.ndarray) -> "SortedFold":
        order = np.argsort(np.asarray(proba, dtype=float), kind="stable")
        y = np.asarray(y_true).astype(int)[order]
        p = np.asarray(proba, dtype=float)[order]
        return cls(y=y, proba=p, curve=RankingCurve.from_scores(y, p))

    @property
    def prevalence(self) -> float:
        return float(self.y.mean())

    def class_weight_rows(self, w_pos: np.ndarray, w_neg: np.ndarray) -> np.ndarray:
        """(S, n) per-row weights for S (w_pos, w_neg) pairs."""
        return np.where(self.y[None, :] == 1, np.asarray(w_pos, float)[:, None], np.asarray(w_neg, float)[:, None])

    def probability_metrics(self, proba_rows: np.ndarray, weight_rows: np.ndarray, n_bins: int
                            ) -> dict[str, np.ndarray]:
        """Brier, log loss and equal-mass ECE for each row of (probabilities, weights)."""
        return {"brier": weighted_brier(self.y, proba_rows, weight_rows),
                "log_loss": weighted_log_loss(self.y, proba_rows, weight_rows),
                "ece": weighted_calibration_errors(self.y, proba_rows, weight_rows, n_bins)}

    def decision_metrics(self, proba_rows: np.ndarray, weight_rows: np.ndarray, thresholds: np.ndarray
                         ) -> dict[str, np.ndarray]:
        """Precision, recall and alert rate at one threshold per row; precision is NaN where nothing is
        alerted (there is no precision to keep), and every value is NaN where the threshold is NaN."""
        out = {name: np.full(len(weight_rows), np.nan) for name in ("precision", "recall", "alert_rate")}
        for i, (p, w, t) in enumerate(zip(np.atleast_2d(proba_rows), weight_rows, thresholds)):
            if np.isnan(t):
                continue
            m = threshold_metrics(self.y, p, t, "", sample_weight=w)
            out["alert_rate"][i] = m["alert_rate"]
            out["recall"][i] = m["recall"]
            out["precision"][i] = m["precision"] if m["alert_rate"] > 0 else np.nan
        return out
