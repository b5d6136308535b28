"""The `sample_weight` extensions of foundation.metrics and the threshold choices on training data."""
from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score, matthews_corrcoef, precision_score, recall_score

from imbench.foundation.posthoc import choose_budget_threshold, choose_threshold
from imbench.foundation.metrics import equal_mass_edges, expected_calibration_error, threshold_metrics


def _sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.beta(0.6, 4, size=n)
    y = (rng.random(n) < np.clip(1.3 * p, 0, 1)).astype(int)
    return y, p


@pytest.mark.parametrize("n", [7, 10, 103, 1000])
def test_unit_weights_give_the_unweighted_ece(n: int) -> None:
    y, p = _sample(n, n)
    assert expected_calibration_error(y, p, 10, sample_weight=np.ones(n)) == pytest.approx(
        expected_calibration_error(y, p, 10), abs=1e-12)
    # a constant weight is no weight at all
    assert expected_calibration_error(y, p, 10, sample_weight=np.full(n, 3.7)) == pytest.approx(
        expected_calibration_error(y, p, 10), abs=1e-12)


def test_integer_weights_equal_replicated_rows() -> None:
    y = np.array([0, 1, 0, 1, 1, 0])
    p = np.array([0.1, 0.2, 0.35, 0.5, 0.8, 0.9])
    weights = np.array([2, 1, 1, 2, 3, 1])  # 10 replicated rows, 2 bins of 5 on both sides
    replicated_y, replicated_p = np.repeat(y, weights), np.repeat(p, weights)
    assert expected_calibration_error(y, p, 2, sample_weight=weights) == pytest.approx(
        expected_calibration_error(replicated_y, replicated_p, 2), abs=1e-12)


def test_weighted_ece_splits_a_straddling_row_by_hand() -> None:
    # weights 1, 2, 1 (total 4), 2 bins: the edge at 2 cuts the middle row in half
    y = np.array([0, 1, 1])
    p = np.array([0.2, 0.5, 0.6])
    # bin 1: 1×0.2 + 1×0.5 → mean p 0.35, mean y 0.5; bin 2: 1×0.5 + 1×0.6 → mean p 0.55, mean y 1
    expected = (abs(0.35 - 0.5) * 2 + abs(0.55 - 1.0) * 2) / 4
    assert expected_calibration_error(y, p, 2, sample_weight=np.array([1, 2, 1])) == pytest.approx(expected)


def test_equal_mass_edges_match_array_split() -> None:
    for n, k in ((10, 3), (7, 10), (100, 10)):
        sizes = [len(part) for part in np.array_split(np.arange(n), min(k, n))]
        assert np.diff(equal_mass_edges(n, k) * n) == pytest.approx(sizes)


def test_weighted_threshold_metrics_against_scikit_learn() -> None:
    y, p = _sample(400, 3)
    weights = np.where(y == 1, 2.5, 0.7)
    pred = (p >= 0.3).astype(int)
    m = threshold_metrics(y, p, 0.3, "@t", sample_weight=weights)
    assert m["f1@t"] == pytest.approx(f1_score(y, pred, sample_weight=weights))
    assert m["mcc@t"] == pytest.approx(matthews_corrcoef(y, pred, sample_weight=weights))
    assert m["balanced_accuracy@t"] == pytest.approx(balanced_accuracy_score(y, pred, sample_weight=weights))
    assert m["precision@t"] == pytest.approx(precision_score(y, pred, sample_weight=weights))
    assert m["recall@t"] == pytest.approx(recall_score(y, pred, sample_weight=weights))
    assert m["alert_rate@t"] == pytest.approx(np.sum(weights * pred) / np.sum(weights))
    assert threshold_metrics(y, p, 0.3, "") == threshold_metrics(y, p, 0.3, "", sample_weight=np.ones(400))
    none = threshold_metrics(y, p, 1.01, "", sample_weight=weights)  # no alert: precision undefined, not 0
    assert np.isnan(none["precision"]) and none["recall"] == none["f1"] == none["alert_rate"] == 0.0
    assert np.isnan(precision_score(y, p >= 1.01, sample_weight=weights, zero_division=np.nan))


Y = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0])
S = np.array([0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
# alerts at each threshold (highest first): precision 1, 1, 2/3, 3/4, 3/5, 1/2, 4/7, ...


def test_precision_target_takes_the_most_recall_meeting_it() -> None:
    def threshold(y: np.ndarray, s: np.ndarray, target: float) -> float:
        return choose_threshold(y, s, "precision", target).threshold

    assert threshold(Y, S, 0.75) == 0.8     # 3 of 4 alerts, recall 3/4
    assert threshold(Y, S, 0.55) == 0.5     # 4 of 7 alerts, recall 1
    assert threshold(Y, S, 1.0) == 0.9
    assert threshold(np.array([0, 1]), np.array([0.9, 0.1]), 0.9) == math.inf  # unreachable: no alert


def test_budget_outcomes() -> None:
    on_budget = choose_budget_threshold(Y, S, alert_rate=0.4, min_precision=0.7)
    assert (on_budget.threshold, on_budget.outcome) == (0.8, "on budget")
    assert on_budget.alert_rate == pytest.approx(0.4) and on_budget.precision == pytest.approx(0.75)
    floor = choose_budget_threshold(Y, S, alert_rate=0.5, min_precision=0.7)  # 5 alerts: precision 3/5 < 0.7
    assert (floor.threshold, floor.outcome) == (0.8, "floor")
    best = choose_budget_threshold(1 - Y, S, alert_rate=0.3, min_precision=0.9)  # top rows are negatives now
    assert best.outcome == "best precision" and best.precision == pytest.approx(1 / 3)
    assert best.threshold == 0.85
    tied = np.r_[0.9, 0.9, 0.9, S[3:]]  # the top three rows tie: no threshold alerts fewer than 30 %
    over = choose_budget_threshold(Y, tied, alert_rate=0.1, min_precision=0.5)
    assert (over.outcome, over.threshold, over.alert_rate) == ("over budget", math.inf, 0.0)  # never exceeded
    assert "3 of 10 rows" in over.reason
    below = choose_budget_threshold(Y, S, alert_rate=0.35, min_precision=0.5)  # 3.5 rows: 3 fit, 4 do not
    assert below.alert_rate == pytest.approx(0.3) and below.outcome == "on budget"
