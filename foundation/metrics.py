"""Per-cell test-fold metrics, each with its direction (higher or lower is better).

Written here because scikit-learn has no direct function: recall at precision ≥ p and precision at
recall ≥ r (read off the PR curve), expected calibration error with equal-mass bins, and the logistic
calibration intercept/slope. AP, ROC AUC, Brier, log loss and the threshold metrics are computed
from one sort of the scores with the same formulas as scikit-learn, because its per-call input
validation costs 10–20 ms per fold — more than many fits — and this runs on every cell. Every value
is checked against scikit-learn's own function in tests/test_metrics.py.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, logit

#: Probabilities are clipped to this distance from 0 and 1 before logit/log.
EPS = 1e-15


class UnknownMetricError(LookupError):
    """A metric name that is not in the store; the message lists the available ones."""


#: Names people type for the metrics stored under another name.
METRIC_ALIASES = {"pr_auc": "ap", "auprc": "ap", "average_precision": "ap", "auc": "roc_auc",
                  "auroc": "roc_auc", "f1": "f1@0.5", "mcc": "mcc@0.5"}


def unknown_metric(metric: str, available: list[str]) -> UnknownMetricError:
    """The error for a metric that is not stored: its stored name when it is an alias, else the closest."""
    from imbench.foundation.names import unknown_name_message

    alias = METRIC_ALIASES.get(metric.lower())
    if alias in available:
        return UnknownMetricError(f"unknown metric {metric!r}: it is stored as {alias!r} (use --metric {alias})")
    return UnknownMetricError(unknown_name_message("metric", metric, available))


@dataclass(frozen=True)
class MetricConfig:
    """Which operating points and how many calibration bins to report."""

    recall_at_precision: tuple[float, ...] = (0.8, 0.9)
    precision_at_recall: tuple[float, ...] = (0.8,)
    ece_bins: int = 10


def point_name(prefix: str, level: float) -> str:
    return f"{prefix}{level:g}"


#: Stored values that describe the fold, not the scores: a yardstick, never a ranking metric.
REFERENCE_VALUES = ("prevalence", "ap_random")


def reference_value_message(metric: str) -> str | None:
    """Why `metric` cannot rank anything when it is a reference value (None when it is a score)."""
    if metric not in REFERENCE_VALUES:
        return None
    return (f"`{metric}` is a yardstick of AP (the fold's class counts), not a score: rank by another metric "
            "(e.g. ap, roc_auc, ece); chance is shown as the `prior` and `random` rows")


def metric_direction(name: str) -> str:
    """'higher' or 'lower' (is better); every stored metric has one."""
    lower = {"brier", "log_loss", "ece", "fit_seconds", "predict_seconds"}
    if name in lower or name.startswith("cost@"):
        return "lower"
    if name in {"calibration_intercept", "calibration_slope", *REFERENCE_VALUES}:
        return "target"  # ideal intercept 0, slope 1; prevalence and ap_random are references, not scores
    return "higher"


def expected_random_ap(n_pos: int, n: int) -> float:
    """Exact expected average precision of a uniformly random ranking of `n` rows holding `n_pos`
    positives (no ties; AP as `average_precision_score`):

        E[AP] = (n_pos − 1)/(n − 1) + H_n · (n − n_pos) / (n (n − 1)),   H_n = 1 + 1/2 + … + 1/n.

    Why: AP = (1/n_pos) Σ_k rel_k · prec@k, and for a random permutation E[rel_k · Σ_{j≤k} rel_j] =
    n_pos/n + (k − 1) n_pos (n_pos − 1) / (n (n − 1)); summing over k gives the line above (Bestgen
    2015). It exceeds the prevalence n_pos/n, by much when positives are few: a random scorer's AP is
    not the prevalence on small folds. 1 when every row is positive, NaN without a positive.
    """
    if n_pos <= 0 or n <= 0 or n_pos > n:
        return float("nan")
    if n == 1 or n_pos == n:
        return 1.0
    harmonic = float(np.sum(1.0 / np.arange(1, n + 1)))
    return (n_pos - 1) / (n - 1) + harmonic * (n - n_pos) / (n * (n - 1))


#: What a metric depends on, so a post-hoc step carries only the metrics it can change (a threshold
#: changes no ranking metric, a monotone recalibration changes no ranking either).
METRIC_KINDS = ("ranking", "probability", "decision@0.5", "decision@deployed", "reference")


def metric_kind(name: str) -> str:
    """One of METRIC_KINDS: `ranking` (order of the scores only: AP, ROC AUC, operating points on the
    test curve), `probability` (the values: Brier, log loss, calibration), `decision@0.5` and
    `decision@deployed` (confusion counts at a threshold), `reference` (prevalence, timings)."""
    if name.endswith("@0.5"):
        return "decision@0.5"
    if name.endswith("@deployed"):
        return "decision@deployed"
    if name in {"ap", "roc_auc"} or name.startswith(("recall_at_precision", "precision_at_recall")):
        return "ranking"
    if name in {"brier", "log_loss", "ece", "calibration_intercept", "calibration_slope"}:
        return "probability"
    return "reference"


def short_name(name: str) -> str:
    """A compact display name: recall_at_precision0.8 → R@P0.8, precision_at_recall0.8 → P@R0.8."""
    return (name.replace("recall_at_precision", "R@P").replace("precision_at_recall", "P@R")
            .replace("balanced_accuracy", "bal_acc").replace("calibration_", "cal_"))


#: Headline metrics in the order the leaderboard shows them.
HEADLINE = ("ap", "recall_at_precision0.8", "ece")


def recall_at_precision(y_true: np.ndarray, proba: np.ndarray, min_precision: float) -> float:
    """Highest recall over thresholds whose precision ≥ min_precision (0 if none reaches it)."""
    from sklearn.metrics import precision_recall_curve  # here: importing scikit-learn costs the CLI a second

    return _recall_at_precision(*precision_recall_curve(y_true, proba)[:2], min_precision)


def precision_at_recall(y_true: np.ndarray, proba: np.ndarray, min_recall: float) -> float:
    """Highest precision over thresholds whose recall ≥ min_recall."""
    from sklearn.metrics import precision_recall_curve

    return _precision_at_recall(*precision_recall_curve(y_true, proba)[:2], min_recall)


def _recall_at_precision(precision: np.ndarray, recall: np.ndarray, min_precision: float) -> float:
    ok = precision >= min_precision
    return float(recall[ok].max()) if ok.any() else 0.0


def _precision_at_recall(precision: np.ndarray, recall: np.ndarray, min_recall: float) -> float:
    ok = recall >= min_recall
    return float(precision[ok].max()) if ok.any() else 0.0


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, n_bins: int = 10,
                               sample_weight: np.ndarray | None = None) -> float:
    """ECE with equal-mass bins: sort by probability, cut into `n_bins` groups of equal size (±1 row,
    `np.array_split`), and average |mean(p) − mean(y)| weighted by group size.

    With `sample_weight` the bins hold equal *weight* instead (see `weighted_calibration_errors`);
    unit weights give exactly the unweighted value.
    """
    if sample_weight is not None:
        proba = np.asarray(proba, dtype=float)
        order = np.argsort(proba, kind="stable")
        weights = np.asarray(sample_weight, dtype=float)[order]
        return float(weighted_calibration_errors(np.asarray(y_true)[order], proba[order][None, :],
                                                 weights[None, :], n_bins)[0])
    order = np.argsort(proba, kind="stable")
    total = 0.0
    for idx in np.array_split(order, min(n_bins, len(order))):
        if len(idx):
            total += len(idx) * abs(float(proba[idx].mean()) - float(y_true[idx].mean()))
    return total / len(proba)


def equal_mass_edges(n: int, n_bins: int) -> np.ndarray:
    """Bin edges as fractions of the total mass, exactly where `np.array_split` cuts n rows into
    min(n_bins, n) groups (the first n mod k groups one row larger)."""
    k = min(n_bins, n)
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    return np.concatenate([[0], np.cumsum(sizes)]) / n


def weighted_calibration_errors(y_sorted: np.ndarray, proba_rows: np.ndarray, weight_rows: np.ndarray,
                                n_bins: int = 10) -> np.ndarray:
    """Weighted equal-mass ECE of several weightings/probability versions of one fold at once.

    Rows must already be sorted by probability (every row of `proba_rows` in the same order, as prior
    corrections preserve it). Bin edges sit at the same fractions of the total weight as
    `np.array_split` puts them for the number of rows, so unit weights reproduce the unweighted ECE
    exactly; a row whose weight straddles an edge is split between the two bins in proportion.
    Written here because no library offers a weighted equal-mass ECE. Returns one ECE per row.
    """
    y = np.asarray(y_sorted, dtype=float)
    proba_rows = np.atleast_2d(proba_rows)
    weight_rows = np.atleast_2d(weight_rows)
    rows = weight_rows.shape[0]
    zeros = np.zeros((rows, 1))
    cum_w = np.hstack([zeros, np.cumsum(weight_rows, axis=1)])
    cum_p = np.hstack([zeros, np.cumsum(weight_rows * proba_rows, axis=1)]).ravel()
    cum_y = np.hstack([zeros, np.cumsum(weight_rows * y, axis=1)]).ravel()
    total = cum_w[:, -1:]
    # one interpolation for all rows: row r's cumulative weights are shifted past the end of row r − 1
    offset = np.arange(rows)[:, None] * (total.max() + 1.0)
    edges = (equal_mass_edges(y.size, n_bins)[None, :] * total + offset).ravel()
    knots = (cum_w + offset).ravel()
    mass_p = np.diff(np.interp(edges, knots, cum_p).reshape(rows, -1), axis=1)
    mass_y = np.diff(np.interp(edges, knots, cum_y).reshape(rows, -1), axis=1)
    return np.sum(np.abs(mass_p - mass_y), axis=1) / total[:, 0]


def calibration_intercept_slope(y_true: np.ndarray, proba: np.ndarray, max_iter: int = 100
                                ) -> tuple[float, float]:
    """Logistic recalibration y ~ a + b·logit(p), unpenalised; perfect calibration is a=0, b=1.

    Written here as a two-parameter Newton–Raphson (IRLS) because scikit-learn's unpenalised lbfgs
    takes ~50 ms per fold for these two numbers and this runs on every cell; it agrees with
    `LogisticRegression(C=inf)` to 1e-6 (tests/test_metrics.py). Returns NaN when the MLE does not
    exist: a fold whose scores separate the classes, even with ties at the border (then Newton's steps
    only grow, so that is checked first rather than found after `max_iter` steps).
    """
    z = logit(np.clip(proba, EPS, 1 - EPS))
    y = np.asarray(y_true, dtype=float)
    if np.ptp(z) == 0 or y.min() == y.max():
        return float("nan"), float("nan")
    positive = y == 1
    low_pos, high_pos = z[positive].min(), z[positive].max()
    low_neg, high_neg = z[~positive].min(), z[~positive].max()
    if high_neg <= low_pos or high_pos <= low_neg:  # (quasi-)separated: no finite maximum-likelihood fit
        return float("nan"), float("nan")
    design = np.column_stack([np.ones_like(z), z])
    beta = np.zeros(2)
    for _ in range(max_iter):
        mu = expit(design @ beta)
        weights = mu * (1 - mu)
        hessian = design.T @ (design * weights[:, None])
        gradient = design.T @ (y - mu)
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            return float("nan"), float("nan")
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            return float(beta[0]), float(beta[1])
    return float("nan"), float("nan")  # diverging: the classes are (quasi-)separated


def threshold_metrics(y_true: np.ndarray, proba: np.ndarray, threshold: float, suffix: str,
                      sample_weight: np.ndarray | None = None) -> dict[str, float]:
    """F1, MCC, balanced accuracy, precision, recall and alert rate at one decision threshold.

    With no case flagged (e.g. `threshold = math.inf`, "no alert") precision is undefined: NaN, never
    0, so an empty alert list is not averaged in as a useless one; recall, F1 and alert rate are 0.
    From the confusion counts directly (checked against scikit-learn's functions in the tests),
    because the per-call validation of those functions costs more than the arithmetic. With
    `sample_weight` the counts are sums of weights (the alert rate is the alerted share of weight).
    """
    pred = proba >= threshold
    positive = y_true == 1
    if sample_weight is None:
        tp = float(np.sum(pred & positive))
        fp = float(np.sum(pred & ~positive))
        fn = float(np.sum(~pred & positive))
        total = float(len(pred))
    else:
        weight = np.asarray(sample_weight, dtype=float)
        tp = float(weight[pred & positive].sum())
        fp = float(weight[pred & ~positive].sum())
        fn = float(weight[~pred & positive].sum())
        total = float(weight.sum())
    tn = max(total - tp - fp - fn, 0.0)  # weighted sums can leave −1e-16 where tn is 0
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else 0.0
    specificity = tn / (tn + fp) if tn + fp else 0.0
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return {
        f"f1{suffix}": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        f"mcc{suffix}": float((tp * tn - fp * fn) / denominator) if denominator else 0.0,
        f"balanced_accuracy{suffix}": (recall + specificity) / 2,
        f"precision{suffix}": precision,
        f"recall{suffix}": recall,
        f"alert_rate{suffix}": (tp + fp) / total,
    }


def expected_cost(y_true: np.ndarray, proba: np.ndarray, threshold: float, fp_cost: float, fn_cost: float,
                  sample_weight: np.ndarray | None = None) -> float:
    """Expected misclassification cost per case of flagging `proba >= threshold`:
    (fp_cost · FP + fn_cost · FN) / n (sums of weights with `sample_weight`). `threshold = math.inf`
    flags nothing (every positive missed)."""
    y = np.asarray(y_true) == 1
    flagged = np.asarray(proba, dtype=float) >= threshold
    weight = np.ones(y.size) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    fp = float(weight[flagged & ~y].sum())
    fn = float(weight[~flagged & y].sum())
    return (fp_cost * fp + fn_cost * fn) / float(weight.sum())


def bayes_threshold(fp_cost: float, fn_cost: float) -> float:
    """The cost-optimal threshold on calibrated probabilities: flag when p · fn_cost ≥ (1 − p) · fp_cost,
    i.e. p ≥ fp_cost / (fp_cost + fn_cost)."""
    return fp_cost / (fp_cost + fn_cost)


def score_curve(y_true: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative true and false positives at each distinct score, highest score first (the curve
    behind both the ROC and the PR curve)."""
    order = np.argsort(proba, kind="mergesort")[::-1]
    scores = proba[order]
    hits = y_true[order]
    last_of_each_score = np.r_[np.flatnonzero(np.diff(scores)), hits.size - 1]
    tps = np.cumsum(hits)[last_of_each_score].astype(float)
    fps = (last_of_each_score + 1) - tps
    return tps, fps


def ranking_metrics(y_true: np.ndarray, proba: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """AP (step-wise, as `average_precision_score`), ROC AUC (trapezoidal, as `roc_auc_score`), and the
    PR curve's precision and recall arrays."""
    tps, fps = score_curve(y_true, proba)
    n_pos, n_neg = tps[-1], fps[-1]
    precision = tps / (tps + fps)
    recall = tps / n_pos
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    tpr, fpr = np.r_[0.0, tps / n_pos], np.r_[0.0, fps / n_neg]
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    return ap, auc, np.r_[precision, 1.0], np.r_[recall, 0.0]


def compute_metrics(y_true: Any, proba: Any, config: MetricConfig = MetricConfig(),
                    deployed_threshold: float | None = None, kinds: Iterable[str] | None = None) -> dict[str, float]:
    """Every per-cell metric for one test fold (needs both classes present, as stratified folds ensure);
    with `kinds` (of METRIC_KINDS) only the metrics of those kinds, so a post-hoc step that changes
    only decisions costs two confusion counts, not a logistic fit."""
    wanted = set(METRIC_KINDS if kinds is None else kinds)
    y_true = np.asarray(y_true).astype(int)
    proba = np.asarray(proba, dtype=float)
    out: dict[str, float] = {}
    if "reference" in wanted:
        out["prevalence"] = float(y_true.mean())
        out["ap_random"] = expected_random_ap(int(y_true.sum()), int(y_true.size))
    if "ranking" in wanted:
        ap, auc, precision, recall = ranking_metrics(y_true, proba)
        out.update({"ap": ap, "roc_auc": auc})
        for p in config.recall_at_precision:
            out[point_name("recall_at_precision", p)] = _recall_at_precision(precision, recall, p)
        for r in config.precision_at_recall:
            out[point_name("precision_at_recall", r)] = _precision_at_recall(precision, recall, r)
    if "probability" in wanted:
        clipped = np.clip(proba, EPS, 1 - EPS)
        intercept, slope = calibration_intercept_slope(y_true, proba)
        out.update({
            "brier": float(np.mean((proba - y_true) ** 2)),
            "log_loss": float(-np.mean(y_true * np.log(clipped) + (1 - y_true) * np.log1p(-clipped))),
            "ece": expected_calibration_error(y_true, proba, config.ece_bins),
            "calibration_intercept": intercept,
            "calibration_slope": slope,
        })
    if "decision@0.5" in wanted:
        out.update(threshold_metrics(y_true, proba, 0.5, "@0.5"))
    if deployed_threshold is not None and "decision@deployed" in wanted:
        out.update(threshold_metrics(y_true, proba, deployed_threshold, "@deployed"))
    return out
