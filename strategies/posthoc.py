"""Post-hoc steps: what is done with a fitted model's stored predictions, composed with any strategy.

A grid lists them on their own axis, `posthoc = ["none", "threshold:f1", "calibrate:isotonic", ...]`,
and every strategy gets a derived label per step (`smote+threshold:f1`). A step never fits a model:
it is an exact evaluation of what each cell stores — the out-of-fold predictions of k inner models
on the training fold (with their inner fold ids), those inner models' predictions on the test fold,
and the final model's test predictions (`PosthocInput`). So any number of steps costs no extra fit,
and a step can be added to a finished store. Every choice is made on the training fold only.

- `threshold:f1 | precision>=P | recall>=R | alert=Q | cost=R` — an exact search over every distinct
  pooled out-of-fold score (`foundation.posthoc.choose_threshold`), applied to the final model's test
  predictions. A target the training folds cannot reach deploys no alert and says why.
- `calibrate:sigmoid | isotonic` — one calibrator fitted on the pooled out-of-fold predictions (Platt
  on logit p, or isotonic) and applied to the final model: the semantics of scikit-learn's
  `CalibratedClassifierCV(ensemble=False)`. `calibrate:ensemble-sigmoid | ensemble-isotonic` is the
  `ensemble=True` variant: one calibrator per inner fold on its held-out predictions, applied to that
  inner model's test predictions, averaged.
- `prior` — Bayes prior correction of the final model from the prior it was trained at (recorded
  with the cell) to the training fold's prevalence; only for strategies that shift the prior.

A plugin step subclasses `PostHoc`, implements `evaluate(params, data) -> PosthocOutput` and registers
with `register_posthoc`; a class of the old shape (wrapping an estimator) is refused in one line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from imbench.foundation.names import Registry
from imbench.foundation.posthoc import adjust_prior, choose_threshold, fit_calibrator
from imbench.foundation.params import InvalidParamsError, Param
from imbench.strategies.base import Strategy


@dataclass(frozen=True)
class PosthocSpec:
    """One point of the posthoc axis: the step's name, its parsed parameters, its canonical text."""

    step: str
    params: dict[str, Any] = field(default_factory=dict)
    text: str = "none"


@dataclass(frozen=True)
class PosthocInput:
    """What a step may use: stored predictions of one cell and the priors it recorded."""

    #: Labels, out-of-fold probabilities and inner fold ids of the training fold's rows (inner k-fold).
    inner_y: np.ndarray | None
    inner_scores: np.ndarray | None
    inner_fold: np.ndarray | None
    #: (k, n_test): each inner model's probabilities on the test fold.
    inner_test_scores: np.ndarray | None
    #: The final model's probabilities on the test fold.
    test_scores: np.ndarray
    #: Prevalence of the training fold, and the prior the final model was trained at (None: unknown).
    train_prior: float
    model_prior: float | None


@dataclass(frozen=True)
class PosthocOutput:
    """What a step gives: test-fold probabilities, the deployed threshold and a short report."""

    test_proba: np.ndarray
    #: A case is flagged when its probability ≥ threshold; math.inf deploys no alert.
    threshold: float = 0.5
    #: For steps with a target: "met", or why not ("unreachable", "over budget"); "" otherwise.
    outcome: str = ""
    reason: str = ""
    #: A few JSON-able numbers worth keeping (e.g. what the inner folds reached).
    report: dict[str, Any] = field(default_factory=dict)
    #: The step applied to the inner out-of-fold predictions (None: they are unchanged).
    inner_proba: np.ndarray | None = None


class PostHoc:
    """Base class of post-hoc steps; subclasses parse their argument and evaluate stored predictions."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    #: How to write it in a grid (shown by `imbench list strategies`).
    syntax: ClassVar[str] = ""
    #: Needs the inner out-of-fold predictions (a grid with this step stores them).
    needs_inner: ClassVar[bool] = True
    #: Spellings the contract tests run (every parameter form; the first is also used for `applies`).
    examples: ClassVar[tuple[str, ...]] = ()
    #: The parameters its text carries, declared once (listed by `imbench list strategies --params`).
    parameters: ClassVar[tuple[Param, ...]] = ()

    def parse(self, arg: str | None) -> dict[str, Any]:
        if arg:
            raise InvalidParamsError(f"posthoc step {self.name!r} takes no argument (got {arg!r})")
        return {}

    def canonical(self, params: dict[str, Any]) -> str:
        return self.name

    def changes(self, params: dict[str, Any]) -> frozenset[str]:
        """The metric kinds (`foundation.metrics.METRIC_KINDS`) this step can change: a derived label
        carries only these, so it never duplicates its strategy's values in a ranking."""
        return frozenset({"probability", "decision@0.5", "decision@deployed"})

    def applies(self, strategy: Strategy, params: dict[str, Any]) -> tuple[bool, str]:
        """Whether the step can exist on this strategy at all (decided from the spec, never enumerated
        otherwise); data-dependent problems are `skipped` results instead."""
        return True, ""

    def evaluate(self, params: dict[str, Any], data: PosthocInput) -> PosthocOutput:
        raise NotImplementedError


