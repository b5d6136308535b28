"""Shared machinery of the sampler strategies (over-, under-sampling, cleaning, hybrids).

A sampler strategy inserts one imbalanced-learn sampler between preprocessing and the model inside
imblearn's Pipeline, which resamples during `fit` only: the test fold is never resampled and no
test row ever reaches a sampler (tests/test_leakage.py).

Parameter rules shared by the family:
- `sampling_ratio` is imbalanced-learn's float `sampling_strategy`: minority/majority after resampling.
  A training fold that is already at or past it gives a skipped cell (nothing to resample), never a
  silent no-op.
- Neighbour counts among the positives (`k_neighbors`, NearMiss `n_neighbors`, ...) need at least
  k + 1 positives in the training fold. With `few_positives = "skip"` (default) a smaller fold is a
  skipped cell; with `few_positives = "shrink"` the documented rule k → n_pos − 1 applies (k → n_pos for
  samplers whose search does not count the positive itself, e.g. NearMiss; skipped if below 1) and
  the cell records the change in `extra["adapted"]` and `extra["effective_params"]`.
"""
from __future__ import annotations

from typing import Any, ClassVar

from sklearn.base import BaseEstimator

from imbench.foundation.params import IntUniform, Param, Uniform
from imbench.strategies.base import NotApplicable, Strategy, TrainingContext, model_pipeline
from imbench.strategies.models import ModelSpec

FEW_POSITIVES = ("skip", "shrink")


def sampling_ratio(default: float = 1.0) -> Param:
    """imbalanced-learn's float `sampling_strategy`: minority/majority after resampling."""
    return Param("sampling_ratio", float, default, low=0.0, high=1.0, low_open=True, search=Uniform(0.1, 1.0),
                 doc="minority/majority after resampling")


def neighbours(name: str = "k_neighbors", default: int = 5, doc: str = "nearest positive neighbours") -> Param:
    """A neighbour count (needs that many positives, plus one when the search counts the row itself)."""
    return Param(name, int, default, low=1, search=IntUniform(1, 15), doc=doc)


#: A fold with fewer positives than a neighbour count needs: a skipped cell, or the count shrunk.
FEW_POSITIVES_PARAM = Param("few_positives", str, "skip", options=FEW_POSITIVES,
                            doc="too few positives for the neighbours: skip the cell, or shrink k to n_pos − 1")


class SamplerStrategy(Strategy):
    """A strategy that inserts one imblearn sampler between preprocessing and the model."""

    shifts_prior = True
    #: Display name used in skip reasons (defaults to the strategy name).
    sampler_name: ClassVar[str] = ""
    #: Parameters that count neighbours among the training fold's positives.
    neighbour_params: ClassVar[tuple[str, ...]] = ()
    #: Each positive is its own nearest neighbour in the search (SMOTE family): k + 1 positives needed.
    neighbours_exclude_self: ClassVar[bool] = True
    #: How `sampling_ratio` works: "over" adds positives, "under" removes negatives, None: not a parameter.
    ratio_kind: ClassVar[str | None] = None
    #: "encoded": after imputation + one-hot + scaling; "imputed": imputed categories (SMOTENC, SMOTEN).
    sampler_input: ClassVar[str] = "encoded"

    def make_sampler(self, params: dict[str, Any], seed: int) -> BaseEstimator:
        raise NotImplementedError

    def sampler_for(self, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        """The sampler for this fold (override when it needs the column layout, e.g. SMOTENC)."""
        return self.make_sampler(params, seed)

    def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        return model_pipeline(model, ctx, model.make(seed), sampler=self.sampler_for(params, ctx, seed),
                              sampler_input=self.sampler_input)

    def adapt(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext
              ) -> tuple[dict[str, Any], list[str]]:
        params, notes = dict(params), []
        if params.get("few_positives") != "shrink":
            return params, notes
        own = int(self.neighbours_exclude_self)
        for key in self.neighbour_params:
            largest = ctx.n_pos - own
            if params[key] > largest >= 1:
                rule = "k = n_pos − 1" if own else "k = n_pos"
                notes.append(f"{key} {params[key]} → {largest}: only {ctx.n_pos} positives in the training "
                             f"fold (rule few_positives = shrink: {rule})")
                params[key] = largest
        return params, notes

    def check(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext) -> tuple[bool, str]:
        shown = self.sampler_name or self.name
        own = int(self.neighbours_exclude_self)
        for key in self.neighbour_params:
            k = params[key]
            if ctx.n_pos < k + own:
                can_shrink = "few_positives" in params and ctx.n_pos - own >= 1
                hint = " (few_positives = \"shrink\" would use the positives available)" if can_shrink else ""
                return False, (f"{shown} with {key}={k} needs at least {k + own} positives in the training fold, "
                               f"found {ctx.n_pos}{hint}")
        ratio = params.get("sampling_ratio")
        if self.ratio_kind is not None and ratio is not None and ctx.n_neg and ctx.n_pos / ctx.n_neg > ratio:
            action = "over-sample" if self.ratio_kind == "over" else "under-sample"
            return False, (f"the training fold already has minority/majority = {ctx.n_pos / ctx.n_neg:.3g} > "
                           f"sampling_ratio {ratio:g}: nothing to {action}")
        return super().check(model, params, ctx)


class NotApplicableOn:
    """Mixin for an imblearn sampler: the data-dependent failures it documents (message fragments in
    `not_applicable_when`) become `NotApplicable`, so the cell is stored as skipped with that reason
    instead of as an error that every later run would retry."""

    not_applicable_when: ClassVar[tuple[str, ...]] = ()

    def _fit_resample(self, X: Any, y: Any, **params: Any) -> Any:
        try:
            return super()._fit_resample(X, y, **params)  # type: ignore[misc]
        except (RuntimeError, ValueError) as exc:
            if any(fragment in str(exc) for fragment in self.not_applicable_when):
                base = next(c.__name__ for c in type(self).__mro__[1:] if c is not NotApplicableOn)
                raise NotApplicable(f"{base}: {str(exc).strip()}") from exc
            raise
