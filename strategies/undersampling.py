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

from imbench.strategies.base import InvalidParamsError, TrainingContext, register_strategy
from imbench.strategies.models import ModelSpec
from imbench.strategies.resampling import SamplerStrategy

KIND_SEL = ("all", "mode")


def _check_kind_sel(name: str, params: dict[str, Any]) -> None:
    if params["kind_sel"] not in KIND_SEL:
        raise InvalidParamsError(f"{name}: kind_sel must be 'all' or 'mode', got {params['kind_sel']!r}")


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
    defaults = {"sampling_ratio": 1.0}
    ratio_kind = "under"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return RandomUnderSampler(sampling_strategy=params["sampling_ratio"], random_state=seed)


@register_strategy
class NearMissUnder(SamplerStrategy):
    name = "nearmiss"
    family = "undersampling"
    description = "keep the negatives nearest to positives (versions 1, 2, 3: three notions of nearest)"
    defaults = {"sampling_ratio": 1.0, "version": 1, "n_neighbors": 3, "few_positives": "skip"}
    sampler_name = "NearMiss"
    neighbour_params = ("n_neighbors",)
    neighbours_exclude_self = False
    ratio_kind = "under"

    def validate(self, params: dict[str, Any]) -> None:
        super().validate(params)
        if params["version"] not in (1, 2, 3):
            raise InvalidParamsError(f"nearmiss: version must be 1, 2 or 3, got {params['version']!r}")

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
    defaults = {"n_neighbors": 3, "kind_sel": "all"}

    def validate(self, params: dict[str, Any]) -> None:
        super().validate(params)
        _check_kind_sel(self.name, params)

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
    defaults = {"n_neighbors": 3, "max_iter": 100, "kind_sel": "all"}

    def validate(self, params: dict[str, Any]) -> None:
        super().validate(params)
        _check_kind_sel(self.name, params)

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
    defaults = {"n_neighbors": 3, "kind_sel": "all"}

    def validate(self, params: dict[str, Any]) -> None:
        super().validate(params)
        _check_kind_sel(self.name, params)

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
    defaults = {"n_neighbors": 3, "threshold_cleaning": 0.5}

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
    defaults = {"sampling_ratio": 1.0, "cv": 5}
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
    defaults = {"sampling_ratio": 1.0, "voting": "auto"}
    ratio_kind = "under"

    def validate(self, params: dict[str, Any]) -> None:
        super().validate(params)
        if params["voting"] not in ("auto", "hard", "soft"):
            raise InvalidParamsError(f"cluster-centroids: voting must be auto, hard or soft, got {params['voting']!r}")

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return ClusterCentroids(sampling_strategy=params["sampling_ratio"], voting=params["voting"],
                                estimator=KMeans(n_init=1, random_state=seed), random_state=seed)
