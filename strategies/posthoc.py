"""Post-hoc steps: what is done to a trained model's scores, composed with any strategy.

A grid lists them on their own axis, `posthoc = ["none", "threshold:f1", "calibrate:isotonic", ...]`,
and every strategy point runs once per step (cell label `smote+threshold:f1`; plain `smote` for
"none"). Every choice a step makes is fitted on the training fold only:

- `threshold:f1`, `threshold:precision>=P`, `threshold:recall>=R` — scikit-learn's
  `TunedThresholdClassifierCV` with an inner stratified 3-fold on the training fold (the strategy's
  whole pipeline is refitted in each inner fold), then the model is refitted on the whole training
  fold. `precision>=P` maximises recall among thresholds whose precision reaches P in every inner
  fold and, when none does, prefers thresholds that reach it in more folds, then the most precise
  (reported as `constraint_met: false`); `recall>=R` mirrors it.
- `threshold:alert=Q` — flag a share Q of cases (an alert budget): the threshold is the (1 − Q)
  quantile of inner out-of-fold probabilities on the training fold (hand-written: a budget is a
  quantile, which a threshold grid search can only approximate).
- `calibrate:sigmoid`, `calibrate:isotonic` — `CalibratedClassifierCV` on the same inner 3-fold.
- `prior` — Bayes prior correction for resampled or re-weighted models: posterior odds × o(π)/o(π'),
  π the training fold's prevalence and π' the prior the model learned at (`Strategy.training_prior`).

The chosen threshold is stored with the cell (`extra["threshold"]`) and its test-fold metrics are
the `@deployed` ones; `extra["posthoc"]` holds what the inner CV found. Because the inner training
sets are smaller than the fold, strategies are checked and built for the smallest of them
(`TrainingContext.inner`), so a neighbour count that fits the fold but not the inner folds is a
skipped cell, not an error.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import make_scorer
from sklearn.model_selection import (FixedThresholdClassifier, StratifiedKFold, TunedThresholdClassifierCV,
                                     cross_val_predict)

from strategies.base import InvalidParamsError, NotApplicable, Strategy, TrainingContext, get_strategy
from strategies.models import ModelSpec
from foundation.names import Registry

#: Folds of the inner stratified CV on the training fold (threshold and calibration choices).
INNER_FOLDS = 3
#: Candidate thresholds `TunedThresholdClassifierCV` scores (evenly spaced over the inner scores).
THRESHOLD_CANDIDATES = 200


@dataclass(frozen=True)
class PosthocSpec:
    """One point of the posthoc axis: the step's name, its parsed parameters, its canonical text."""

    step: str
    params: dict[str, Any] = field(default_factory=dict)
    text: str = "none"


class PostHoc:
    """Base class of post-hoc steps; subclasses parse their argument, check and wrap."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    #: How to write it in a grid (shown by `imbench list strategies`).
    syntax: ClassVar[str] = ""
    uses_inner_cv: ClassVar[bool] = False

    def parse(self, arg: str | None) -> dict[str, Any]:
        if arg:
            raise InvalidParamsError(f"posthoc step {self.name!r} takes no argument (got {arg!r})")
        return {}

    def canonical(self, params: dict[str, Any]) -> str:
        return self.name

    def fit_context(self, ctx: TrainingContext) -> TrainingContext:
        """The smallest training set the strategy's pipeline will be fitted on under this step."""
        return ctx.inner(INNER_FOLDS) if self.uses_inner_cv else ctx

    def check(self, strategy: Strategy, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext
              ) -> tuple[bool, str]:
        if self.uses_inner_cv and min(ctx.n_pos, ctx.n_neg) < INNER_FOLDS:
            return False, (f"posthoc {self.name} uses an inner stratified {INNER_FOLDS}-fold on the training fold: "
                           f"needs ≥ {INNER_FOLDS} rows of each class, found {ctx.n_pos} positives")
        return True, ""

    def wrap(self, estimator: BaseEstimator, params: dict[str, Any], strategy: Strategy,
             strategy_params: dict[str, Any], seed: int) -> BaseEstimator:
        return estimator

    def model_prior(self, fitted: BaseEstimator, strategy: Strategy, strategy_params: dict[str, Any],
                    y: np.ndarray) -> float | None:
        """The positive prior the final probabilities are calibrated to (stored as `extra["model_prior"]`)."""
        return strategy.training_prior(fitted, strategy_params, y)


