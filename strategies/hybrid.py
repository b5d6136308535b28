"""Hybrid resampling (imbalanced-learn): SMOTE over-sampling followed by cleaning, training fold only.

`sampling_ratio` and `k_neighbors` are SMOTE's; the cleaning step (ENN or Tomek links) then removes
rows of either class, so the final ratio depends on the data and is recorded by the pipeline's counter.
"""
from __future__ import annotations

from typing import Any

from imblearn.combine import SMOTEENN, SMOTETomek
from imblearn.over_sampling import SMOTE
from imblearn.under_sampling import EditedNearestNeighbours, TomekLinks
from sklearn.base import BaseEstimator

from imbench.strategies.base import register_strategy
from imbench.strategies.resampling import FEW_POSITIVES_PARAM, SamplerStrategy, neighbours, sampling_ratio


@register_strategy
class SmoteENN(SamplerStrategy):
    name = "smote-enn"
    family = "hybrid"
    description = "SMOTE, then edited nearest neighbours removes rows whose neighbours disagree"
    parameters = (sampling_ratio(), neighbours(), neighbours("enn_neighbors", 3, "neighbours ENN judges each row by"),
              FEW_POSITIVES_PARAM)
    sampler_name = "SMOTE+ENN"
    neighbour_params = ("k_neighbors",)
    ratio_kind = "over"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        smote = SMOTE(sampling_strategy=params["sampling_ratio"], k_neighbors=params["k_neighbors"], random_state=seed)
        return SMOTEENN(smote=smote, enn=EditedNearestNeighbours(n_neighbors=params["enn_neighbors"],
                                                                 sampling_strategy="all"), random_state=seed)


@register_strategy
class SmoteTomek(SamplerStrategy):
    name = "smote-tomek"
    family = "hybrid"
    description = "SMOTE, then remove Tomek links (cross-class nearest-neighbour pairs)"
    parameters = (sampling_ratio(), neighbours(), FEW_POSITIVES_PARAM)
    sampler_name = "SMOTE+Tomek"
    neighbour_params = ("k_neighbors",)
    ratio_kind = "over"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        smote = SMOTE(sampling_strategy=params["sampling_ratio"], k_neighbors=params["k_neighbors"], random_state=seed)
        return SMOTETomek(smote=smote, tomek=TomekLinks(sampling_strategy="all"), random_state=seed)
