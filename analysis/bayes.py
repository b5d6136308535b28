"""The Bayesian signed-rank test with a region of practical equivalence (ROPE), per label against
its baseline: P(better), P(equivalent), P(worse).

A p-value says whether a difference is distinguishable from zero, not whether it matters. Benavoli
et al. (2014, 2017) replace it with the posterior of the Bayesian signed-rank test (a Dirichlet
process over the paired differences, one per dataset): the probability that the label is better by
more than the ROPE, within it (practically equivalent), or worse by more than it. The test is
`baycomp.SignedRankTest` (prior strength 0.5 at a difference of 0, as its authors recommend),
sampled with a fixed seed and sample count, so a board gives the same numbers on every run.

Why `signed_rank_probs` and not `SignedRankTest.probs` itself: baycomp draws its Dirichlet samples
at once but then loops over them in Python (≈0.15 s per test for 10,000 samples), and a board runs
one test per label — a 100,000-cell store's report runs about 300. `signed_rank_probs` draws the very same
samples (same generator, same seed, same call) and evaluates baycomp's formula for all of them as
one matrix product, in milliseconds; tests/test_chance_and_bayes.py checks it returns exactly what
`baycomp.SignedRankTest.probs` returns, so a change in baycomp fails the tests.

The ROPE is in the metric's own units: 0.01 for AP-like metrics (AP, ROC AUC, operating points,
F1, MCC, balanced accuracy, precision, recall — a point of AP), smaller for probability metrics whose
typical values are small (ECE, Brier: 0.005), 0.05 for the calibration intercept and slope;
`--rope` sets one width for the board's metric. Metrics are oriented first (`oriented`: lower-is-
better negated, targets as minus the distance to the ideal), so "better" always means better.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from imbench.analysis.statistics import oriented

#: Columns `bayes_columns` adds to a board's table.
BAYES_COLUMNS = ("rope", "p_better", "p_equivalent", "p_worse")
#: Posterior samples: the Monte-Carlo standard error of a probability is at most 0.007 (0.5/√5000); a
#: comparison over 100 datasets takes about 25 ms (`signed_rank_probs`), baycomp's own loop ~0.1 s.
N_SAMPLES = 5_000
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
    values, baseline = values.align(baseline)
    mine, base = oriented(values, metric), oriented(baseline, metric)
    both = mine.notna() & base.notna()
    n = int(both.sum())
    if n < MIN_PAIRS:
        return BayesComparison(math.nan, math.nan, math.nan, n, rope,
                               f"only {n} paired dataset{'' if n == 1 else 's'} (the test needs at least {MIN_PAIRS})")
    x = base[both].to_numpy(dtype=float)
    y = mine[both].to_numpy(dtype=float)
    worse, equivalent, better = signed_rank_probs(x, y, rope, n_samples=n_samples, seed=seed)
    return BayesComparison(better, equivalent, worse, n, rope)


@lru_cache(maxsize=8)
def dirichlet_draws(m: int, prior: float, n_samples: int, seed: int) -> np.ndarray:
    """baycomp's draws for m differences (the pseudo-difference first, of weight `prior`): the same for
    every test with as many datasets, as baycomp reseeds each test, so a board draws them once."""
    weights = np.ones(m)
    weights[0] = prior
    draws = np.random.RandomState(seed).dirichlet(weights, n_samples)
    draws.flags.writeable = False
    return draws


def signed_rank_probs(x: np.ndarray, y: np.ndarray, rope: float, prior: float = 0.5, n_samples: int = N_SAMPLES,
                      seed: int = 0) -> tuple[float, float, float]:
    """(P(y worse than x), P(equivalent), P(y better)) of the Bayesian signed-rank test, exactly as
    `baycomp.SignedRankTest.probs(x, y, rope, nsamples=n_samples, prior=prior, random_state=seed)`
    computes them (with rope 0: P(equivalent) = 0), vectorised (see the module docstring).

    baycomp's sample s is wᵀHw for Dirichlet weights w over the differences (a pseudo-difference 0
    first) and H[i, j] = 1 where dᵢ + dⱼ is below −2·rope (½ where equal). With the differences
    sorted, each row of H is a prefix of ones, so wᵀHw = Σᵢ wᵢ · (cumulative w up to that prefix):
    O(samples × datasets) instead of a Python loop of O(datasets²) products. The prefixes are
    counted on the very sums baycomp compares, so every comparison is the same."""
    raw = np.r_[0.0, np.asarray(y, dtype=float) - np.asarray(x, dtype=float)]
    order = np.argsort(raw, kind="stable")
    diff = raw[order]
    # one row per difference (sorted), one column per posterior sample: row gathers are contiguous
    samples = dirichlet_draws(len(raw), prior, n_samples, seed).T[order]
    cumulative = np.vstack([np.zeros((1, n_samples)), np.cumsum(samples, axis=0)])
    sums = diff[:, None] + diff[None, :]
    m = len(diff)

    def below(threshold: float) -> np.ndarray:  # Σ w_i w_j [d_i + d_j < t] + ½ [= t]
        less, equal = (sums < threshold).sum(axis=1), (sums <= threshold).sum(axis=1)
        inner = cumulative[less] + 0.5 * (cumulative[equal] - cumulative[less])
        return np.sum(samples * inner, axis=0)

    def above(threshold: float) -> np.ndarray:  # Σ w_i w_j [d_i + d_j > t] + ½ [= t]
        start_more, start_equal = m - (sums > threshold).sum(axis=1), m - (sums >= threshold).sum(axis=1)
        inner = cumulative[m] - cumulative[start_more] + 0.5 * (cumulative[start_more] - cumulative[start_equal])
        return np.sum(samples * inner, axis=0)

    if rope > 0:
        left, right = below(-2 * rope), above(2 * rope)
        table = np.column_stack([left, -left - right + 1, right])
        shares = np.bincount(np.argmax(table, axis=1), minlength=3) / n_samples
        return float(shares[0]), float(shares[1]), float(shares[2])
    right = above(0.0)
    shares = np.bincount(np.argmax(np.column_stack([-right + 1, right]), axis=1), minlength=2) / n_samples
    return float(shares[0] / shares.sum()), 0.0, float(shares[1] / shares.sum())


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
