"""Model registry: named factories of scikit-learn compatible classifiers and what they can do.

A model declares its capabilities (which weighting knob it has, whether it wants scaled inputs) so
that strategies can adapt to it instead of the runner special-casing model names. Every factory pins
one thread per fit: parallelism lives at the cell level (see benchmarks/execution/backends.py).

A model may declare options a grid can set (`{name = "lightgbm", small_sets = "scale"}`), declared once
as parameters (foundation/params.py: type, default, allowed values). The built-in one is an explicit, opt-in rule for tiny
training sets: LightGBM and HistGradientBoosting refuse to split nodes below 20 rows
(`min_child_samples`, `min_samples_leaf`), so on a balanced under-sampled fold of 35 rows they predict
a constant. `small_sets = "scale"` lowers that minimum to one row per 20 training rows (at least 1,
at most the default) for the rows the model is really fitted on, after resampling; each fit records
the value it used (`min_leaf_rule_`), and the cell keeps it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from lightgbm import LGBMClassifier
from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from imbench.foundation.names import Registry, caller_module
from imbench.foundation.params import Param, resolve

#: Capability names a model may declare.
#: `is_unbalance` is LightGBM's switch that weights positives by the training fold's n_neg/n_pos.
CAPABILITIES = ("class_weight", "sample_weight", "scale_pos_weight", "is_unbalance", "native_categorical")
#: Family of chance reference models (foundation.families): strategy `none` only, never ranked.
BASELINE_FAMILY = "baseline"


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
    #: Options a grid may set, declared once (name, type, default, allowed values).
    parameters: tuple[Param, ...] = ()
    #: The options this spec makes its estimators with (the defaults unless `with_options` chose others).
    chosen: dict[str, Any] = field(default_factory=dict)
    #: "baseline" for a chance reference (`prior`, `random`): it takes strategy `none` only, and its cells
    #: are stored with family "baseline", so analysis shows them as reference rows, never ranked.
    family: str | None = None

    @property
    def is_baseline(self) -> bool:
        return self.family == BASELINE_FAMILY

    def make(self, seed: int) -> ClassifierMixin:
        """A fresh, unfitted estimator seeded for one cell (with the chosen options)."""
        return self.factory(seed, **self.chosen) if self.chosen else self.factory(seed)

    def resolve_options(self, given: dict[str, Any]) -> dict[str, Any]:
        """Every option checked against its declaration, defaults filled; an unknown option or a value
        outside its rule is a one-line InvalidParamsError."""
        return resolve(self.parameters, given, self.name, "model")

    def with_options(self, options: dict[str, Any]) -> "ModelSpec":
        """This model making its estimators with `options` (checked, defaults filled)."""
        return replace(self, chosen=self.resolve_options(options))


MODELS: Registry[ModelSpec] = Registry("model")


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add a model to the registry (also usable from plugins)."""
    unknown = set(spec.capabilities) - set(CAPABILITIES)
    if unknown:
        raise ValueError(f"model {spec.name!r} declares unknown capabilities {sorted(unknown)}")
    if spec.family not in (None, BASELINE_FAMILY):
        raise ValueError(f"model {spec.name!r}: family must be None or {BASELINE_FAMILY!r}, got {spec.family!r}")
    if spec.weight_knob not in spec.capabilities and not spec.is_baseline:
        raise ValueError(f"model {spec.name!r}: weight_knob {spec.weight_knob!r} is not among its capabilities")
    return MODELS.add(spec.name, spec, caller_module())


def get_model(name: str) -> ModelSpec:
    return MODELS.get(name)


def _logreg(seed: int) -> ClassifierMixin:
    return LogisticRegression(max_iter=2000, random_state=seed)


def _random_forest(seed: int) -> ClassifierMixin:
    return RandomForestClassifier(n_estimators=200, min_samples_leaf=1, n_jobs=1, random_state=seed)


ROWS_PER_LEAF = 20


def _scaled_leaf(default: int, n_rows: int) -> int:
    return int(np.clip(n_rows // ROWS_PER_LEAF, 1, default))


class ScaledLeafLGBMClassifier(LGBMClassifier):
    """LightGBM whose minimum leaf size (`min_child_samples`) scales with the rows it is fitted on
    (`small_sets = "scale"`). Same parameters as LGBMClassifier, so clones and weighting knobs work."""

    def fit(self, X: Any, y: Any, **kwargs: Any) -> "ScaledLeafLGBMClassifier":
        default = self.min_child_samples
        used = _scaled_leaf(default, len(y))
        self.min_leaf_rule_ = f"min_child_samples {default} → {used} for {len(y)} training rows"
        self.set_params(min_child_samples=used)
        try:
            return super().fit(X, y, **kwargs)
        finally:
            self.set_params(min_child_samples=default)  # the declared parameters stay as built


class ScaledLeafHistGradientBoostingClassifier(HistGradientBoostingClassifier):
    """HistGradientBoosting whose `min_samples_leaf` scales with the rows it is fitted on."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "ScaledLeafHistGradientBoostingClassifier":
        default = self.min_samples_leaf
        used = _scaled_leaf(default, len(y))
        self.min_leaf_rule_ = f"min_samples_leaf {default} → {used} for {len(y)} training rows"
        self.set_params(min_samples_leaf=used)
        try:
            return super().fit(X, y, sample_weight=sample_weight)
        finally:
            self.set_params(min_samples_leaf=default)


SMALL_SETS = ("keep", "scale")
SMALL_SETS_PARAM = Param("small_sets", str, "keep", options=SMALL_SETS,
                         doc="scale: minimum leaf size one row per 20 training rows (tiny resampled folds)")


def _hist_gb(seed: int, small_sets: str = "keep") -> ClassifierMixin:
    cls = ScaledLeafHistGradientBoostingClassifier if small_sets == "scale" else HistGradientBoostingClassifier
    return cls(max_iter=200, learning_rate=0.1, random_state=seed)


def _xgboost(seed: int) -> ClassifierMixin:
    from xgboost import XGBClassifier

    return XGBClassifier(n_estimators=200, learning_rate=0.1, max_depth=6, tree_method="hist",
                         n_jobs=1, random_state=seed, verbosity=0, eval_metric="logloss")


def _lightgbm(seed: int, small_sets: str = "keep") -> ClassifierMixin:
    cls = ScaledLeafLGBMClassifier if small_sets == "scale" else LGBMClassifier
    # categorical_column: LightGBM's parameter for categorical column positions (set per dataset by
    # strategies.preprocessing.native_categoricals; declared here so wrappers expose it in get_params).
    return cls(n_estimators=200, learning_rate=0.05, num_leaves=31, n_jobs=1,
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
    tags={"categorical_param": "categorical_features"}, parameters=(SMALL_SETS_PARAM,)))
register_model(ModelSpec(
    "xgboost", _xgboost, frozenset({"scale_pos_weight", "sample_weight"}), "scale_pos_weight", False,
    "XGBoost hist, 200 rounds, depth 6"))
register_model(ModelSpec(
    "lightgbm", _lightgbm,
    frozenset({"scale_pos_weight", "is_unbalance", "class_weight", "sample_weight", "native_categorical"}),
    "scale_pos_weight", False, "LightGBM, 200 rounds, 31 leaves; native categorical splits",
    tags={"categorical_param": "categorical_column"}, parameters=(SMALL_SETS_PARAM,)))
