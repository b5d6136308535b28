"""Under-sampling and cleaning (imbalanced-learn): remove negatives from the training fold only.

Controlled under-samplers (random, NearMiss, cluster centroids) take `sampling_ratio` (minority/majority
after resampling). Cleaning methods (Tomek links, ENN and its repeated/all-k variants, condensed NN,
one-sided selection, neighbourhood cleaning rule, instance hardness threshold) remove the negatives
they judge noisy or redundant, so the ratio they leave depends on the data; the pipeline's counter
records it with each fitted model (see `Strategy.training_prior`).
"""
from __future__ import annotations

from typing import Any

from imblearn.under_sampling import (AllKNN, ClusterCentroids, CondensedNearestNeighbour, EditedNearestNeighbours,
                                     InstanceHardnessThreshold, NearMiss, NeighbourhoodCleaningRule,
                                     OneSidedSelection, RandomUnderSampler, RepeatedEditedNearestNeighbours,
                                     TomekLinks)
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.ensemble import RandomForestClassifier

from imbench.foundation.params import Param
from imbench.strategies.base import TrainingContext, register_strategy
from imbench.strategies.models import ModelSpec
from imbench.strategies.resampling import FEW_POSITIVES_PARAM, SamplerStrategy, neighbours, sampling_ratio

KIND_SEL = ("all", "mode")


KIND_SEL_PARAM = Param("kind_sel", str, "all", options=KIND_SEL, doc="all: a negative is removed unless all its neighbours agree; mode: unless most do")
#: Neighbours among all training rows that judge a negative (cleaning methods).
CLEANING_NEIGHBOURS = neighbours("n_neighbors", 3, "nearest neighbours (of both classes) that judge a negative")


def _needs_rows(ctx: TrainingContext, n_neighbors: int, what: str) -> tuple[bool, str]:
    """Cleaning methods look at neighbours among all training rows."""
    if ctx.n_train <= n_neighbors:
        return False, f"{what} with n_neighbors={n_neighbors} needs more than {n_neighbors} training rows"
    return True, ""


@register_strategy
class RandomUnder(SamplerStrategy):
    name = "random-under"
    family = "undersampling"
    description = "drop random negatives until minority/majority = sampling_ratio"
    parameters = (sampling_ratio(),)
    ratio_kind = "under"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return RandomUnderSampler(sampling_strategy=params["sampling_ratio"], random_state=seed)


@register_strategy
class NearMissUnder(SamplerStrategy):
    name = "nearmiss"
    family = "undersampling"
    description = "keep the negatives nearest to positives (versions 1, 2, 3: three notions of nearest)"
    parameters = (sampling_ratio(), Param("version", int, 1, options=(1, 2, 3), doc="which negatives count as nearest (NearMiss-1, -2, -3)"),
              neighbours("n_neighbors", 3, "positives a negative's distance is averaged over"), FEW_POSITIVES_PARAM)
    sampler_name = "NearMiss"
    neighbour_params = ("n_neighbors",)
    neighbours_exclude_self = False
    ratio_kind = "under"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return NearMiss(sampling_strategy=params["sampling_ratio"], version=params["version"],
                        n_neighbors=params["n_neighbors"], n_neighbors_ver3=params["n_neighbors"])


@register_strategy
class TomekLinksCleaning(SamplerStrategy):
    name = "tomek-links"
    family = "undersampling"
    description = "remove negatives that form Tomek links (mutual nearest neighbours across classes)"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return TomekLinks()


@register_strategy
class EditedNN(SamplerStrategy):
    name = "enn"
    family = "undersampling"
    description = "edited nearest neighbours: remove negatives whose neighbours disagree with them"
    parameters = (CLEANING_NEIGHBOURS, KIND_SEL_PARAM)

    def check(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext) -> tuple[bool, str]:
        ok, reason = _needs_rows(ctx, params["n_neighbors"], "ENN")
        return (ok, reason) if not ok else super().check(model, params, ctx)

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return EditedNearestNeighbours(n_neighbors=params["n_neighbors"], kind_sel=params["kind_sel"])


