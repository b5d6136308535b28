"""The strategy contract: how training is changed, for any registered model.

A strategy declares its family, its parameters with defaults, when it cannot apply, and builds the
training pipeline for one cell. Everything it builds is fitted on the training fold only, because the
runner calls `fit` on the training rows and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from imblearn.pipeline import Pipeline as ImbPipeline
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline

from strategies.models import ModelSpec
from strategies.preprocessing import make_preprocessor
from strategies.registry import Registry, unknown_name_message

FAMILIES = ("none", "weighting", "undersampling", "oversampling", "hybrid", "ensemble", "loss", "posthoc")


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


class InvalidParamsError(ValueError):
    """Parameters a strategy does not declare, or of the wrong kind."""


class Strategy:
    """Base class of every strategy; subclasses set the class attributes and override `build`."""

    name: ClassVar[str]
    family: ClassVar[str]
    description: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    #: Models this strategy supports; None means every registered model.
    supported_models: ClassVar[tuple[str, ...] | None] = None

    def resolve_params(self, params: dict[str, Any] | None) -> dict[str, Any]:
        """Defaults overlaid with `params`; unknown names are an error naming the valid ones."""
        params = dict(params or {})
        for key in params:
            if key not in self.defaults:
                raise InvalidParamsError(
                    unknown_name_message(f"parameter of strategy {self.name!r}", key, sorted(self.defaults))
                    if self.defaults else f"strategy {self.name!r} takes no parameters (got {key!r})")
        return {**self.defaults, **params}

    def check(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext) -> tuple[bool, str]:
        """(True, "") when the strategy can run this cell, else (False, reason for the `skipped` row)."""
        if self.supported_models is not None and model.name not in self.supported_models:
            return False, f"strategy {self.name!r} supports only models {list(self.supported_models)}"
        return True, ""

    def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        raise NotImplementedError


STRATEGIES: Registry[Strategy] = Registry("strategy")


def register_strategy(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: validate the declaration and register one instance under `cls.name`."""
    for attr in ("name", "family"):
        if not getattr(cls, attr, None):
            raise TypeError(f"strategy class {cls.__name__} must set `{attr}`")
    if cls.family not in FAMILIES:
        raise TypeError(f"strategy {cls.name!r}: family {cls.family!r} is not one of {FAMILIES}")
    STRATEGIES.add(cls.name, cls())
    return cls


def get_strategy(name: str) -> Strategy:
    return STRATEGIES.get(name)


def preprocessor_for(model: ModelSpec, ctx: TrainingContext) -> BaseEstimator:
    return make_preprocessor(ctx.numeric_columns, ctx.categorical_columns, scale=model.scale_numeric)


def model_pipeline(model: ModelSpec, ctx: TrainingContext, estimator: ClassifierMixin,
                   sampler: BaseEstimator | None = None) -> BaseEstimator:
    """preprocess → (sampler) → estimator; imblearn's Pipeline resamples during `fit` only."""
    steps: list[tuple[str, Any]] = [("prep", preprocessor_for(model, ctx))]
    if sampler is None:
        return Pipeline([*steps, ("model", estimator)])
    return ImbPipeline([*steps, ("sampler", sampler), ("model", estimator)])
