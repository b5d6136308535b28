"""Post-hoc steps as exact evaluations of stored predictions: threshold search, calibration, prior
correction.

Nothing here fits a model. Each function takes predictions that are already stored (the pooled inner
out-of-fold predictions of a training fold, the final model's test predictions) and returns a choice
or new probabilities, so any number of post-hoc steps costs no extra fit and can be added to a
finished store. This is the one implementation used by the runner, by the analysis commands (stress,
budget, calibration) and by post-hoc plugins; it lives on the ground floor so every room may use it.

- `choose_threshold`: exact search over every distinct score plus "no alert" (DESIGN.md rule 6),
  O(n log n). A target the predictions cannot reach is a stated outcome with its reason,
  never a fall-back to the maximum score.
- `fit_calibrator`: the semantics of `CalibratedClassifierCV(ensemble=False)` around a model whose
  `decision_function` is logit p, fitted on pooled out-of-fold predictions.
- `prior_correct` / `adjust_prior`: Bayes odds correction between two class priors.

Test-fold outcomes at a chosen threshold come from `foundation.metrics.threshold_metrics` (it
handles `threshold = math.inf`: no alert, precision NaN), so there is one implementation of them.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import logit
from sklearn.calibration import _SigmoidCalibration
from sklearn.isotonic import IsotonicRegression

from imbench.foundation.metrics import EPS, score_curve

#: Objectives of `choose_threshold` and whether each needs a level.
OBJECTIVES = {"f1": False, "precision": True, "recall": True, "alert": True, "cost": True}
#: Outcomes of `choose_threshold`.
OUTCOMES = ("met", "unreachable", "over budget")
#: Relative tolerance of the comparisons with a level (precision ≥ P, recall ≥ R, alerts ≤ Q·n) and of
#: equal costs, so that a target met exactly is met despite rounding: a budget Q·n (0.29 × 100 is
#: 28.999999999999996), a level computed upstream (0.1 × 3 is 0.30000000000000004), FP + R·FN ties.
#: (17 of 20 flagged meets 0.85 even without it: 17/20 and 0.85 round to the same float.)
RELATIVE_TOLERANCE = 1e-12
#: Calibration methods of `fit_calibrator`.
CALIBRATION_METHODS = ("sigmoid", "isotonic")


# --- threshold search ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ThresholdChoice:
    """The threshold a post-hoc step deploys and what it achieves on the predictions it was chosen on."""

    threshold: float     # a case is flagged when score >= threshold; math.inf means "no alert"
    outcome: str         # "met", "unreachable" or "over budget"
    reason: str          # "" when met; else one line saying why (numbers included)
    objective: float     # achieved objective on the given (pooled inner) predictions
    precision: float     # on the given predictions; nan when no case is flagged
    recall: float
    alert_rate: float    # flagged share of rows


def _check_inputs(y_true: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true)
    s = np.asarray(scores, dtype=float)
    if y.ndim != 1 or s.ndim != 1 or y.size != s.size:
        raise ValueError(f"labels and scores must be 1-d arrays of one length, got shapes {y.shape} and {s.shape}")
    if y.size == 0:
        raise ValueError("no predictions given (0 rows)")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels must be 0/1, got values {np.unique(y)[:5].tolist()}")
    if not np.isfinite(s).all():
        raise ValueError(f"scores must be finite, got {int(np.sum(~np.isfinite(s)))} NaN or infinite values")
    return y.astype(int), s


def _check_level(objective: str, level: float | None) -> float | None:
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown threshold objective {objective!r}; expected one of {', '.join(OBJECTIVES)}")
    if not OBJECTIVES[objective]:
        if level is not None:
            raise ValueError(f"threshold objective {objective!r} takes no level, got {level!r}")
        return None
    if level is None or isinstance(level, bool):
        raise ValueError(f"threshold objective {objective!r} needs a numeric level, got {level!r}")
    level = float(level)
    if objective == "cost":
        if not (math.isfinite(level) and level > 0):
            raise ValueError(f"cost ratio (a false negative costs R false positives) must be > 0, got {level:g}")
    elif not 0 < level <= 1:
        raise ValueError(f"{objective} level must be in (0, 1], got {level:g}")
    return level


def _best(values: np.ndarray, tolerance: float = 0.0) -> int:
    """Index of the largest value; among equal values (within `tolerance` relative) the lowest index,
    which is the candidate with the fewest alerts because candidates are in order of alerts."""
    best = float(np.max(values))
    return int(np.flatnonzero(values >= best - tolerance * abs(best))[0])


def _candidates(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, ...]:
    """(thresholds, tp, fp, alerts, precision, recall) of every candidate: 0 is "no alert", then each
    distinct score, highest first (the order of `score_curve`), so alerts grow with the index."""
    thresholds = np.r_[math.inf, np.unique(s)[::-1]]
    tp_curve, fp_curve = score_curve(y, s)
    tp, fp = np.r_[0.0, tp_curve], np.r_[0.0, fp_curve]
    alerts = tp + fp
    n_pos = tp[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = tp / alerts  # NaN for "no alert": there is no precision to speak of
        recall = tp / n_pos if n_pos else np.zeros_like(tp)
    return thresholds, tp, fp, alerts, precision, recall


def _chooser(thresholds: np.ndarray, precision: np.ndarray, recall: np.ndarray, alerts: np.ndarray, n: int
             ) -> Callable[..., ThresholdChoice]:
    def chosen(index: int, objective_value: float, outcome: str = "met", reason: str = "") -> ThresholdChoice:
        return ThresholdChoice(threshold=float(thresholds[index]), outcome=outcome, reason=reason,
                               objective=float(objective_value), precision=float(precision[index]),
                               recall=float(recall[index]), alert_rate=float(alerts[index] / n))
    return chosen


def choose_threshold(y_true: Any, scores: Any, objective: str, level: float | None = None) -> ThresholdChoice:
    """The exact best threshold for `objective` on these predictions (meant: the pooled inner
    out-of-fold predictions of a training fold).

    Candidates are every distinct score t (flag every case with score ≥ t) plus "no alert"
    (`math.inf`); there is no grid. Tie-break for every objective: among equal objective values, the
    fewest alerts (the highest threshold).

    - `"f1"`: the highest F1 (F1 of "no alert" is 0).
    - `"precision"`, level P: the highest recall among candidates with at least one alert whose
      precision ≥ P; if none reaches P the outcome is "unreachable" and no alert is deployed.
    - `"recall"`, level R: the highest precision among candidates with recall ≥ R ("unreachable" when
      there is no positive).
    - `"alert"`, level Q (a share of rows): the most alerts among candidates flagging at most Q·n rows;
      when even the highest distinct score flags more (ties at the top, or Q·n < 1) the outcome is
      "over budget" and no alert is deployed: a budget is never silently exceeded.
    - `"cost"`, level R (a false negative costs R false positives): the lowest FP + R·FN, "no alert"
      included; the objective is the cost per case.

    Comparisons with a level (and equal costs) allow a relative tolerance of 1e-12
    (`RELATIVE_TOLERANCE`): 17 true of 20 flagged meets precision ≥ 0.85, and 29 of 100 rows meet an
    alert budget of 0.29 although 0.29 × 100 is 28.999999999999996 in floating point. O(n log n): the
    distinct scores and `score_curve`'s cumulative counts at each of them (one sort each).
    """
    y, s = _check_inputs(y_true, scores)
    level = _check_level(objective, level)
    n, n_pos = y.size, int(y.sum())
    thresholds, tp, fp, alerts, precision, recall = _candidates(y, s)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(alerts + n_pos > 0, 2 * tp / (alerts + n_pos), 0.0)
    tol = RELATIVE_TOLERANCE
    chosen = _chooser(thresholds, precision, recall, alerts, n)

    if objective == "f1":
        index = _best(f1)
        return chosen(index, f1[index])
    if objective == "precision":
        feasible = (alerts > 0) & (np.nan_to_num(precision, nan=-1.0) >= level * (1 - tol))
        if not feasible.any():
            top = int(np.nanargmax(precision))  # first (fewest alerts) of the most precise candidates
            return chosen(0, recall[0], "unreachable",
                          f"the highest precision the training-fold predictions reach is {precision[top]:.4g} "
                          f"({int(tp[top])} of {int(alerts[top])} flagged) < {level:g}")
        index = _best(np.where(feasible, recall, -1.0))
        return chosen(index, recall[index])
    if objective == "recall":
        if n_pos == 0:
            return chosen(0, precision[0], "unreachable",
                          f"no positive among the {n} training-fold predictions: recall ≥ {level:g} is undefined")
        feasible = recall >= level * (1 - tol)  # never empty: flagging every case gives recall 1
        index = _best(np.where(feasible, np.nan_to_num(precision, nan=-1.0), -2.0))
        return chosen(index, precision[index])
    if objective == "alert":
        budget = level * n
        within = alerts <= budget * (1 + tol)
        index = int(np.flatnonzero(within)[-1])  # alerts grow with the index: the last is the most
        if index == 0:
            fewest = int(alerts[1])
            why = f"{fewest} rows tie at the top score {thresholds[1]:.6g}" if fewest > 1 else \
                "a budget below one row"
            return chosen(0, 0.0, "over budget",
                          f"the fewest alerts any threshold gives flag {fewest} of {n} rows ({why}) > "
                          f"the budget {level:g} × {n} = {budget:.4g} rows")
        return chosen(index, alerts[index] / n)
    # objective == "cost": a false negative costs `level` false positives
    cost = fp + level * (n_pos - tp)
    index = _best(-cost, tolerance=tol)
    return chosen(index, cost[index] / n)


#: Outcomes of `choose_budget_threshold`, for the notes under its tables.
BUDGET_OUTCOMES = {
    "on budget": "the most alerts within the budget, with precision ≥ the floor",
    "floor": "precision < floor at the budget: fewer alerts, the most that keep precision ≥ the floor",
    "best precision": "no threshold within the budget reaches the floor: the highest precision within the budget",
    "over budget": "even the fewest alerts the training scores allow (scores tied at the top, or a budget below one "
                   "row) exceed the budget: no alert is deployed",
}


def choose_budget_threshold(y_true: Any, scores: Any, alert_rate: float, min_precision: float) -> ThresholdChoice:
    """An alert budget under a precision floor, chosen exactly like `choose_threshold` (every distinct
    score plus "no alert", fewest alerts among ties): the most alerts within the budget when their
    precision ≥ the floor ("on budget"); else the most alerts with fewer that keep the floor
    ("floor"); else the most precise threshold within the budget ("best precision"); and when no
    threshold with an alert fits the budget, no alert ("over budget"). The outcome says which."""
    y, s = _check_inputs(y_true, scores)
    _check_level("alert", alert_rate)
    _check_level("precision", min_precision)
    n = y.size
    thresholds, _, _, alerts, precision, recall = _candidates(y, s)
    chosen = _chooser(thresholds, precision, recall, alerts, n)
    tol = RELATIVE_TOLERANCE
    within = np.flatnonzero((alerts > 0) & (alerts <= alert_rate * n * (1 + tol)))
    if not within.size:
        return chosen(0, 0.0, "over budget", f"the fewest alerts any threshold gives flag {int(alerts[1])} of {n} "
                                             f"rows > the budget {alert_rate:g} × {n}")
    keeps = precision[within] >= min_precision * (1 - tol)
    at_budget = int(within[-1])
    if keeps[-1]:
        return chosen(at_budget, alerts[at_budget] / n, "on budget")
    if keeps.any():
        index = int(within[keeps][-1])
        return chosen(index, alerts[index] / n, "floor")
    best = within[precision[within] == precision[within].max()]
    index = int(best[-1])
    return chosen(index, alerts[index] / n, "best precision")


# --- calibration ---------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)  # equal only to itself: two fits are not compared by their method
class Calibrator:
    """A calibration map fitted on pooled out-of-fold probabilities; `apply` maps any probabilities.

    Both methods work on logit p (p clipped to [EPS, 1 − EPS] = [1e-15, 1 − 1e-15] first, so 0 and 1
    have a finite logit): Platt scaling is a logistic fit on logit p, and isotonic regression is fitted
    on logit p too, because that is what `CalibratedClassifierCV` does around a model whose
    `decision_function` is logit p. (Isotonic on p gives the same values at the fitted points but
    interpolates between them differently, by up to ~1e-3 on new points.)
    """

    method: str
    model: Any = field(repr=False, compare=False)  # the fitted scikit-learn calibrator

    def apply(self, proba: Any) -> np.ndarray:
        """Calibrated probabilities for probabilities `proba` in [0, 1] (e.g. the final model's test
        predictions)."""
        p = np.asarray(proba, dtype=float)
        if p.size and not (np.all(p >= 0) and np.all(p <= 1)):
            raise ValueError("calibration applies to probabilities in [0, 1]; got values outside (or NaN)")
        return np.asarray(self.model.predict(_logit(p).ravel()), dtype=float).reshape(p.shape)

    @property
    def params(self) -> dict[str, float]:
        """What was fitted, for a short report: Platt's (a, b) in p = 1 / (1 + exp(a·logit p + b)), or
        the number of isotonic steps."""
        if self.method == "sigmoid":
            return {"a": float(self.model.a_), "b": float(self.model.b_)}
        return {"steps": float(len(self.model.X_thresholds_))}


def _logit(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(p, EPS, 1 - EPS))


def fit_calibrator(y_oof: Any, proba_oof: Any, method: str, fold_ids: Any = None) -> Calibrator:
    """Fit `method` ("sigmoid" or "isotonic") on pooled out-of-fold probabilities, with the semantics
    of `CalibratedClassifierCV(ensemble=False)`: one calibrator on the pooled out-of-fold scores,
    applied to the final model's predictions.

    Why not `CalibratedClassifierCV` itself: around a no-op model whose decision_function returns the
    stored logits it costs 7–40 ms per call at 1,000 rows (cloning, a `cross_val_predict`, validation)
    against 1.5–5 ms for the calibrator it calls, and this runs once per cell and step, thousands of
    times per grid. So this calls what it
    calls, with the same inputs: `IsotonicRegression(out_of_bounds="clip")` or scikit-learn's
    `_SigmoidCalibration` (Platt's method with his smoothed targets; private, so
    tests/test_posthoc_core.py checks the result against `CalibratedClassifierCV` to 1e-9 and fails
    if scikit-learn changes it).

    `fold_ids` (the inner fold of each out-of-fold row) is checked but does not change the result:
    with `ensemble=False` the folds only serve to produce out-of-fold scores, which are given here.
    """
    if method not in CALIBRATION_METHODS:
        raise ValueError(f"unknown calibration method {method!r}; expected one of {', '.join(CALIBRATION_METHODS)}")
    y, p = _check_inputs(y_oof, proba_oof)
    if not (np.all(p >= 0) and np.all(p <= 1)):
        raise ValueError("calibration is fitted on probabilities in [0, 1]; got values outside")
    if y.min() == y.max():
        raise ValueError(f"calibration needs both classes in the out-of-fold predictions, got only {y[0]}")
    if fold_ids is not None and np.asarray(fold_ids).shape != y.shape:
        raise ValueError(f"fold_ids must give one fold per out-of-fold row ({y.size}), "
                         f"got shape {np.asarray(fold_ids).shape}")
    model = IsotonicRegression(out_of_bounds="clip") if method == "isotonic" else _SigmoidCalibration()
    return Calibrator(method=method, model=model.fit(_logit(p), y))


# --- prior correction ----------------------------------------------------------------------------

def odds(p: float | np.ndarray) -> float | np.ndarray:
    return p / (1 - p)


def adjust_prior(proba: np.ndarray | float, from_prior: float | np.ndarray, to_prior: float | np.ndarray
                 ) -> np.ndarray:
    """Bayes prior correction: posterior odds scale with the prior odds, odds' = odds · o(π_to) / o(π_from).

    Written in odds (not logits) so that probabilities of exactly 0 and 1 stay 0 and 1 without
    clipping. Broadcasts: `to_prior` may be a column of priors (one row of output per prior).
    """
    p = np.asarray(proba, dtype=float)
    ratio = np.asarray(odds(np.asarray(to_prior, dtype=float)) / odds(np.asarray(from_prior, dtype=float)))
    return ratio * p / (ratio * p + (1 - p))


def prior_correct(proba: Any, train_prior: float, model_prior: float) -> np.ndarray:
    """Probabilities of a model trained at prior π' (`model_prior`: resampled or re-weighted) moved to
    the training fold's prevalence π (`train_prior`): odds(p) · odds(π) / odds(π'). 0 and 1 stay 0 and 1."""
    for name, prior in (("train_prior", train_prior), ("model_prior", model_prior)):
        if not 0 < prior < 1:
            raise ValueError(f"prior correction needs priors in (0, 1), got {name} = {prior!r}")
    return adjust_prior(proba, from_prior=model_prior, to_prior=train_prior)
