"""Balanced ensembles (imbalanced-learn): the strategy replaces the model by an ensemble whose members
each learn from a balanced sample of the training fold (declared with `replaces_model = True`).

- `balanced-random-forest` replaces the random forest (so it supports that model only): each tree is
  grown on a balanced bootstrap (Chen, Liaw & Breiman 2004).
- `rusboost` replaces the boosted-trees model `hist-gb` (and supports only it, so it runs once per
  fold rather than once per model): AdaBoost over shallow decision trees with random under-sampling
  before every round (Seiffert et al. 2010). Boosting needs weak learners, which the grid's models are not.
- `balanced-bagging` and `easy-ensemble` are built around the grid's model: bagging of the model on
  balanced bootstraps, and on balanced subsets drawn without replacement (EasyEnsemble, here with the
  grid's model as member instead of AdaBoost, so `logreg × easy-ensemble` is an ensemble of logistic
  regressions).
All run with one thread (parallelism lives at the cell level) and the preprocessing of the model.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from imblearn.ensemble import (BalancedBaggingClassifier, BalancedRandomForestClassifier, EasyEnsembleClassifier,
                               RUSBoostClassifier)
from sklearn.base import BaseEstimator
from sklearn.tree import DecisionTreeClassifier

from imbench.foundation.params import IntUniform, Param
from imbench.strategies.base import Strategy, TrainingContext, model_pipeline, register_strategy
from imbench.strategies.models import ModelSpec


class BalancedEnsemble(Strategy):
    """Shared declaration: an ensemble in place of the model, each member on a balanced sample."""

    family = "ensemble"
    replaces_model = True
    shifts_prior = True
    prior_rule = "declared"
    parameters = (Param("n_estimators", int, 10, low=1, search=IntUniform(5, 50, log=True), doc="members of the ensemble"),)

    def training_prior(self, fitted: BaseEstimator, params: dict[str, Any], y: np.ndarray) -> float | None:
        """Every member learns from as many positives as negatives."""
        return 0.5


@register_strategy
class BalancedRandomForest(BalancedEnsemble):
    name = "balanced-random-forest"
    description = "random forest whose trees each grow on a balanced bootstrap (replaces random-forest)"
    parameters = (Param("n_estimators", int, 200, low=1, search=IntUniform(50, 500, log=True), doc="trees"),)
    supported_models = ("random-forest",)

    def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        forest = BalancedRandomForestClassifier(n_estimators=params["n_estimators"], sampling_strategy="all",
                                                replacement=True, bootstrap=False, n_jobs=1, random_state=seed)
        return model_pipeline(model, ctx, forest)


@register_strategy
class BalancedBagging(BalancedEnsemble):
    name = "balanced-bagging"
    description = "bag of the model, each copy trained on a bootstrap under-sampled to balance"
    #: Each bag under-samples a bootstrap of the fold, which must hold a positive: with n_pos positives a
    #: bag lacks one with probability ≈ e^(−n_pos), so fewer than this is a skipped cell, not a lottery.
    MIN_POSITIVES = 10

    def check(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext) -> tuple[bool, str]:
        if ctx.n_pos < self.MIN_POSITIVES:
            return False, (f"balanced-bagging draws bootstraps that must each contain a positive: needs at least "
                           f"{self.MIN_POSITIVES} positives in the training fold, found {ctx.n_pos}")
        return super().check(model, params, ctx)

    def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        bagging = BalancedBaggingClassifier(estimator=model.make(seed), n_estimators=params["n_estimators"],
                                            n_jobs=1, random_state=seed)
        return model_pipeline(model, ctx, bagging)


@register_strategy
class EasyEnsemble(BalancedEnsemble):
    name = "easy-ensemble"
    description = "EasyEnsemble: copies of the model on balanced subsets (all positives, random negatives)"

    def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        easy = EasyEnsembleClassifier(estimator=model.make(seed), n_estimators=params["n_estimators"], n_jobs=1,
                                      random_state=seed)
        return model_pipeline(model, ctx, easy)


@register_strategy
class RUSBoost(BalancedEnsemble):
    name = "rusboost"
    description = "AdaBoost over shallow trees, randomly under-sampling before every round (in place of hist-gb)"
    parameters = (Param("n_estimators", int, 50, low=1, search=IntUniform(10, 200, log=True), doc="boosting rounds"),
              Param("max_depth", int, 3, low=1, search=IntUniform(1, 6), doc="depth of each tree"))
    supported_models = ("hist-gb",)
    #: Boosting reweights rows round by round: the output is not a model at a known prior.
    shifts_prior = None

    def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        tree = DecisionTreeClassifier(max_depth=params["max_depth"], random_state=seed)
        boost = RUSBoostClassifier(estimator=tree, n_estimators=params["n_estimators"], random_state=seed)
        return model_pipeline(model, ctx, boost)

    def training_prior(self, fitted: BaseEstimator, params: dict[str, Any], y: np.ndarray) -> float | None:
        return None
