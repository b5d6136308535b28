"""Misclassification costs: what each label costs per case when a missed positive costs `fn` and a
false alarm `fp` (`--costs fp=1,fn=20`), from stored predictions only.

Two numbers per fold, each a mean cost per test case, (fp · FP + fn · FN) / n:

- `cost@deployed`: at the threshold the label deploys — 0.5 for a model as it comes, the threshold a
  `threshold:` step chose on the training fold (e.g. `threshold:cost=R`, which minimises this very
  cost on the inner out-of-fold predictions), 0.5 on the probabilities a `calibrate:` step made;
- `cost@bayes`: at the cost-optimal threshold of calibrated probabilities, p ≥ fp / (fp + fn), applied
  to the label's probabilities. It is the best decision when they are calibrated (a `calibrate:` step,
  or a model that is); for a model that is not, the gap to the best threshold shows what its
  miscalibration costs.

Both join the results frame as metrics (lower is better), so boards rank by them (`--metric
cost@deployed`) and show them next to the headline metrics. The cost curve (`expected_cost` figure)
draws, per label, the normalised expected cost at the Bayes threshold over a range of cost ratios
fn/fp: the cost divided by that of the better trivial policy (flag nothing: π·fn, flag everything:
(1 − π)·fp), so 1 is "no better than not using a model" at that ratio.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from imbench.analysis.folds import StoredFolds
from imbench.foundation.metrics import bayes_threshold, expected_cost

COST_COLUMNS = ("cost@deployed", "cost@bayes")
#: Cost ratios fn/fp the cost curve spans (log-spaced), with the chosen one always added.
CURVE_RATIOS = tuple(float(r) for r in np.geomspace(0.5, 1000, 40))


@dataclass(frozen=True)
class Costs:
    """A false positive costs `fp`, a false negative `fn` (any unit, per case)."""

    fp: float
    fn: float

    @property
    def ratio(self) -> float:
        return self.fn / self.fp

    @property
    def threshold(self) -> float:
        return bayes_threshold(self.fp, self.fn)

    def describe(self) -> str:
        return f"fp={self.fp:g}, fn={self.fn:g}"


def deployed_threshold(posthoc_threshold: float | None) -> float:
    """What a label deploys: its post-hoc threshold, else 0.5 (as every stored @deployed metric)."""
    return 0.5 if posthoc_threshold is None or math.isnan(posthoc_threshold) else posthoc_threshold


def fold_costs(stored: StoredFolds, costs: Costs) -> pd.DataFrame:
    """One row per stored fold (cells and their post-hoc labels): key, label and COST_COLUMNS."""
    rows = []
    for fold in stored.folds:
        y, proba = fold.test.y, fold.test.proba
        rows.append({"key": fold.key, "label": fold.label, "dataset": fold.dataset, "model": fold.model,
                     "cost@deployed": expected_cost(y, proba, deployed_threshold(fold.posthoc_threshold),
                                                    costs.fp, costs.fn),
                     "cost@bayes": expected_cost(y, proba, costs.threshold, costs.fp, costs.fn)})
    return pd.DataFrame(rows, columns=["key", "label", "dataset", "model", *COST_COLUMNS])


def with_costs(results: pd.DataFrame, stored: StoredFolds, costs: Costs) -> pd.DataFrame:
    """The results frame with COST_COLUMNS as metrics (NaN where a row has no ok predictions)."""
    table = fold_costs(stored, costs)[["key", "label", *COST_COLUMNS]]
    return results.drop(columns=[c for c in COST_COLUMNS if c in results], errors="ignore").merge(
        table, on=["key", "label"], how="left")


def cost_curve(stored: StoredFolds, ratios: tuple[float, ...] = CURVE_RATIOS) -> pd.DataFrame:
    """Per (model, label, ratio): mean over datasets (folds first) of the normalised expected cost at
    the Bayes threshold 1/(1 + ratio), with fp = 1 and fn = ratio (see the module docstring)."""
    ratios_arr = np.asarray(sorted(set(ratios)), dtype=float)
    thresholds = 1.0 / (1.0 + ratios_arr)
    rows = []
    for fold in stored.folds:
        y, proba = fold.test.y, fold.test.proba  # sorted by probability, ascending
        n, positives = y.size, y == 1
        # rows with proba ≥ t are flagged: count from the top with one search per threshold
        first = np.searchsorted(proba, thresholds, side="left")
        neg_above = np.r_[np.cumsum((~positives)[::-1])[::-1], 0]
        pos_below = np.r_[0, np.cumsum(positives)]
        fp, fn = neg_above[first], pos_below[first]
        prevalence = positives.mean()
        trivial = np.minimum(prevalence * ratios_arr, 1 - prevalence)
        cost = (fp + ratios_arr * fn) / n
        rows.append(pd.DataFrame({"model": fold.model, "label": fold.label, "dataset": fold.dataset,
                                  "ratio": ratios_arr, "normalised_cost": cost / np.where(trivial > 0, trivial, np.nan)}))
    if not rows:
        return pd.DataFrame(columns=["model", "label", "ratio", "normalised_cost"])
    frame = pd.concat(rows, ignore_index=True)
    per_dataset = frame.groupby(["model", "label", "ratio", "dataset"])["normalised_cost"].mean()
    return per_dataset.groupby(level=["model", "label", "ratio"]).mean().reset_index()