@register_strategy
class RepeatedEditedNN(SamplerStrategy):
    name = "repeated-enn"
    family = "undersampling"
    description = "repeat ENN until nothing more is removed (or max_iter)"
    parameters = (CLEANING_NEIGHBOURS, Param("max_iter", int, 100, low=1, doc="ENN passes at most"), KIND_SEL_PARAM)

    def check(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext) -> tuple[bool, str]:
        ok, reason = _needs_rows(ctx, params["n_neighbors"], "repeated ENN")
        return (ok, reason) if not ok else super().check(model, params, ctx)

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return RepeatedEditedNearestNeighbours(n_neighbors=params["n_neighbors"], max_iter=params["max_iter"],
                                               kind_sel=params["kind_sel"])


@register_strategy
class AllKNNCleaning(SamplerStrategy):
    name = "all-knn"
    family = "undersampling"
    description = "ENN with 1, 2, …, n_neighbors neighbours in turn"
    parameters = (CLEANING_NEIGHBOURS, KIND_SEL_PARAM)

    def check(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext) -> tuple[bool, str]:
        ok, reason = _needs_rows(ctx, params["n_neighbors"], "AllKNN")
        return (ok, reason) if not ok else super().check(model, params, ctx)

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return AllKNN(n_neighbors=params["n_neighbors"], kind_sel=params["kind_sel"])


@register_strategy
class CondensedNN(SamplerStrategy):
    name = "condensed-nn"
    family = "undersampling"
    description = "condensed nearest neighbour: keep only the negatives a 1-NN rule needs (slow on large folds)"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return CondensedNearestNeighbour(random_state=seed)


@register_strategy
class OneSidedSelectionCleaning(SamplerStrategy):
    name = "one-sided-selection"
    family = "undersampling"
    description = "condensed NN followed by Tomek-link removal (Kubat & Matwin)"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return OneSidedSelection(random_state=seed)


@register_strategy
class NeighbourhoodCleaning(SamplerStrategy):
    name = "neighbourhood-cleaning"
    family = "undersampling"
    description = "neighbourhood cleaning rule: ENN plus removal of negatives that misclassify positives"
    parameters = (CLEANING_NEIGHBOURS, Param("threshold_cleaning", float, 0.5, low=0.0, high=1.0, low_open=True,
                                         doc="classes smaller than this share of the largest are cleaned too"))

    def check(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext) -> tuple[bool, str]:
        ok, reason = _needs_rows(ctx, params["n_neighbors"], "neighbourhood cleaning rule")
        return (ok, reason) if not ok else super().check(model, params, ctx)

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return NeighbourhoodCleaningRule(n_neighbors=params["n_neighbors"],
                                         threshold_cleaning=params["threshold_cleaning"])


@register_strategy
class InstanceHardness(SamplerStrategy):
    name = "instance-hardness"
    family = "undersampling"
    description = "drop the negatives a cross-validated random forest finds hardest to classify"
    parameters = (sampling_ratio(), Param("cv", int, 5, low=2, doc="folds of the random forest that scores hardness"))
    ratio_kind = "under"

    def check(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext) -> tuple[bool, str]:
        if ctx.n_pos < params["cv"]:
            return False, (f"instance hardness threshold with cv={params['cv']} needs at least {params['cv']} "
                           f"positives in the training fold, found {ctx.n_pos}")
        return super().check(model, params, ctx)

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        forest = RandomForestClassifier(n_estimators=100, n_jobs=1, random_state=seed)
        return InstanceHardnessThreshold(estimator=forest, sampling_strategy=params["sampling_ratio"],
                                         cv=params["cv"], random_state=seed)


@register_strategy
class ClusterCentroidsUnder(SamplerStrategy):
    name = "cluster-centroids"
    family = "undersampling"
    description = "replace the negatives by k-means centroids (voting 'hard': the nearest real negatives)"
    parameters = (sampling_ratio(), Param("voting", str, "auto", options=("auto", "hard", "soft"),
                                      doc="soft: centroids as new rows; hard: the nearest real negatives"))
    ratio_kind = "under"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return ClusterCentroids(sampling_strategy=params["sampling_ratio"], voting=params["voting"],
                                estimator=KMeans(n_init=1, random_state=seed), random_state=seed)
