"""Statistics for comparing strategies over datasets (Demšar 2006): ranks, Friedman, Nemenyi, Wilcoxon.

Datasets are the independent units: callers pass one value per dataset (folds already averaged).
The tests themselves come from scipy (Friedman, Wilcoxon signed-rank, studentized range, bootstrap),
statsmodels (Holm) and scikit-posthocs (Nemenyi p-values). Written here, because no library offers
them directly: orienting a metric so that higher is better, the Iman–Davenport F (one line from
the Friedman χ²) and the Nemenyi critical difference (one line from the studentized range quantile).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scikit_posthocs as sp
from scipy import stats

from imbench.foundation.metrics import metric_direction

ALPHA = 0.05
#: Ideal values of metrics whose direction is "target" (closer is better).
TARGETS = {"calibration_intercept": 0.0, "calibration_slope": 1.0}
#: Paired differences smaller than this count as ties (floating-point noise, not a practical margin).
TIE_TOLERANCE = 1e-12


def oriented(values: pd.DataFrame | pd.Series | np.ndarray, metric: str):
    """`values` turned so that higher is always better: lower-is-better metrics are negated and
    target metrics become minus the distance to their ideal value."""
    direction = metric_direction(metric)
    if direction == "higher":
        return values
    if direction == "lower":
        return -values
    if metric not in TARGETS:
        raise ValueError(f"metric {metric!r} is a reference value, not a score; it cannot rank strategies")
    return -abs(values - TARGETS[metric])


def rank_table(values: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rank the columns within each row (dataset): 1 = best, ties get their average rank, and a
    missing value (the strategy failed there) is ranked after every value, failures tied among themselves."""
    return oriented(values, metric).rank(axis=1, ascending=False, method="average", na_option="bottom")


@dataclass(frozen=True)
class FriedmanResult:
    """Friedman test over a datasets × strategies rank table, with Iman–Davenport and Nemenyi's CD."""

    n_datasets: int
    n_strategies: int
    alpha: float
    statistic: float = math.nan
    p_value: float = math.nan
    iman_davenport: float = math.nan
    iman_davenport_p: float = math.nan
    critical_difference: float = math.nan
    tie_corrected: bool = True
    reason: str = ""

    @property
    def applicable(self) -> bool:
        return not self.reason

    @property
    def significant(self) -> bool:
        # the verdict follows Iman–Davenport's F, which Demšar (2006) recommends over the conservative χ²
        return self.applicable and self.iman_davenport_p < self.alpha

    def describe(self) -> str:
        """One line for terminals and reports: the test, alpha, and what it found (or why it did not run)."""
        if not self.applicable:
            return f"Friedman test not applicable: {self.reason}"
        k, n = self.n_strategies, self.n_datasets
        verdict = "the strategies differ" if self.significant else "no significant difference between strategies"
        how = "scipy, tie-corrected" if self.tie_corrected else "Demšar's formula, no tie correction"
        return (f"Friedman test ({how}) over {k} strategies × {n} datasets: χ²={self.statistic:.3f}, "
                f"{p_text(self.p_value)}; Iman–Davenport F({k - 1},{(k - 1) * (n - 1)})={self.iman_davenport:.3f}, "
                f"{p_text(self.iman_davenport_p)} → {verdict} at α={self.alpha:g}; "
                f"Nemenyi critical difference CD={self.critical_difference:.3f} (α={self.alpha:g})")


def format_p(p: float) -> str:
    if math.isnan(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def p_text(p: float) -> str:
    """`p=0.012` or `p<0.001`."""
    shown = format_p(p)
    return f"p{shown}" if shown.startswith("<") else f"p={shown}"


def nemenyi_critical_difference(k: int, n: int, alpha: float = ALPHA) -> float:
    """CD = q_α √(k(k+1)/(6N)), q_α the studentized range quantile (k groups, ∞ df) divided by √2."""
    q_alpha = stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q_alpha * math.sqrt(k * (k + 1) / (6 * n)))


