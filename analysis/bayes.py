"""The Bayesian signed-rank test with a region of practical equivalence (ROPE), per label against
its baseline: P(better), P(equivalent), P(worse).

A p-value says whether a difference is distinguishable from zero, not whether it matters. Benavoli
et al. (2014, 2017) replace it with the posterior of the Bayesian signed-rank test (a Dirichlet
process over the paired differences, one per dataset): the probability that the label is better by
more than the ROPE, within it (practically equivalent), or worse by more than it. The test itself is
`baycomp.SignedRankTest` (prior strength 0.5 at a difference of 0, as its authors recommend); it is
sampled with a fixed seed and sample count, so a board gives the same numbers on every run.

The ROPE is in the metric's own units: 0.01 for AP-like metrics (AP, ROC AUC, operating points,
F1, MCC, balanced accuracy, precision, recall — a point of AP), smaller for probability metrics whose
typical values are small (ECE, Brier: 0.005), 0.05 for the calibration intercept and slope;
`--rope` sets one width for the board's metric. Metrics are oriented first (`oriented`: lower-is-
better negated, targets as minus the distance to the ideal), so "better" always means better.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.statistics import oriented

#: Columns `bayes_columns` adds to a board's table.
BAYES_COLUMNS = ("rope", "p_better", "p_equivalent", "p_worse")
#: Posterior samples: Monte-Carlo error of a probability ≈ 0.005 at most; about 0.2 s per comparison.
N_SAMPLES = 10_000
#: Fewest paired datasets for the test (with one, the posterior is mostly the prior).
MIN_PAIRS = 2
DEFAULT_ROPE = 0.01
ROPES = {"ece": 0.005, "brier": 0.005, "log_loss": 0.01, "calibration_intercept": 0.05, "calibration_slope": 0.05}


class RopeError(ValueError):
    """A ROPE width that is not a non-negative number."""


def default_rope(metric: str) -> float:
    """The ROPE width of `metric` in its own units (see the module docstring)."""
    return ROPES.get(metric, DEFAULT_ROPE)


def rope_for(metric: str, rope: float | None) -> float:
    """`rope` when given (checked), else the metric's default."""
    if rope is None:
        return default_rope(metric)
    if not (isinstance(rope, (int, float)) and math.isfinite(rope) and rope >= 0):
        raise RopeError(f"--rope must be a non-negative number in the metric's units, got {rope!r}")
    return float(rope)


@dataclass(frozen=True)
class BayesComparison:
    """Posterior probabilities that a label is better than, equivalent to or worse than its baseline."""

    p_better: float
    p_equivalent: float
    p_worse: float
    n_paired: int
    rope: float
    reason: str = ""


def bayes_signed_rank(values: pd.Series, baseline: pd.Series, metric: str, rope: float, seed: int = 0,
                      n_samples: int = N_SAMPLES) -> BayesComparison:
    """The Bayesian signed-rank test of `values` against `baseline` (both indexed by dataset; pairs
    where either is NaN are left out), on the oriented metric, with a ROPE of `rope` (0: no ROPE,
    P(equivalent) is 0)."""
    from baycomp import SignedRankTest  # imported here: boards without tests never need it

    values, baseline = values.align(baseline)
    mine, base = oriented(values, metric), oriented(baseline, metric)
    both = mine.notna() & base.notna()
    n = int(both.sum())
    if n < MIN_PAIRS:
        return BayesComparison(math.nan, math.nan, math.nan, n, rope,
                               f"only {n} paired dataset{'' if n == 1 else 's'} (the test needs at least {MIN_PAIRS})")
    x = base[both].to_numpy(dtype=float)
    y = mine[both].to_numpy(dtype=float)
    probs = SignedRankTest.probs(x, y, rope, nsamples=n_samples, random_state=seed)
    if rope > 0:
        worse, equivalent, better = (float(p) for p in probs)
    else:
        (worse, better), equivalent = (float(p) for p in probs), 0.0
    return BayesComparison(better, equivalent, worse, n, rope)


def compact(p_better: float, p_equivalent: float, p_worse: float) -> str:
    """`.97/.03/.00` — P(better)/P(equivalent)/P(worse) in two decimals, for an 80-column terminal."""
    if any(pd.isna(p) for p in (p_better, p_equivalent, p_worse)):
        return "–"
    return "/".join(f"{p:.2f}".removeprefix("0") if p < 1 else "1" for p in (p_better, p_equivalent, p_worse))


def bayes_frame(values: pd.DataFrame, baseline_values: pd.DataFrame, metric: str, rope: float,
                skip: set[tuple[str, str]], seed: int = 0) -> pd.DataFrame:
    """BAYES_COLUMNS for every column of `values` paired with a column of `baseline_values` (those in
    `skip`, e.g. the baseline itself, get none)."""
    rows = {}
    for column in values.columns:
        if column in skip or column not in baseline_values.columns:
            continue
        result = bayes_signed_rank(values[column], baseline_values[column], metric, rope, seed)
        rows[column] = {"rope": rope, "p_better": result.p_better, "p_equivalent": result.p_equivalent,
                        "p_worse": result.p_worse}
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(BAYES_COLUMNS))
    return frame.reindex(values.columns).astype(float)


def decision(p_better: float, p_equivalent: float, p_worse: float, threshold: float = 0.95) -> str:
    """`better`, `equivalent` or `worse` when that posterior probability reaches `threshold`, else ''."""
    for name, p in (("better", p_better), ("equivalent", p_equivalent), ("worse", p_worse)):
        if not np.isnan(p) and p >= threshold:
            return name
    return ""