POSTHOC: Registry[PostHoc] = Registry("posthoc step")


def register_posthoc(cls: type[PostHoc]) -> type[PostHoc]:
    """Class decorator: register one instance of a post-hoc step under `cls.name`."""
    if not getattr(cls, "name", None) or not re.fullmatch(r"[a-z][a-z0-9-]*", cls.name):
        raise TypeError(f"post-hoc class {cls.__name__} must set a lower-case `name`")
    POSTHOC.add(cls.name, cls())
    return cls


def parse_posthoc(text: Any) -> PosthocSpec:
    """`"threshold:precision >= 0.9"` → PosthocSpec("threshold", {...}, "threshold:precision>=0.9")."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidParamsError(f"a posthoc step must be a string such as \"threshold:f1\", got {text!r}")
    compact = re.sub(r"\s+", "", text)
    name, _, arg = compact.partition(":")
    step = POSTHOC.get(name)
    params = step.parse(arg or None)
    return PosthocSpec(step.name, params, step.canonical(params))


def inner_folds(seed: int) -> StratifiedKFold:
    return StratifiedKFold(n_splits=INNER_FOLDS, shuffle=True, random_state=seed)


# --- threshold -----------------------------------------------------------------------------------

# The score functions below are called once per candidate threshold and inner fold, so they count
# by hand instead of calling scikit-learn's validated metric functions (same numbers, tested).

def _counts(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float, float]:
    truth, pred = np.asarray(y_true) == 1, np.asarray(y_pred) == 1
    tp = float(np.sum(truth & pred))
    return tp, float(np.sum(pred)) - tp, float(np.sum(truth)) - tp


def fast_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """F1 of the positive class (0 when there is no positive in truth or prediction)."""
    tp, fp, fn = _counts(y_true, y_pred)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


#: Added to the score of a threshold that meets the constraint in an inner fold. Scores are averaged
#: over the inner folds, and a bonus larger than the number of folds + 1 makes the average rank
#: thresholds by how many folds they satisfy first, then by the objective: an average ≥ the bonus
#: means the constraint held in every inner fold.
FEASIBLE_BONUS = 10.0


def constrained_recall(y_true: np.ndarray, y_pred: np.ndarray, min_precision: float) -> float:
    """FEASIBLE_BONUS + recall when precision ≥ min_precision, else precision: feasible thresholds
    rank above infeasible ones, and among infeasible ones the most precise wins."""
    tp, fp, fn = _counts(y_true, y_pred)
    precision = tp / (tp + fp) if tp + fp else 0.0
    if precision >= min_precision:
        return FEASIBLE_BONUS + (tp / (tp + fn) if tp + fn else 0.0)
    return precision


def constrained_precision(y_true: np.ndarray, y_pred: np.ndarray, min_recall: float) -> float:
    """FEASIBLE_BONUS + precision when recall ≥ min_recall, else recall (mirrors `constrained_recall`)."""
    tp, fp, fn = _counts(y_true, y_pred)
    recall = tp / (tp + fn) if tp + fn else 0.0
    if recall >= min_recall:
        return FEASIBLE_BONUS + (tp / (tp + fp) if tp + fp else 0.0)
    return recall


class TunedThreshold(TunedThresholdClassifierCV):
    """`TunedThresholdClassifierCV` that also reports the chosen threshold as `deployed_threshold_`
    (read by the runner) and what the inner CV found as `fit_report_`. A model that predicts a
    constant in an inner fold (e.g. boosting that cannot split a tiny under-sampled set) leaves no
    threshold to choose: that is a stated skip, not an error the next run would retry."""

    def fit(self, X: Any, y: Any, **params: Any) -> "TunedThreshold":
        try:
            return super().fit(X, y, **params)
        except ValueError as exc:
            if "constant predictions" in str(exc):
                raise NotApplicable("threshold tuning: the model predicts a constant in the inner folds, so "
                                    "there is no threshold to choose") from exc
            raise

    @property
    def deployed_threshold_(self) -> float:
        return float(self.best_threshold_)

    @property
    def fit_report_(self) -> dict[str, Any]:
        report: dict[str, Any] = {"inner_score": float(self.best_score_)}
        scorer = self.scoring
        if getattr(scorer, "_score_func", None) in (constrained_recall, constrained_precision):
            report["constraint_met"] = bool(self.best_score_ >= FEASIBLE_BONUS)  # in every inner fold
        return report


class AlertBudgetThreshold(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Flags a share `budget` of cases: the threshold is the (1 − budget) quantile of out-of-fold
    probabilities from an inner stratified CV on the training data; the model is then refitted on all
    of it. Probabilities are the model's own; only the decision uses the threshold."""

    def __init__(self, estimator: BaseEstimator, budget: float = 0.05, cv: Any = INNER_FOLDS) -> None:
        self.estimator = estimator
        self.budget = budget
        self.cv = cv

    def fit(self, X: Any, y: Any) -> "AlertBudgetThreshold":
        y = np.asarray(y)
        oof = cross_val_predict(clone(self.estimator), X, y, cv=self.cv, method="predict_proba")[:, 1]
        if np.ptp(oof) == 0:
            raise NotApplicable("alert budget: the model predicts a constant in the inner folds, so no "
                                "threshold flags a share of cases")
        n_flagged = min(len(oof), max(1, math.ceil(self.budget * len(oof))))
        threshold = float(np.sort(oof)[::-1][n_flagged - 1])
        self.estimator_ = FixedThresholdClassifier(clone(self.estimator), threshold=threshold,
                                                   response_method="predict_proba").fit(X, y)
        self.classes_ = self.estimator_.classes_
        self.deployed_threshold_ = threshold
        self.fit_report_ = {"inner_alert_rate": float(np.mean(oof >= threshold))}
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.estimator_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        return self.estimator_.predict(X)


