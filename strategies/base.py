"""The strategy contract: how training is changed, for any registered model.

A strategy declares its family, its parameters with defaults, when it cannot apply, and builds the
training pipeline for one cell. Everything it builds is fitted on the training fold only, because the
runner calls `fit` on the training rows and nothing else (the one exception, `uses_full_dataset`, is
reserved for declared anti-patterns such as `leaky-smote`).

Its parameters are declared once, as `parameters = (Param(...), ...)` (foundation/params.py: type,
default, allowed values, search distribution; `rules` for the few that depend on each other):
validation with one-line errors, canonical cell keys, listings and docs tables all come from them.

Hooks a strategy may override, all with safe defaults:
- `adapt(model, params, ctx)`: a documented parameter rule (e.g. shrink `k_neighbors` to the positives
  available); returns the parameters used and notes that the runner stores with the cell;
- `check(model, params, ctx)`: `(False, reason)` when it cannot apply → a `skipped` cell;
- `training_prior(fitted, params, y)`: the positive share the model effectively learned from, which
  post-hoc prior correction undoes (None: no such prior, e.g. focal loss).
A condition that only shows during `fit` (e.g. K-means SMOTE finds no usable cluster) raises
`NotApplicable`, which the runner also stores as `skipped` with its message, never as a fallback.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from imblearn.pipeline import Pipeline as ImbPipeline
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.pipeline import Pipeline

from imbench.foundation.families import FAMILIES
from imbench.strategies.models import ModelSpec
from imbench.strategies.preprocessing import (RoundCodes, categorical_positions, make_encoder, make_imputer, make_preprocessor,
                                      native_categoricals)
from imbench.foundation.names import Registry
from imbench.foundation.params import Param, Requires, check_names, defaults, resolve



@dataclass(frozen=True)
class TrainingContext:
    """What a strategy may know about the training fold (never the test fold)."""

    n_train: int
    n_pos: int
    numeric_columns: tuple[str, ...]
    categorical_columns: tuple[str, ...]

    @property
    def n_neg(self) -> int:
        return self.n_train - self.n_pos

    @property
    def prior(self) -> float:
        return self.n_pos / self.n_train if self.n_train else 0.0


class NotApplicable(Exception):
    """Raised during fit when a strategy finds it cannot apply to this training fold; stored as `skipped`."""


class Strategy:
    """Base class of every strategy; subclasses set the class attributes and override `build`."""

    name: ClassVar[str]
    family: ClassVar[str]
    description: ClassVar[str] = ""
    #: The parameters, declared once (name, type, default, allowed values, search distribution).
    parameters: ClassVar[tuple[Param, ...]] = ()
    #: Rules across parameters (e.g. a knob that needs a particular ratio).
    rules: ClassVar[tuple[Requires, ...]] = ()
    #: Models this strategy supports; None means every registered model.
    supported_models: ClassVar[tuple[str, ...] | None] = None
    #: The strategy puts its own estimator in place of (or around) the grid's model (balanced ensembles).
    replaces_model: ClassVar[bool] = False
    #: Whether the model learns at another class prior than the data's: True (resampling, weighting,
    #: balanced ensembles: prior correction can undo it), False (the data's own prior: nothing to undo)
    #: or None (the output is not a model at any known prior, e.g. focal loss: prior correction cannot apply).
    shifts_prior: ClassVar[bool | None] = False
    #: A deliberate mistake kept for demonstration: flagged in each cell's `extra`, left out of leaderboards.
    anti_pattern: ClassVar[bool] = False
    #: Fitted on rows chosen by `training_data` from the whole dataset. Only allowed for anti-patterns.
    uses_full_dataset: ClassVar[bool] = False
    #: How `training_prior` knows the prior a model trained at, recorded with each cell: "measured"
    #: (the rows a sampler left), "weights" (computed from the effective class weights) or "declared"
    #: (fixed by design, e.g. balanced ensembles). Strategies with `shifts_prior` False record "data",
    #: None "unknown".
    prior_rule: ClassVar[str] = "measured"

    @property
    def defaults(self) -> dict[str, Any]:
        """Each declared parameter's default."""
        return defaults(self.parameters)

    def resolve_params(self, params: dict[str, Any] | None) -> dict[str, Any]:
        """Defaults overlaid with `params`, checked against the declarations and in canonical form (a
        number takes its declared type, so one effective parameter set has one cell key); unknown names
        and values outside their rule are one-line InvalidParamsErrors."""
        return resolve(self.parameters, params, self.name, "strategy", self.rules)

    def check_names(self, names: Any) -> None:
        """InvalidParamsError naming the valid parameters for the first name this strategy does not declare."""
        check_names(self.parameters, names, f"strategy {self.name!r}")

    def adapt(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext
              ) -> tuple[dict[str, Any], list[str]]:
        """The parameters to use on this fold and a note per documented rule that changed one."""
        return dict(params), []

    def supports(self, model: ModelSpec, params: dict[str, Any]) -> tuple[bool, str]:
        """Whether this combination can exist at all, decided from the spec alone (models it supports,
        a knob the model lacks): a grid never enumerates one that cannot, and says how many it left out."""
        if self.supported_models is not None and model.name not in self.supported_models:
            return False, f"strategy {self.name!r} supports only models {list(self.supported_models)}"
        return True, ""

    def can_exist(self, model: ModelSpec, params: dict[str, Any]) -> tuple[bool, str]:
        """What a grid asks before enumerating a combination: a chance reference model (`prior`,
        `random`) takes strategy `none` only, whatever a strategy's own `supports` says; then `supports`."""
        if model.is_baseline and self.name != "none":
            return False, f"model {model.name!r} is a chance reference: it takes strategy 'none' only"
        return self.supports(model, params)

    def check(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext) -> tuple[bool, str]:
        """(True, "") when the strategy can run on this training fold, else (False, reason for the
        `skipped` row): data-dependent conditions such as too few positives."""
        return self.supports(model, params)

    def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        raise NotImplementedError

    def training_prior(self, fitted: BaseEstimator, params: dict[str, Any], y: np.ndarray) -> float | None:
        """Share of positives the fitted model learned from: what a sampler left (recorded by the
        pipeline's `ClassCounter`), else the data's own. Strategies that change it otherwise override."""
        counter = fitted_step(fitted, "counter")
        if isinstance(counter, ClassCounter):
            return counter.prior_
        return float(np.mean(np.asarray(y) == 1))

    def learned_prior(self, fitted: BaseEstimator, params: dict[str, Any], y: np.ndarray) -> tuple[float | None, str]:
        """(the prior the fitted model learned at, how that is known), recorded with the cell so prior
        correction and analysis never need this registry."""
        if self.shifts_prior is None:
            return None, "unknown"
        if self.shifts_prior is False:
            return float(np.mean(np.asarray(y) == 1)), "data"
        prior = self.training_prior(fitted, params, y)
        return (None, "unknown") if prior is None else (float(prior), self.prior_rule)

    def training_data(self, X: Any, y: np.ndarray, train: np.ndarray, params: dict[str, Any], seed: int
                      ) -> tuple[Any, np.ndarray]:
        """Only for `uses_full_dataset` anti-patterns: the rows to fit on, made from the whole dataset."""
        raise NotImplementedError