def iman_davenport(chi2: float, k: int, n: int) -> tuple[float, float]:
    """Iman–Davenport's F = (N−1)χ² / (N(k−1) − χ²) with (k−1, (k−1)(N−1)) df, and its p-value."""
    denominator = n * (k - 1) - chi2
    if denominator <= 0:  # every dataset ranks the strategies identically
        return math.inf, 0.0
    f_value = (n - 1) * chi2 / denominator
    return float(f_value), float(stats.f.sf(f_value, k - 1, (k - 1) * (n - 1)))


def friedman_test(ranks: pd.DataFrame, alpha: float = ALPHA, tie_correction: bool = True) -> FriedmanResult:
    """Friedman's test on a complete datasets × strategies rank table (no missing values).

    With `tie_correction` (the default) the χ² is scipy's `friedmanchisquare`, corrected for tied
    ranks (for 2 strategies, which scipy refuses, the same formula is written out in
    `_tie_corrected_chi2`). Without it, χ² = 12N/(k(k+1)) [Σ R̄ⱼ² − k(k+1)²/4] from the mean ranks,
    as printed in Demšar (2006); scipy has no switch for it. Both agree when there are no ties.
    """
    n, k = ranks.shape
    if ranks.isna().any().any():
        raise ValueError("friedman_test needs a complete rank table (apply a failure policy first)")
    if n < 2:
        return FriedmanResult(n, k, alpha, reason=f"only {n} dataset{'' if n == 1 else 's'}; it compares strategies "
                                                  "across at least 2 datasets")
    if k < 2:
        return FriedmanResult(n, k, alpha, reason=f"only {k} strateg{'y' if k == 1 else 'ies'} to rank; it compares "
                                                  "at least 2")
    if (ranks.nunique(axis=1) == 1).all():
        return FriedmanResult(n, k, alpha, reason="every strategy is tied on every dataset")
    if tie_correction and k >= 3:
        chi2, p_value = stats.friedmanchisquare(*ranks.to_numpy().T)
    elif tie_correction:
        chi2 = _tie_corrected_chi2(ranks)
        p_value = stats.chi2.sf(chi2, k - 1)
    else:
        mean_ranks = ranks.mean().to_numpy()
        chi2 = 12 * n / (k * (k + 1)) * (float(np.sum(mean_ranks ** 2)) - k * (k + 1) ** 2 / 4)
        p_value = stats.chi2.sf(chi2, k - 1)
    f_value, f_p = iman_davenport(float(chi2), k, n)
    return FriedmanResult(n, k, alpha, float(chi2), float(p_value), f_value, f_p,
                          nemenyi_critical_difference(k, n, alpha), tie_correction)


def _tie_corrected_chi2(ranks: pd.DataFrame) -> float:
    """Friedman's χ² with scipy's tie correction, for any number of strategies: ranks are
    re-ranked within each row, χ² = (12/(Nk(k+1)) Σ Rⱼ² − 3N(k+1)) / (1 − Σ(t³ − t)/(Nk(k²−1)))
    with Rⱼ the rank sums and t the sizes of tied groups (the formula in `stats.friedmanchisquare`)."""
    n, k = ranks.shape
    data = np.apply_along_axis(stats.rankdata, 1, ranks.to_numpy())
    ties = sum(float(np.sum(counts ** 3 - counts)) for counts in
               (np.unique(row, return_counts=True)[1] for row in data))
    correction = 1 - ties / (k * (k * k - 1) * n)
    return float((12.0 / (k * n * (k + 1)) * np.sum(data.sum(axis=0) ** 2) - 3 * n * (k + 1)) / correction)


def nemenyi_pvalues(ranks: pd.DataFrame) -> pd.DataFrame:
    """Pairwise Nemenyi p-values (scikit-posthocs) for a complete datasets × strategies table."""
    out = sp.posthoc_nemenyi_friedman(ranks.to_numpy())
    out.index = out.columns = ranks.columns
    return out


