"""Chance as rows and the Bayesian comparison: the exact expected AP of a random ranking, the chance
models' place in a grid and on every board, and the Bayesian signed-rank test with a ROPE."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from imbench.analysis.bayes import RopeError, bayes_signed_rank, compact, default_rope, rope_for, signed_rank_probs
from imbench.analysis.leaderboard import build_leaderboard, leaderboards, ranked_models
from imbench.analysis.outputs import display_board
from imbench.benchmarks.spec.cells import enumerate_cells
from imbench.benchmarks.spec.grid import parse_grid
from imbench.foundation.metrics import compute_metrics, expected_random_ap, ranking_metrics
from imbench.strategies import get_model
from imbench.analysis.board_notes import board_notes


@pytest.mark.parametrize(("n_pos", "n"), [(1, 10), (2, 15), (3, 40), (5, 23), (10, 30), (20, 200)])
def test_expected_random_ap_matches_monte_carlo(n_pos: int, n: int) -> None:
    rng = np.random.default_rng(n_pos * 1000 + n)
    y = np.r_[np.ones(n_pos, dtype=int), np.zeros(n - n_pos, dtype=int)]
    draws = np.array([ranking_metrics(y, rng.random(n))[0] for _ in range(3000)])  # sklearn's AP, checked below
    standard_error = draws.std(ddof=1) / np.sqrt(len(draws))
    assert expected_random_ap(n_pos, n) == pytest.approx(draws.mean(), abs=4 * standard_error)
    assert expected_random_ap(n_pos, n) > n_pos / n  # a random ranking beats the prevalence on average
    scores = rng.random(n)
    assert ranking_metrics(y, scores)[0] == pytest.approx(average_precision_score(y, scores))


def test_expected_random_ap_edge_cases_and_stored_metric() -> None:
    assert expected_random_ap(1, 1) == 1.0 and expected_random_ap(7, 7) == 1.0
    assert expected_random_ap(1, 4) == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4)  # E[1/position]
    assert np.isnan(expected_random_ap(0, 10))
    y = np.r_[np.ones(3), np.zeros(27)].astype(int)
    metrics = compute_metrics(y, np.linspace(0, 1, 30))
    assert metrics["ap_random"] == pytest.approx(expected_random_ap(3, 30)) and metrics["prevalence"] == 0.1


GRID = """
name = "chance"
datasets = ["keel:glass1"]
models = ["logreg", "prior", "random"]
strategies = ["none", "class-weight", "smote"]
[cv]
n_splits = 3
n_repeats = 1
"""


def test_chance_models_take_strategy_none_only() -> None:
    plan = enumerate_cells(parse_grid(GRID))
    pairs = {(c.model, c.strategy.name) for c in plan.cells}
    assert pairs == {("logreg", "none"), ("logreg", "class-weight"), ("logreg", "smote"), ("prior", "none"),
                     ("random", "none")}
    lines = " ".join(plan.left_out_summary())
    assert "3 cells of prior × smote: model 'prior' is a chance reference" in lines
    assert get_model("prior").is_baseline and not get_model("logreg").is_baseline


def synthetic(values: dict[tuple[str, str], np.ndarray], families: dict[tuple[str, str], str]) -> pd.DataFrame:
    """A results frame: per (model, label) one AP per dataset, 2 identical folds each."""
    rows = []
    for (model, label), per_dataset in values.items():
        for d, value in enumerate(per_dataset):
            for fold in range(2):
                rows.append({"key": f"{model}{label}{d}{fold}", "posthoc": "none", "label": label, "base_label": label,
                             "dataset": f"d{d:02d}", "model": model, "strategy": label,
                             "family": families.get((model, label), "none"), "anti_pattern": False, "repeat": 0,
                             "fold": fold, "status": "ok", "message": "", "degenerate": False, "outcome": "",
                             "threshold": 0.5, "fit_seconds": 0.1, "predict_seconds": 0.01, "ap": value,
                             "ap_random": 0.2})
    return pd.DataFrame(rows)


def test_chance_rows_of_other_models_are_on_every_board_and_change_no_statistic() -> None:
    rng = np.random.default_rng(0)
    base = rng.uniform(0.3, 0.8, 9)
    values = {("logreg", "none"): base, ("logreg", "smote"): base + rng.normal(0.02, 0.03, 9),
              ("logreg", "class-weight"): base + rng.normal(0.0, 0.03, 9),
              ("random", "none"): rng.uniform(0.1, 0.2, 9), ("prior", "none"): np.full(9, 0.1)}
    families = {("random", "none"): "baseline", ("prior", "none"): "baseline"}
    frame = synthetic(values, families)
    without = frame[~frame["model"].isin(["random", "prior"])]
    assert ranked_models(frame) == ["logreg"]
    board = leaderboards(frame, "ap")[0]
    plain = leaderboards(without, "ap")[0]
    table = board.table.set_index(["model", "strategy"])
    assert table.loc[("random", "none"), "role"] == "reference" and table.loc[("prior", "none"), "role"] == "reference"
    assert table.loc[("random", "none"), "ap"] == pytest.approx(values[("random", "none")].mean())
    assert table.loc[("prior", "none"), "ap_random"] == pytest.approx(0.2)
    assert board.friedman.statistic == pytest.approx(plain.friedman.statistic)
    assert board.friedman.n_strategies == 3
    ranked = board.table[board.table["role"] == "ranked"].set_index("strategy")
    np.testing.assert_allclose(ranked["mean_rank"], plain.table.set_index("strategy").loc[ranked.index, "mean_rank"])
    shown = display_board(board)["strategy"].tolist()
    assert sorted(shown[-2:]) == ["prior (ref)", "random (ref)"]
    assert any("exact expected AP" in line and "0.200" in line for line in board_notes(board))


def test_bayes_identical_scores_put_all_mass_in_the_rope() -> None:
    x = pd.Series(np.linspace(0.2, 0.9, 12), index=[f"d{i}" for i in range(12)])
    result = bayes_signed_rank(x, x.copy(), "ap", rope=0.01, seed=0)
    assert (result.p_better, result.p_equivalent, result.p_worse) == (0.0, 1.0, 0.0)


def test_bayes_far_better_strategy_is_better_with_probability_near_one() -> None:
    rng = np.random.default_rng(3)
    base = pd.Series(rng.uniform(0.2, 0.7, 12), index=[f"d{i}" for i in range(12)])
    better = base + rng.uniform(0.08, 0.15, 12)  # far more than the 0.01 ROPE, on all 12 datasets
    result = bayes_signed_rank(better, base, "ap", rope=0.01, seed=0)
    assert result.p_better > 0.99 and result.p_worse < 0.005
    worse = bayes_signed_rank(base, better, "ap", rope=0.01, seed=0)
    assert worse.p_worse > 0.99
    # lower is better for ece: lower values are "better"
    assert bayes_signed_rank(base - 0.1, base, "ece", rope=0.005, seed=0).p_better > 0.99


def test_bayes_is_seeded_and_identical_across_runs() -> None:
    rng = np.random.default_rng(5)
    base = pd.Series(rng.uniform(0.2, 0.7, 10))
    other = base + rng.normal(0.005, 0.02, 10)
    first = bayes_signed_rank(other, base, "ap", rope=0.01, seed=0)
    second = bayes_signed_rank(other, base, "ap", rope=0.01, seed=0)
    assert first == second
    assert 0 < first.p_equivalent < 1 and first.p_better + first.p_equivalent + first.p_worse == pytest.approx(1)


def test_rope_defaults_and_checks() -> None:
    assert default_rope("ap") == 0.01 and default_rope("recall_at_precision0.8") == 0.01
    assert default_rope("ece") == 0.005
    assert rope_for("ap", 0.02) == 0.02 and rope_for("ap", None) == 0.01
    with pytest.raises(RopeError):
        rope_for("ap", -0.1)
    assert compact(0.97, 0.03, 0.0) == ".97/.03/.00" and compact(1.0, 0.0, 0.0) == "1/.00/.00"


def test_board_carries_bayes_columns_with_the_chosen_rope() -> None:
    rng = np.random.default_rng(1)
    base = rng.uniform(0.3, 0.8, 8)
    frame = synthetic({("m", "none"): base, ("m", "good"): base + 0.1, ("m", "same"): base + 0.001}, {})
    board = build_leaderboard(frame, "ap", model="m", rope=0.02)
    rows = board.table.set_index("strategy")
    assert board.rope == 0.02 and rows.loc["good", "rope"] == 0.02
    assert rows.loc["good", "p_better"] > 0.95 and rows.loc["same", "p_equivalent"] > 0.95
    assert np.isnan(rows.loc["none", "p_better"])  # the baseline is not compared with itself
    assert "P(b/=/w)" in display_board(board).columns


@pytest.mark.parametrize(("n", "shift", "rope", "seed"), [(12, 0.01, 0.01, 0), (7, -0.02, 0.005, 3), (25, 0.0, 0.01, 1),
                                                          (12, 0.02, 0.0, 2), (3, 0.05, 0.01, 4)])
def test_vectorised_signed_rank_equals_baycomp(n: int, shift: float, rope: float, seed: int) -> None:
    from baycomp import SignedRankTest

    rng = np.random.default_rng(seed)
    x = rng.uniform(0.2, 0.8, n)
    y = x + shift + rng.normal(0, 0.02, n)
    ours = signed_rank_probs(x, y, rope, n_samples=3000, seed=seed)
    theirs = SignedRankTest.probs(x, y, rope, nsamples=3000, random_state=seed)
    expected = theirs if rope > 0 else (theirs[0], 0.0, theirs[1])
    assert ours == pytest.approx(tuple(float(p) for p in expected), abs=1e-12)