STRATEGIES: Registry[Strategy] = Registry("strategy")


def register_strategy(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: validate the declaration and register one instance under `cls.name`."""
    for attr in ("name", "family"):
        if not getattr(cls, attr, None):
            raise TypeError(f"strategy class {cls.__name__} must set `{attr}`")
    old = [name for name in ("defaults", "validate") if any(name in vars(k) for k in cls.__mro__[:-1]
                                                               if k is not Strategy)]
    if old:
        raise TypeError(f"strategy {cls.name!r} declares `{old[0]}`: declare its parameters as `parameters = "
                        "(Param(name, type, default, low=..., options=...), ...)` instead (docs/plugins.md)")
    if not all(isinstance(param, Param) for param in cls.parameters):
        raise TypeError(f"strategy {cls.name!r}: `parameters` must be a tuple of imbench.foundation.params.Param")
    if cls.family not in FAMILIES or cls.family == "posthoc":
        raise TypeError(f"strategy {cls.name!r}: family {cls.family!r} is not one of "
                        f"{[f for f in FAMILIES if f != 'posthoc']} "
                        "(post-hoc steps register with strategies.posthoc.register_posthoc)")
    if cls.uses_full_dataset and not cls.anti_pattern:
        raise TypeError(f"strategy {cls.name!r}: only an anti-pattern may use the full dataset (it sees test rows)")
    STRATEGIES.add(cls.name, cls())
    return cls


def get_strategy(name: str) -> Strategy:
    return STRATEGIES.get(name)


class ClassCounter(TransformerMixin, BaseEstimator):
    """Identity step after a sampler: records how many rows of each class the model is trained on,
    so prior correction and the stored cell know the prior the sampler really left."""

    def fit(self, X: Any, y: Any = None) -> "ClassCounter":
        y = np.asarray(y)
        self.n_samples_ = int(len(y))
        self.n_pos_ = int(np.sum(y == 1))
        self.prior_ = self.n_pos_ / self.n_samples_ if self.n_samples_ else 0.0
        return self

    def transform(self, X: Any) -> Any:
        return X


def fitted_step(estimator: Any, name: str) -> Any:
    """A named step of a (fitted) pipeline, or None."""
    steps = getattr(estimator, "named_steps", None)
    return steps.get(name) if steps is not None else None


def preprocessor_for(model: ModelSpec, ctx: TrainingContext, native: bool = False) -> BaseEstimator:
    return make_preprocessor(ctx.numeric_columns, ctx.categorical_columns, scale=model.scale_numeric,
                             native_categorical=native)


def model_pipeline(model: ModelSpec, ctx: TrainingContext, estimator: ClassifierMixin,
                   sampler: BaseEstimator | None = None, sampler_input: str = "encoded") -> BaseEstimator:
    """preprocess → (sampler → counter) → estimator; imblearn's Pipeline resamples during `fit` only.

    `sampler_input="imputed"` is for samplers that handle categories themselves (SMOTENC, SMOTEN): they
    get imputed columns with their names and categories, and one-hot encoding and scaling come after.
    """
    native = native_categoricals(model, ctx, estimator)  # codes + categorical positions (LightGBM, HistGB)
    if sampler is None:
        return Pipeline([("prep", preprocessor_for(model, ctx, native)), ("model", estimator)])
    if sampler_input == "encoded":
        codes = [("codes", RoundCodes(categorical_positions(ctx)))] if native else []  # interpolated codes → levels
        return ImbPipeline([("prep", preprocessor_for(model, ctx, native)), ("sampler", sampler),
                            ("counter", ClassCounter()), *codes, ("model", estimator)])
    if sampler_input == "imputed":
        num, cat = ctx.numeric_columns, ctx.categorical_columns
        return ImbPipeline([("impute", make_imputer(num, cat)), ("sampler", sampler), ("counter", ClassCounter()),
                            ("prep", make_encoder(num, cat, scale=model.scale_numeric, native_categorical=native)),
                            ("model", estimator)])
    raise ValueError(f"sampler_input must be 'encoded' or 'imputed', got {sampler_input!r}")