def bootstrap_ci(values: np.ndarray, confidence: float = 0.95, n_resamples: int = 2000,
                 seed: int = 0) -> tuple[float, float]:
    """BCa bootstrap interval of the mean over datasets (scipy); NaN with fewer than 2 datasets."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return math.nan, math.nan
    if np.ptp(values) == 0:
        return float(values[0]), float(values[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate-resample warnings: we fall back below
        res = stats.bootstrap((values,), np.mean, confidence_level=confidence, n_resamples=n_resamples,
                              method="BCa", rng=np.random.default_rng(seed))
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if math.isnan(low) or math.isnan(high):
        low, high = (float(x) for x in np.percentile(res.bootstrap_distribution, [50 * (1 - confidence),
                                                                                    50 * (1 + confidence)]))
    return low, high


#: Fewest paired datasets for a Wilcoxon signed-rank test: with 5 pairs its smallest two-sided p is
#: 2/2⁵ = 0.0625, so no result could reach α = 0.05; printing p = 1 or 0.06 would look like evidence.
MIN_WILCOXON_PAIRS = 6


@dataclass(frozen=True)
class BaselineComparison:
    """One label against its baseline, paired by dataset. `reason` says why no p-value (NaN) exists."""

    wins: int
    ties: int
    losses: int
    n_paired: int
    delta_mean: float
    p_value: float
    delta_median: float = math.nan
    reason: str = ""


def compare_to_baseline(values: pd.Series, baseline: pd.Series, metric: str) -> BaselineComparison:
    """Win/tie/loss, mean and median difference and the two-sided Wilcoxon signed-rank p-value of
    `values` against `baseline`.

    Both are indexed by dataset; NaN means that side failed there (only under `--failed rank-last`).
    A failure loses against a result and ties with a failure (consistent with ranking failures last).
    The differences and the Wilcoxon test use the datasets where both have results. Zero differences
    are split between the signs (`zero_method="zsplit"`), as Demšar (2006, §3.1.3) recommends. The
    test is not run — p is NaN and `reason` says why — with fewer than MIN_WILCOXON_PAIRS pairs or
    when every difference is zero (there is nothing to test, and p = 1 would read as a verdict).
    """
    values, baseline = values.align(baseline)
    mine, base = oriented(values, metric), oriented(baseline, metric)
    both = mine.notna() & base.notna()
    diff = (mine - base)[both]
    wins = int((diff > TIE_TOLERANCE).sum() + (mine.notna() & base.isna()).sum())
    losses = int((diff < -TIE_TOLERANCE).sum() + (mine.isna() & base.notna()).sum())
    ties = int((diff.abs() <= TIE_TOLERANCE).sum() + (mine.isna() & base.isna()).sum())
    raw_delta = (values - baseline)[both]
    n_paired = int(both.sum())
    p_value, reason = math.nan, ""
    if n_paired < MIN_WILCOXON_PAIRS:
        reason = (f"only {n_paired} paired dataset{'' if n_paired == 1 else 's'} "
                  f"(the test needs at least {MIN_WILCOXON_PAIRS})")
    elif (diff.abs() <= TIE_TOLERANCE).all():
        reason = "every paired difference is zero"
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # small-sample normal-approximation warnings
            p_value = float(stats.wilcoxon(diff.to_numpy(), zero_method="zsplit").pvalue)
    return BaselineComparison(wins, ties, losses, n_paired, float(raw_delta.mean()) if n_paired else math.nan,
                              p_value, float(raw_delta.median()) if n_paired else math.nan, reason)


def holm(p_values: pd.Series, alpha: float = ALPHA) -> pd.Series:
    """Holm-adjusted p-values (statsmodels) over the non-missing entries; NaN stays NaN."""
    from statsmodels.stats.multitest import multipletests  # imported here: figure workers never need it

    out = pd.Series(np.nan, index=p_values.index, dtype=float)
    present = p_values.dropna()
    if len(present):
        out[present.index] = multipletests(present.to_numpy(), alpha=alpha, method="holm")[1]
    return out