POSTHOC: Registry[PostHoc] = Registry("posthoc step")


def register_posthoc(cls: type[PostHoc]) -> type[PostHoc]:
    """Class decorator: register one instance of a post-hoc step under `cls.name`."""
    if not getattr(cls, "name", None) or not re.fullmatch(r"[a-z][a-z0-9-]*", cls.name):
        raise TypeError(f"post-hoc class {cls.__name__} must set a lower-case `name`")
    if hasattr(cls, "wrap") or cls.evaluate is PostHoc.evaluate:
        raise TypeError(f"post-hoc step {cls.name!r} has the old interface (wrapping an estimator); since store "
                        "schema 2 a step evaluates stored predictions: implement evaluate(params, data) -> "
                        "PosthocOutput (docs/plugins.md)")
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


def _needs_inner(data: PosthocInput, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if data.inner_scores is None or data.inner_y is None or data.inner_fold is None:
        raise ValueError(f"posthoc {name} needs the inner out-of-fold predictions, which this cell does not have")
    return data.inner_y, data.inner_scores, data.inner_fold


# --- threshold -----------------------------------------------------------------------------------

_LEVEL = re.compile(r"^(precision|recall)>=(.+)$")
_VALUE = re.compile(r"^(alert|cost)=(.+)$")


OBJECTIVES = ("f1", "precision", "recall", "alert", "cost")
#: The level each objective takes: a share in (0, 1], or a cost ratio > 0.
LEVELS = {
    "precision": Param("level", float, None, low=0.0, high=1.0, low_open=True, doc="precision floor P"),
    "recall": Param("level", float, None, low=0.0, high=1.0, low_open=True, doc="recall floor R"),
    "alert": Param("level", float, None, low=0.0, high=1.0, low_open=True, doc="alert budget: a share Q of the rows"),
    "cost": Param("level", float, None, low=0.0, low_open=True, doc="a missed positive costs R false alarms"),
}


def _level(text: str, objective: str) -> float:
    """The level written after an objective, checked against its declaration."""
    try:
        value: float | str = float(text)
    except ValueError:
        value = text
    return float(LEVELS[objective].check(value, f"posthoc threshold:{objective}"))


@register_posthoc
class Threshold(PostHoc):
    name = "threshold"
    description = ("decision threshold chosen on the training fold's pooled out-of-fold scores: max F1, max "
                   "recall at precision ≥ P, max precision at recall ≥ R, alerts ≤ a share Q, or least cost")
    syntax = ("threshold:f1 | threshold:precision>=P | threshold:recall>=R | threshold:alert=Q | "
              "threshold:cost=R (a missed positive costs R false alarms)")
    examples = ("threshold:f1", "threshold:precision>=0.8", "threshold:recall>=0.8", "threshold:alert=0.1",
                "threshold:cost=10")
    parameters = (Param("objective", str, "f1", options=OBJECTIVES, doc="what the threshold maximises or meets"),
              Param("level", float, None, low=0.0, low_open=True,
                    doc="P, R or Q in (0, 1] (precision, recall, alert); the cost ratio R > 0 (cost)"))

    def parse(self, arg: str | None) -> dict[str, Any]:
        if arg == "f1":
            return {"objective": "f1"}
        if arg and (match := _LEVEL.match(arg)):
            return {"objective": match.group(1), "level": _level(match.group(2), match.group(1))}
        if arg and (match := _VALUE.match(arg)):
            return {"objective": match.group(1), "level": _level(match.group(2), match.group(1))}
        raise InvalidParamsError(f"posthoc threshold needs an objective: {self.syntax} (got {arg!r})")

    def canonical(self, params: dict[str, Any]) -> str:
        objective = params["objective"]
        if objective == "f1":
            return "threshold:f1"
        if objective in ("alert", "cost"):
            return f"threshold:{objective}={params['level']:g}"
        return f"threshold:{objective}>={params['level']:g}"

    def changes(self, params: dict[str, Any]) -> frozenset[str]:
        return frozenset({"decision@deployed"})

    def evaluate(self, params: dict[str, Any], data: PosthocInput) -> PosthocOutput:
        y, scores, _ = _needs_inner(data, self.name)
        choice = choose_threshold(y, scores, params["objective"], params.get("level"))
        report = {"inner_precision": choice.precision, "inner_recall": choice.recall,
                  "inner_objective": choice.objective}
        return PosthocOutput(data.test_scores, choice.threshold, choice.outcome, choice.reason, report)


# --- calibration ---------------------------------------------------------------------------------

@register_posthoc
class Calibrate(PostHoc):
    name = "calibrate"
    description = ("probability calibration (Platt sigmoid or isotonic) fitted on the training fold's pooled "
                   "out-of-fold scores; ensemble-*: one calibrator per inner model, averaged")
    syntax = "calibrate:sigmoid | calibrate:isotonic | calibrate:ensemble-sigmoid | calibrate:ensemble-isotonic"
    METHODS = ("sigmoid", "isotonic", "ensemble-sigmoid", "ensemble-isotonic")
    examples = tuple(f"calibrate:{method}" for method in METHODS)
    parameters = (Param("method", str, None, options=METHODS, doc="Platt (sigmoid) or isotonic; ensemble-*: per inner model"),)

    def parse(self, arg: str | None) -> dict[str, Any]:
        if arg not in self.METHODS:
            raise InvalidParamsError(f"posthoc calibrate needs a method: {self.syntax} (got {arg!r})")
        return {"method": arg}

    def canonical(self, params: dict[str, Any]) -> str:
        return f"calibrate:{params['method']}"

    def changes(self, params: dict[str, Any]) -> frozenset[str]:
        # Platt scaling is monotone (the ranking is unchanged); isotonic regression ties scores, and
        # averaging several inner models reorders them: both change ranking metrics too.
        if params["method"] == "sigmoid":
            return super().changes(params)
        return super().changes(params) | {"ranking"}

    def evaluate(self, params: dict[str, Any], data: PosthocInput) -> PosthocOutput:
        y, scores, folds = _needs_inner(data, self.name)
        method = params["method"]
        if not method.startswith("ensemble-"):
            calibrator = fit_calibrator(y, scores, method, folds)
            return PosthocOutput(calibrator.apply(data.test_scores), inner_proba=calibrator.apply(scores))
        if data.inner_test_scores is None:
            raise ValueError("posthoc calibrate:ensemble-* needs the inner models' test predictions")
        method = method.removeprefix("ensemble-")
        inner = np.empty_like(scores)
        parts = []
        for k, fold in enumerate(np.unique(folds)):
            held_out = folds == fold
            calibrator = fit_calibrator(y[held_out], scores[held_out], method)
            inner[held_out] = calibrator.apply(scores[held_out])
            parts.append(calibrator.apply(data.inner_test_scores[k]))
        return PosthocOutput(np.mean(parts, axis=0), inner_proba=inner)


# --- prior correction ----------------------------------------------------------------------------

@register_posthoc
class Prior(PostHoc):
    name = "prior"
    description = "prior correction: move probabilities from the prior the model trained at to the data's"
    syntax = "prior"
    needs_inner = False
    examples = ("prior",)

    def applies(self, strategy: Strategy, params: dict[str, Any]) -> tuple[bool, str]:
        if strategy.shifts_prior is False:
            return False, "it trains on the data's own prior: prior correction would change nothing"
        if strategy.shifts_prior is None:
            return False, "it does not train at a known class prior: prior correction does not apply"
        return True, ""

    def evaluate(self, params: dict[str, Any], data: PosthocInput) -> PosthocOutput:
        if data.model_prior is None or not 0 < data.model_prior < 1:
            raise ValueError(f"prior correction needs the prior the model trained at, got {data.model_prior!r}")
        inner = None if data.inner_scores is None else adjust_prior(data.inner_scores, data.model_prior,
                                                                    data.train_prior)
        return PosthocOutput(adjust_prior(data.test_scores, data.model_prior, data.train_prior),
                             report={"model_prior": data.model_prior, "train_prior": data.train_prior},
                             inner_proba=inner)


@register_posthoc
class NoPosthoc(PostHoc):
    name = "none"
    description = "the model's own probabilities and the 0.5 threshold (default)"
    syntax = "none"
    needs_inner = False
    examples = ("none",)

    def changes(self, params: dict[str, Any]) -> frozenset[str]:
        return frozenset()

    def evaluate(self, params: dict[str, Any], data: PosthocInput) -> PosthocOutput:
        return PosthocOutput(data.test_scores)
