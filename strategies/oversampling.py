"""Over-sampling (imbalanced-learn): add positives — duplicates or synthetic interpolations — to the
training fold only.

Where each sampler sits: after imputation, one-hot encoding and (for scale-sensitive models) scaling,
except SMOTENC and SMOTEN, which must see the categories themselves and so sit between imputation
and encoding (strategies/preprocessing.py). `smote` on a dataset with categorical columns therefore
interpolates one-hot columns (fractional categories); `smotenc` is the choice for mixed data and
skips, saying so, when a dataset has no categorical column (it would be plain SMOTE) or no numeric one
(use `smoten`). Parameter rules (`sampling_ratio`, `few_positives`): strategies/resampling.py.
"""
from __future__ import annotations

from typing import Any

from imblearn.over_sampling import (ADASYN, SMOTE, SMOTEN, SMOTENC, SVMSMOTE, BorderlineSMOTE, KMeansSMOTE,
                                    RandomOverSampler)
from sklearn.base import BaseEstimator

from imbench.foundation.params import Param
from imbench.strategies.base import TrainingContext, register_strategy
from imbench.strategies.models import ModelSpec
from imbench.strategies.resampling import FEW_POSITIVES_PARAM, NotApplicableOn, SamplerStrategy, neighbours, sampling_ratio


class GuardedSVMSMOTE(NotApplicableOn, SVMSMOTE):
    not_applicable_when = ("All support vectors are considered as noise",)


class GuardedKMeansSMOTE(NotApplicableOn, KMeansSMOTE):
    not_applicable_when = ("No clusters found with sufficient samples",)


class GuardedADASYN(NotApplicableOn, ADASYN):
    not_applicable_when = ("Not any neigbours belong to the majority", "Not any neighbours belong to the majority",
                           "No samples will be generated")


@register_strategy
class RandomOver(SamplerStrategy):
    name = "random-over"
    family = "oversampling"
    description = "duplicate random positives until minority/majority = sampling_ratio"
    parameters = (sampling_ratio(),)
    ratio_kind = "over"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return RandomOverSampler(sampling_strategy=params["sampling_ratio"], random_state=seed)


@register_strategy
class Smote(SamplerStrategy):
    name = "smote"
    family = "oversampling"
    description = "synthesise positives by interpolating k nearest positive neighbours (on encoded features)"
    parameters = (sampling_ratio(), neighbours(), FEW_POSITIVES_PARAM)
    sampler_name = "SMOTE"
    neighbour_params = ("k_neighbors",)
    ratio_kind = "over"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return SMOTE(sampling_strategy=params["sampling_ratio"], k_neighbors=params["k_neighbors"],
                     random_state=seed)


@register_strategy
class SmoteNC(SamplerStrategy):
    name = "smotenc"
    family = "oversampling"
    description = "SMOTE for mixed data: numeric columns interpolated, categories from the neighbours' majority"
    parameters = (sampling_ratio(), neighbours(), FEW_POSITIVES_PARAM)
    sampler_name = "SMOTENC"
    neighbour_params = ("k_neighbors",)
    ratio_kind = "over"
    sampler_input = "imputed"

    def check(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext) -> tuple[bool, str]:
        if not ctx.categorical_columns:
            return False, "no categorical columns: SMOTENC would be plain SMOTE here (use `smote`)"
        if not ctx.numeric_columns:
            return False, "every column is categorical: SMOTENC needs a numeric column (use `smoten`)"
        return super().check(model, params, ctx)

    def sampler_for(self, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        return SMOTENC(categorical_features=list(ctx.categorical_columns), sampling_strategy=params["sampling_ratio"],
                       k_neighbors=params["k_neighbors"], random_state=seed)


@register_strategy
class SmoteN(SamplerStrategy):
    name = "smoten"
    family = "oversampling"
    description = "SMOTE for all-categorical data: new positives take the neighbours' most frequent categories"
    parameters = (sampling_ratio(), neighbours(), FEW_POSITIVES_PARAM)
    sampler_name = "SMOTEN"
    neighbour_params = ("k_neighbors",)
    ratio_kind = "over"
    sampler_input = "imputed"

    def check(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext) -> tuple[bool, str]:
        if ctx.numeric_columns:
            return False, (f"SMOTEN treats every column as categorical; this dataset has {len(ctx.numeric_columns)} "
                           "numeric columns (use `smotenc`)")
        return super().check(model, params, ctx)

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return SMOTEN(sampling_strategy=params["sampling_ratio"], k_neighbors=params["k_neighbors"],
                      random_state=seed)


@register_strategy
class BorderlineSmote(SamplerStrategy):
    name = "borderline-smote"
    family = "oversampling"
    description = "SMOTE from positives near the class border (kind 1: towards positives, 2: also negatives)"
    parameters = (sampling_ratio(), neighbours(),
              neighbours("m_neighbors", 10, "neighbours (of both classes) that decide whether a positive is near the border"),
              Param("kind", int, 1, options=(1, 2), doc="1: interpolate towards positives; 2: towards negatives too"),
              FEW_POSITIVES_PARAM)
    sampler_name = "Borderline-SMOTE"
    neighbour_params = ("k_neighbors",)
    ratio_kind = "over"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return BorderlineSMOTE(sampling_strategy=params["sampling_ratio"], k_neighbors=params["k_neighbors"],
                               m_neighbors=params["m_neighbors"], kind=f"borderline-{params['kind']}",
                               random_state=seed)


@register_strategy
class SvmSmote(SamplerStrategy):
    name = "svm-smote"
    family = "oversampling"
    description = "SMOTE around the positive support vectors of an SVM (the estimated class border)"
    parameters = (sampling_ratio(), neighbours(),
              neighbours("m_neighbors", 10, "neighbours (of both classes) that decide whether a positive is in danger"),
              FEW_POSITIVES_PARAM)
    sampler_name = "SVM-SMOTE"
    neighbour_params = ("k_neighbors",)
    ratio_kind = "over"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return GuardedSVMSMOTE(sampling_strategy=params["sampling_ratio"], k_neighbors=params["k_neighbors"],
                               m_neighbors=params["m_neighbors"], random_state=seed)


@register_strategy
class KMeansSmote(SamplerStrategy):
    name = "kmeans-smote"
    family = "oversampling"
    description = "cluster with k-means, then SMOTE inside clusters where positives are dense enough"
    parameters = (sampling_ratio(), neighbours(default=2),
              Param("cluster_balance_threshold", float, "auto", low=0.0, also=("auto",),
                    doc="share of positives above which a cluster is over-sampled (auto: the data's)"),
              FEW_POSITIVES_PARAM)
    sampler_name = "KMeans-SMOTE"
    neighbour_params = ("k_neighbors",)
    ratio_kind = "over"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return GuardedKMeansSMOTE(sampling_strategy=params["sampling_ratio"], k_neighbors=params["k_neighbors"],
                                  cluster_balance_threshold=params["cluster_balance_threshold"], random_state=seed)


@register_strategy
class Adasyn(SamplerStrategy):
    name = "adasyn"
    family = "oversampling"
    description = "SMOTE weighted towards positives surrounded by negatives (hard to learn)"
    parameters = (sampling_ratio(), neighbours("n_neighbors", 5, "nearest neighbours that measure how hard a positive is"),
              FEW_POSITIVES_PARAM)
    sampler_name = "ADASYN"
    neighbour_params = ("n_neighbors",)
    ratio_kind = "over"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        return GuardedADASYN(sampling_strategy=params["sampling_ratio"], n_neighbors=params["n_neighbors"],
                             random_state=seed)