_LEVEL = re.compile(r"^(precision|recall)>=(.+)$")
_BUDGET = re.compile(r"^alert=(.+)$")


def _fraction(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidParamsError(f"posthoc threshold: {what} must be a number in (0, 1], got {text!r}") from None
    if not 0 < value <= 1:
        raise InvalidParamsError(f"posthoc threshold: {what} must be a number in (0, 1], got {text!r}")
    return value


@register_posthoc
class Threshold(PostHoc):
    name = "threshold"
    description = ("decision threshold chosen by inner CV on the training fold: max F1, max recall at "
                   "precision ≥ P, max precision at recall ≥ R, or flag a share Q of cases")
    syntax = "threshold:f1 | threshold:precision>=P | threshold:recall>=R | threshold:alert=Q"
    uses_inner_cv = True

    def parse(self, arg: str | None) -> dict[str, Any]:
        if arg == "f1":
            return {"objective": "f1"}
        if arg and (match := _LEVEL.match(arg)):
            return {"objective": match.group(1), "level": _fraction(match.group(2), match.group(1))}
        if arg and (match := _BUDGET.match(arg)):
            return {"objective": "alert", "level": _fraction(match.group(1), "the alert budget")}
        raise InvalidParamsError(f"posthoc threshold needs an objective: {self.syntax} (got {arg!r})")

    def canonical(self, params: dict[str, Any]) -> str:
        objective = params["objective"]
        if objective == "f1":
            return "threshold:f1"
        if objective == "alert":
            return f"threshold:alert={params['level']:g}"
        return f"threshold:{objective}>={params['level']:g}"

    def wrap(self, estimator: BaseEstimator, params: dict[str, Any], strategy: Strategy,
             strategy_params: dict[str, Any], seed: int) -> BaseEstimator:
        objective = params["objective"]
        if objective == "alert":
            return AlertBudgetThreshold(estimator, budget=params["level"], cv=inner_folds(seed))
        if objective == "f1":
            scoring: Any = make_scorer(fast_f1)
        elif objective == "precision":
            scoring = make_scorer(constrained_recall, min_precision=params["level"])
        else:
            scoring = make_scorer(constrained_precision, min_recall=params["level"])
        return TunedThreshold(estimator, scoring=scoring, response_method="predict_proba", cv=inner_folds(seed),
                              thresholds=THRESHOLD_CANDIDATES, refit=True)

    def model_prior(self, fitted: BaseEstimator, strategy: Strategy, strategy_params: dict[str, Any],
                    y: np.ndarray) -> float | None:
        inner = fitted.estimator_
        inner = getattr(inner, "estimator_", inner)  # FixedThresholdClassifier around the pipeline
        return strategy.training_prior(inner, strategy_params, y)


# --- calibration ---------------------------------------------------------------------------------

@register_posthoc
class Calibrate(PostHoc):
    name = "calibrate"
    description = "probability calibration (Platt sigmoid or isotonic) by inner CV on the training fold"
    syntax = "calibrate:sigmoid | calibrate:isotonic"
    uses_inner_cv = True
    METHODS = ("sigmoid", "isotonic")

    def parse(self, arg: str | None) -> dict[str, Any]:
        if arg not in self.METHODS:
            raise InvalidParamsError(f"posthoc calibrate needs a method: {self.syntax} (got {arg!r})")
        return {"method": arg}

    def canonical(self, params: dict[str, Any]) -> str:
        return f"calibrate:{params['method']}"

    def wrap(self, estimator: BaseEstimator, params: dict[str, Any], strategy: Strategy,
             strategy_params: dict[str, Any], seed: int) -> BaseEstimator:
        return CalibratedClassifierCV(estimator, method=params["method"], cv=inner_folds(seed))

    def model_prior(self, fitted: BaseEstimator, strategy: Strategy, strategy_params: dict[str, Any],
                    y: np.ndarray) -> float | None:
        return float(np.mean(np.asarray(y) == 1))


# --- prior correction ----------------------------------------------------------------------------

def odds(p: float) -> float:
    return p / (1 - p)


class PriorCorrected(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A model trained at prior π' (resampled or re-weighted) with its probabilities moved to the
    training data's prior π by Bayes' rule: odds(p) · odds(π) / odds(π'). π' comes from the strategy
    that built the model (`Strategy.training_prior`), measured on the fitted model."""

    def __init__(self, estimator: BaseEstimator, strategy: str = "none",
                 strategy_params: dict[str, Any] | None = None) -> None:
        self.estimator = estimator
        self.strategy = strategy
        self.strategy_params = strategy_params

    def fit(self, X: Any, y: Any) -> "PriorCorrected":
        y = np.asarray(y)
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        self.true_prior_ = float(np.mean(y == 1))
        trained = get_strategy(self.strategy).training_prior(self.estimator_, dict(self.strategy_params or {}), y)
        if trained is None or not 0 < trained < 1:
            raise NotApplicable(f"prior correction: strategy {self.strategy!r} reports no usable training prior "
                                f"({trained!r})")
        self.trained_prior_ = float(trained)
        self.fit_report_ = {"trained_prior": self.trained_prior_, "true_prior": self.true_prior_}
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        p = self.estimator_.predict_proba(X)[:, 1]
        ratio = odds(self.true_prior_) / odds(self.trained_prior_)
        corrected = ratio * p / (ratio * p + (1 - p))
        return np.column_stack([1 - corrected, corrected])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


@register_posthoc
class Prior(PostHoc):
    name = "prior"
    description = "prior correction: move probabilities from the prior the model trained at to the data's"
    syntax = "prior"

    def check(self, strategy: Strategy, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext
              ) -> tuple[bool, str]:
        if strategy.shifts_prior is False:
            return False, (f"strategy {strategy.name!r} trains on the data's own prior: prior correction would "
                           "change nothing")
        if strategy.shifts_prior is None:
            return False, (f"strategy {strategy.name!r} does not train at a known class prior: prior correction "
                           "does not apply")
        return True, ""

    def wrap(self, estimator: BaseEstimator, params: dict[str, Any], strategy: Strategy,
             strategy_params: dict[str, Any], seed: int) -> BaseEstimator:
        return PriorCorrected(estimator, strategy.name, dict(strategy_params))

    def model_prior(self, fitted: BaseEstimator, strategy: Strategy, strategy_params: dict[str, Any],
                    y: np.ndarray) -> float | None:
        return float(np.mean(np.asarray(y) == 1))


@register_posthoc
class NoPosthoc(PostHoc):
    name = "none"
    description = "the model's own probabilities and the 0.5 threshold (default)"
    syntax = "none"
