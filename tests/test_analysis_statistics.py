"""Statistics against a published worked example (Demšar 2006, §3.2.2 and Table 6) and against scipy."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from imbench.analysis.statistics import (MIN_WILCOXON_PAIRS, _tie_corrected_chi2, bootstrap_ci, compare_to_baseline,
                                 friedman_test, holm, nemenyi_critical_difference, nemenyi_pvalues, rank_table)

NAMES = ["C4.5", "C4.5+m", "C4.5+cf", "C4.5+m+cf"]
DATASETS = ["adult (sample)", "breast cancer", "breast cancer wisconsin", "cmc", "ionosphere", "iris",
            "liver disorders", "lung cancer", "lymphography", "mushroom", "primary tumor", "rheum", "voting", "wine"]
#: Demšar (2006), Table 6: AUC of four C4.5 variants on 14 data sets, as printed (3 decimals) ...
AUC = pd.DataFrame([
    [0.763, 0.768, 0.771, 0.798], [0.599, 0.591, 0.590, 0.569], [0.954, 0.971, 0.968, 0.967],
    [0.628, 0.661, 0.654, 0.657], [0.882, 0.888, 0.886, 0.898], [0.936, 0.931, 0.916, 0.931],
    [0.661, 0.668, 0.609, 0.685], [0.583, 0.583, 0.563, 0.625], [0.775, 0.838, 0.866, 0.875],
    [1.000, 1.000, 1.000, 1.000], [0.940, 0.962, 0.965, 0.962], [0.619, 0.666, 0.614, 0.669],
    [0.972, 0.981, 0.975, 0.975], [0.957, 0.978, 0.946, 0.970]], index=DATASETS, columns=NAMES)
#: ... and the ranks printed next to them (the paper computes its statistics from these).
PUBLISHED_RANKS = pd.DataFrame([
    [4, 3, 2, 1], [1, 2, 3, 4], [4, 1, 2, 3], [4, 1, 3, 2], [4, 2, 3, 1], [1, 2.5, 4, 2.5], [3, 2, 4, 1],
    [2.5, 2.5, 4, 1], [4, 3, 2, 1], [2.5, 2.5, 2.5, 2.5], [4, 2.5, 1, 2.5], [3, 2, 4, 1], [4, 1, 2, 3],
    [3, 1, 4, 2]], index=DATASETS, columns=NAMES, dtype=float)


def test_ranks_of_the_printed_table_match_the_paper_except_a_printed_tie() -> None:
    ranks = rank_table(AUC, "roc_auc")
    # voting prints 0.975 for both C4.5+cf and C4.5+m+cf but ranks them 2 and 3 (the unrounded AUCs
    # differ); from the printed values the tie is split, 2.5 each. Every other row matches.
    others = [d for d in DATASETS if d != "voting"]
    pd.testing.assert_frame_equal(ranks.loc[others], PUBLISHED_RANKS.loc[others])
    assert ranks.loc["voting"].tolist() == [4, 1, 2.5, 2.5]
    assert ranks.mean().round(3).tolist() == [3.143, 2.000, 2.929, 1.929]


def test_demsar_worked_example() -> None:
    assert PUBLISHED_RANKS.mean().round(3).tolist() == [3.143, 2.000, 2.893, 1.964]
    # the paper's χ²_F and F_F use no tie correction: 9.28 and 3.69
    result = friedman_test(PUBLISHED_RANKS, alpha=0.05, tie_correction=False)
    assert result.statistic == pytest.approx(9.28, abs=0.005)
    assert result.iman_davenport == pytest.approx(3.69, abs=0.005)
    # "The critical value of F(3, 39) for α = 0.05 is 2.85, so we reject the null-hypothesis."
    assert stats.f.ppf(0.95, 3, 39) == pytest.approx(2.85, abs=0.005)
    assert result.significant and result.iman_davenport_p < 0.05
    # Nemenyi: q_0.05 = 2.569 for k = 4, CD = 2.569·√(4·5/(6·14)) = 1.25; at α = 0.10, q = 2.291, CD = 1.12
    assert result.critical_difference == pytest.approx(1.25, abs=0.005)
    assert nemenyi_critical_difference(4, 14, 0.05) / math.sqrt(20 / 84) == pytest.approx(2.569, abs=5e-4)
    assert nemenyi_critical_difference(4, 14, 0.10) == pytest.approx(1.12, abs=0.005)
    assert nemenyi_critical_difference(4, 14, 0.10) / math.sqrt(20 / 84) == pytest.approx(2.291, abs=5e-4)


def test_nemenyi_pairs_match_the_paper() -> None:
    p = nemenyi_pvalues(PUBLISHED_RANKS)
    # α = 0.05: "the post-hoc test is not powerful enough to detect any significant differences"
    off_diagonal = p.to_numpy()[~np.eye(4, dtype=bool)]
    assert (off_diagonal > 0.05).all()
    # α = 0.10: C4.5 is worse than C4.5+m and C4.5+m+cf; nothing can be said of C4.5+cf
    assert p.loc["C4.5", "C4.5+m"] < 0.10 and p.loc["C4.5", "C4.5+m+cf"] < 0.10
    assert p.loc["C4.5", "C4.5+cf"] > 0.10 and p.loc["C4.5+cf", "C4.5+m"] > 0.10


def test_friedman_is_scipys_with_ties_and_demsars_formula_without() -> None:
    rng = np.random.default_rng(3)
    values = pd.DataFrame(rng.integers(0, 4, size=(12, 5)).astype(float))  # many ties
    ranks = rank_table(values, "ap")
    corrected = friedman_test(ranks)
    expected = stats.friedmanchisquare(*values.to_numpy().T)
    assert corrected.statistic == pytest.approx(expected.statistic)
    assert corrected.p_value == pytest.approx(expected.pvalue)
    no_ties = pd.DataFrame(rng.permuted(np.tile(np.arange(5.0), (12, 1)), axis=1))
    ranks = rank_table(no_ties, "ap")
    assert friedman_test(ranks).statistic == pytest.approx(friedman_test(ranks, tie_correction=False).statistic)
    assert friedman_test(ranks).statistic == pytest.approx(stats.friedmanchisquare(*no_ties.to_numpy().T).statistic)


def test_ranks_ties_direction_and_failures() -> None:
    values = pd.DataFrame({"a": [0.9, 0.1], "b": [np.nan, 0.2], "c": [0.9, np.nan], "d": [np.nan, 0.3]})
    higher = rank_table(values, "ap")
    assert higher.iloc[0].tolist() == [1.5, 3.5, 1.5, 3.5]  # tie averaged; the two failures tie for last
    assert higher.iloc[1].tolist() == [3, 2, 4, 1]
    lower = rank_table(values, "ece")  # lower is better
    assert lower.iloc[1].tolist() == [1, 2, 4, 3]
    slope = rank_table(pd.DataFrame({"x": [0.9], "y": [1.3], "z": [1.0]}), "calibration_slope")  # closest to 1
    assert slope.iloc[0].tolist() == [2, 3, 1]
    with pytest.raises(ValueError, match="reference value"):
        rank_table(values, "prevalence")


def test_friedman_with_two_strategies_uses_scipys_tie_correction_written_out() -> None:
    rng = np.random.default_rng(5)
    tied = pd.DataFrame(rng.integers(0, 3, size=(15, 4)).astype(float))
    ranks = rank_table(tied, "ap")
    assert _tie_corrected_chi2(ranks) == pytest.approx(stats.friedmanchisquare(*tied.to_numpy().T).statistic)
    pair = rank_table(pd.DataFrame(rng.normal(size=(10, 2))), "ap")  # no ties: Demšar's formula agrees
    two = friedman_test(pair)
    assert two.applicable and two.n_strategies == 2
    assert two.statistic == pytest.approx(friedman_test(pair, tie_correction=False).statistic)
    assert two.p_value == pytest.approx(stats.chi2.sf(two.statistic, 1))


@pytest.mark.parametrize(("ranks", "reason"), [
    (pd.DataFrame([[1.0, 2.0, 3.0]]), "only 1 dataset"),
    (pd.DataFrame([[1.0], [1.0]]), "only 1 strategy"),
    (pd.DataFrame([[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]), "tied on every dataset"),
])
def test_friedman_not_applicable_is_said(ranks: pd.DataFrame, reason: str) -> None:
    result = friedman_test(ranks)
    assert not result.applicable and not result.significant
    assert reason in result.describe() and "not applicable" in result.describe()


def test_baseline_comparison_counts_failures_and_uses_scipys_wilcoxon() -> None:
    index = [f"d{i}" for i in range(8)]
    base = pd.Series([0.50, 0.60, 0.70, 0.40, 0.55, 0.65, np.nan, 0.30], index=index)
    mine = pd.Series([0.55, 0.58, 0.70, 0.50, 0.60, np.nan, 0.20, 0.35], index=index)
    result = compare_to_baseline(mine, base, "ap")
    # wins: d0 d3 d4 d7 and d6 (baseline failed); tie: d2; losses: d1 and d5 (mine failed)
    assert (result.wins, result.ties, result.losses) == (5, 1, 2)
    both = mine.notna() & base.notna()
    assert result.n_paired == int(both.sum()) == 6
    assert result.delta_mean == pytest.approx(float((mine - base)[both].mean()))
    assert result.delta_median == pytest.approx(float((mine - base)[both].median()))
    expected = stats.wilcoxon((mine - base)[both].to_numpy(), zero_method="zsplit").pvalue
    assert result.p_value == pytest.approx(expected) and result.reason == ""
    ece = compare_to_baseline(pd.Series([0.1, 0.2], index=["a", "b"]), pd.Series([0.2, 0.3], index=["a", "b"]), "ece")
    assert (ece.wins, ece.losses) == (2, 0)  # lower ECE wins


def test_a_wilcoxon_test_that_cannot_run_says_why_instead_of_p_1() -> None:
    index = [f"d{i}" for i in range(MIN_WILCOXON_PAIRS)]
    base = pd.Series(np.linspace(0.2, 0.7, MIN_WILCOXON_PAIRS), index=index)
    few = compare_to_baseline(base.iloc[:5] + 0.1, base.iloc[:5], "ap")
    assert np.isnan(few.p_value) and few.reason == f"only 5 paired datasets (the test needs at least {MIN_WILCOXON_PAIRS})"
    assert (few.wins, few.n_paired) == (5, 5)  # W/T/L and Δ still stand
    same = compare_to_baseline(base, base, "ap")
    assert np.isnan(same.p_value) and same.reason == "every paired difference is zero" and same.ties == 6
    enough = compare_to_baseline(base + 0.1, base, "ap")
    assert enough.p_value == pytest.approx(2 / 2 ** MIN_WILCOXON_PAIRS) and enough.reason == ""
    # why six: with five pairs the smallest two-sided p is 2/2⁵ > 0.05, no result could be significant
    assert stats.wilcoxon(np.ones(5)).pvalue > 0.05 > stats.wilcoxon(np.ones(6)).pvalue


def test_holm_by_hand() -> None:
    # sorted p: 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → monotone: 0.03, 0.06, 0.06
    adjusted = holm(pd.Series({"a": 0.01, "b": 0.04, "c": 0.03, "d": np.nan}))
    assert adjusted[["a", "b", "c"]].tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(adjusted["d"])


def test_bootstrap_interval() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(0.3, 0.1, 60)
    low, high = bootstrap_ci(values)
    assert low < values.mean() < high
    normal_width = 2 * 1.96 * values.std(ddof=1) / math.sqrt(len(values))
    assert high - low == pytest.approx(normal_width, rel=0.25)
    assert bootstrap_ci(np.full(5, 0.7)) == (0.7, 0.7)
    assert all(math.isnan(x) for x in bootstrap_ci(np.array([0.5, np.nan])))
