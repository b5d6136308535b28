"""Model registry: named factories of scikit-learn compatible classifiers and what they can do.

A model declares its capabilities (which weighting knob it has, whether it wants scaled inputs) so
that strategies can adapt to it instead of the runner special-casing model names. Every factory pins
one thread per fit: parallelism lives at the cell level (see benchmarks/execution.py).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from foundation.names import Registry

#: Capability names a model may declare.
#: `is_unbalance` is LightGBM's switch that weights positives by the training fold's n_neg/n_pos.
CAPABILITIES = ("class_weight", "sample_weight", "scale_pos_weight", "is_unbalance", "native_categorical")


@dataclass(frozen=True)
class ModelSpec:
    """A named classifier factory plus what strategies need to know about it."""

    name: str
    factory: Callable[[int], ClassifierMixin]
    capabilities: frozenset[str]
    weight_knob: str
    scale_numeric: bool
    description: str
    tags: dict[str, Any] = field(default_factory=dict)

    def make(self, seed: int) -> ClassifierMixin:
        """A fresh, unfitted estimator seeded for one cell."""
        return self.factory(seed)


MODELS: Registry[ModelSpec] = Registry("model")


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add a model to the registry (also usable from plugins)."""
    unknown = set(spec.capabilities) - set(CAPABILITIES)
    if unknown:
        raise ValueError(f"model {spec.name!r} declares unknown capabilities {sorted(unknown)}")
    if spec.weight_knob not in spec.capabilities:
        raise ValueError(f"model {spec.name!r}: weight_knob {spec.weight_knob!r} is not among its capabilities")
    return MODELS.add(spec.name, spec)


def get_model(name: str) -> ModelSpec:
    return MODELS.get(name)


def _logreg(seed: int) -> ClassifierMixin:
    return LogisticRegression(max_iter=2000, random_state=seed)


def _random_forest(seed: int) -> ClassifierMixin:
    return RandomForestClassifier(n_estimators=200, min_samples_leaf=1, n_jobs=1, random_state=seed)


def _hist_gb(seed: int) -> ClassifierMixin:
    return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=seed)


def _xgboost(seed: int) -> ClassifierMixin:
    from xgboost import XGBClassifier

    return XGBClassifier(n_estimators=200, learning_rate=0.1, max_depth=6, tree_method="hist",
                         n_jobs=1, random_state=seed, verbosity=0, eval_metric="logloss")


def _lightgbm(seed: int) -> ClassifierMixin:
    from lightgbm import LGBMClassifier

    # categorical_column: LightGBM's parameter for categorical column positions (set per dataset by
    # strategies.preprocessing.native_categoricals; declared here so wrappers expose it in get_params).
    return LGBMClassifier(n_estimators=200, learning_rate=0.05, num_leaves=31, n_jobs=1,
                          random_state=seed, verbose=-1, categorical_column=[])


register_model(ModelSpec(
    "logreg", _logreg, frozenset({"class_weight", "sample_weight"}), "class_weight", True,
    "L2 logistic regression (lbfgs) on imputed, scaled, one-hot inputs"))
register_model(ModelSpec(
    "random-forest", _random_forest, frozenset({"class_weight", "sample_weight"}), "class_weight", False,
    "random forest, 200 trees"))
register_model(ModelSpec(
    "hist-gb", _hist_gb, frozenset({"class_weight", "sample_weight", "native_categorical"}), "class_weight", False,
    "scikit-learn HistGradientBoosting, 200 iterations; native categorical splits",
    tags={"categorical_param": "categorical_features"}))
register_model(ModelSpec(
    "xgboost", _xgboost, frozenset({"scale_pos_weight", "sample_weight"}), "scale_pos_weight", False,
    "XGBoost hist, 200 rounds, depth 6"))
register_model(ModelSpec(
    "lightgbm", _lightgbm,
    frozenset({"scale_pos_weight", "is_unbalance", "class_weight", "sample_weight", "native_categorical"}),
    "scale_pos_weight", False, "LightGBM, 200 rounds, 31 leaves; native categorical splits",
    tags={"categorical_param": "categorical_column"}))
