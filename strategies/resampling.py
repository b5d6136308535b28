"""Random under/over-sampling and SMOTE, applied inside imblearn's Pipeline (training fold only)."""
from __future__ import annotations

from typing import Any

from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import BaseEstimator

from strategies.base import Strategy, TrainingContext, model_pipeline, register_strategy
from strategies.models import ModelSpec


class SamplerStrategy(Strategy):
    """A strategy that inserts one imblearn sampler between preprocessing and the model."""

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        raise NotImplementedError

    def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        return model_pipeline(model, ctx, model.make(seed), sampler=self.make_sampler(params, seed))


@register_strategy
class RandomUnder(SamplerStrategy):
    name = "random-under"
    family = "undersampling"
    description = "drop random negatives until minority/majority = sampling_ratio"
    defaults = {"sampling_ratio": 1.0}

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return RandomUnderSampler(sampling_strategy=params["sampling_ratio"], random_state=seed)


@register_strategy
class RandomOver(SamplerStrategy):
    name = "random-over"
    family = "oversampling"
    description = "duplicate random positives until minority/majority = sampling_ratio"
    defaults = {"sampling_ratio": 1.0}

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return RandomOverSampler(sampling_strategy=params["sampling_ratio"], random_state=seed)


@register_strategy
class Smote(SamplerStrategy):
    name = "smote"
    family = "oversampling"
    description = "synthesise positives by interpolating k nearest positive neighbours"
    defaults = {"sampling_ratio": 1.0, "k_neighbors": 5}

    def check(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext) -> tuple[bool, str]:
        k = int(params["k_neighbors"])
        if ctx.n_pos <= k:
            return False, (f"SMOTE with k_neighbors={k} needs at least {k + 1} positives in the training fold, "
                           f"found {ctx.n_pos}")
        return super().check(model, params, ctx)

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return SMOTE(sampling_strategy=params["sampling_ratio"], k_neighbors=int(params["k_neighbors"]),
                     random_state=seed)
