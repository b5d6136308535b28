"""Metric values against scikit-learn and against cases computed by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit, logit
from sklearn.metrics import (average_precision_score, balanced_accuracy_score, brier_score_loss, f1_score, log_loss,
                             matthews_corrcoef, roc_auc_score)

from imbench.foundation.metrics import (MetricConfig, calibration_intercept_slope, compute_metrics,
                                expected_calibration_error, metric_direction, precision_at_recall,
                                recall_at_precision, threshold_metrics)

Y = np.array([0, 0, 1, 1])
P = np.array([0.1, 0.4, 0.35, 0.8])


def test_operating_points_by_hand() -> None:
    # thresholds 0.8: P=1, R=.5 | 0.4: P=2/3, R=.5 | 0.35: P=2/3, R=1 | 0.1: P=.5, R=1
    assert recall_at_precision(Y, P, 0.8) == pytest.approx(0.5)
    assert recall_at_precision(Y, P, 0.6) == pytest.approx(1.0)
    assert precision_at_recall(Y, P, 0.8) == pytest.approx(2 / 3)
    assert precision_at_recall(Y, P, 0.5) == pytest.approx(1.0)
    assert recall_at_precision(np.array([1, 0]), np.array([0.2, 0.9]), 0.99) == 0.0


def test_ece_equal_mass_by_hand() -> None:
    p = np.array([0.4, 0.1, 0.3, 0.2])
    y = np.array([1, 0, 1, 0])
    # bins {0.1, 0.2}: |0.15 - 0| ; {0.3, 0.4}: |0.35 - 1| → (0.15 + 0.65) / 2
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.4)
    assert expected_calibration_error(np.array([0, 1]), np.array([0.0, 1.0]), n_bins=2) == 0.0


def test_ece_bins_have_equal_mass() -> None:
    rng = np.random.default_rng(0)
    p = rng.beta(0.5, 5, size=1000)  # skewed: equal-width bins would be nearly empty at the top
    y = (rng.random(1000) < p).astype(int)
    one_bin = abs(p.mean() - y.mean())
    assert expected_calibration_error(y, p, n_bins=1) == pytest.approx(one_bin)
    assert expected_calibration_error(y, p, n_bins=10) < 0.05  # calibrated by construction


def test_against_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(500) < 0.1).astype(int)
    p = np.clip(0.1 + 0.5 * y + rng.normal(0, 0.2, 500), 0.001, 0.999)
    m = compute_metrics(y, p, MetricConfig(recall_at_precision=(0.5,), precision_at_recall=(0.5,)))
    assert m["ap"] == pytest.approx(average_precision_score(y, p))
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert m["brier"] == pytest.approx(brier_score_loss(y, p))
    assert m["log_loss"] == pytest.approx(log_loss(y, p))
    pred = (p >= 0.5).astype(int)
    assert m["f1@0.5"] == pytest.approx(f1_score(y, pred))
    assert m["mcc@0.5"] == pytest.approx(matthews_corrcoef(y, pred))
    assert m["balanced_accuracy@0.5"] == pytest.approx(balanced_accuracy_score(y, pred))
    assert m["prevalence"] == pytest.approx(y.mean())
    assert set(m) >= {"recall_at_precision0.5", "precision_at_recall0.5", "ece", "calibration_slope"}


def test_deployed_threshold_metrics() -> None:
    m = compute_metrics(Y, P, deployed_threshold=0.35)
    assert m["recall@deployed"] == 1.0
    assert m["precision@deployed"] == pytest.approx(2 / 3)
    assert m["alert_rate@deployed"] == pytest.approx(0.75)
    assert "f1@deployed" in m and "f1@0.5" in m


def test_calibration_intercept_slope_recovers_truth() -> None:
    rng = np.random.default_rng(2)
    p = rng.uniform(0.02, 0.98, 40000)
    y = (rng.random(p.size) < expit(0.5 + 2.0 * logit(p))).astype(int)
    intercept, slope = calibration_intercept_slope(y, p)
    assert intercept == pytest.approx(0.5, abs=0.06)
    assert slope == pytest.approx(2.0, abs=0.08)
    y_cal = (rng.random(p.size) < p).astype(int)
    intercept, slope = calibration_intercept_slope(y_cal, p)
    assert abs(intercept) < 0.06 and slope == pytest.approx(1.0, abs=0.05)


def test_random_scorer_ap_is_prevalence() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(200000) < 0.05).astype(int)
    m = compute_metrics(y, rng.random(y.size))
    assert m["ap"] == pytest.approx(m["prevalence"], abs=0.005)


@pytest.mark.parametrize(("name", "direction"), [("ap", "higher"), ("ece", "lower"), ("brier", "lower"),
                                                 ("log_loss", "lower"), ("recall_at_precision0.9", "higher")])
def test_directions(name: str, direction: str) -> None:
    assert metric_direction(name) == direction


def test_calibration_fit_agrees_with_scikit_learn() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(4)
    p = rng.beta(1, 8, 3000)
    y = (rng.random(p.size) < np.clip(1.5 * p, 0, 1)).astype(int)
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10000).fit(logit(p).reshape(-1, 1), y)
    intercept, slope = calibration_intercept_slope(y, p)
    assert intercept == pytest.approx(reference.intercept_[0], abs=1e-5)
    assert slope == pytest.approx(reference.coef_[0, 0], abs=1e-5)


def test_calibration_fit_is_nan_when_separated() -> None:
    intercept, slope = calibration_intercept_slope(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9]))
    assert np.isnan(intercept) and np.isnan(slope)
    # quasi-separated: the classes meet only at a tie (0.6); iterating alone, Newton's steps shrank
    # below the tolerance at intercept −19.3, slope 47.7, an optimum that does not exist
    y = np.array([1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0])
    p = np.array([1.0, 0.2, 0.1, 0.9, 0.1, 0.9, 0.4, 0.9, 0.8, 0.2, 0.6, 0.2, 1.0, 0.0, 0.1, 0.9, 0.1, 0.1,
                  1.0, 0.2, 0.9, 0.9, 0.6, 0.9, 0.0, 0.1, 0.2])
    assert np.isnan(calibration_intercept_slope(y, p)[1])
    assert np.isnan(calibration_intercept_slope(1 - y, p)[1])


def test_calibration_fit_on_small_overlapping_folds_agrees_with_scikit_learn() -> None:
    """Small folds whose classes overlap (the MLE exists) get scikit-learn's unpenalised fit, not NaN."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(5)
    checked = 0
    for _ in range(40):
        y = (rng.random(30) < 0.3).astype(int)
        p = expit(1.5 * (y - 0.5) + rng.normal(size=y.size))
        z = logit(p)
        if y.min() == y.max() or z[y == 0].max() <= z[y == 1].min():
            continue
        reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=100000).fit(z.reshape(-1, 1), y)
        intercept, slope = calibration_intercept_slope(y, p)
        assert intercept == pytest.approx(reference.intercept_[0], abs=1e-4)
        assert slope == pytest.approx(reference.coef_[0, 0], abs=1e-4)
        checked += 1
    assert checked >= 30


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.9, 1.01])
def test_threshold_metrics_match_scikit_learn(threshold: float) -> None:
    from sklearn.metrics import precision_score, recall_score

    rng = np.random.default_rng(5)
    y = (rng.random(400) < 0.15).astype(int)
    p = np.clip(0.3 * y + rng.random(400) * 0.7, 0, 1)
    pred = (p >= threshold).astype(int)
    m = compute_metrics(y, p, deployed_threshold=threshold)
    assert m["f1@deployed"] == pytest.approx(f1_score(y, pred, zero_division=0.0))
    assert m["mcc@deployed"] == pytest.approx(matthews_corrcoef(y, pred))
    assert m["balanced_accuracy@deployed"] == pytest.approx(balanced_accuracy_score(y, pred))
    # no alert (threshold 1.01): precision is undefined, NaN, as scikit-learn's zero_division=nan says
    assert m["precision@deployed"] == pytest.approx(precision_score(y, pred, zero_division=np.nan), nan_ok=True)
    assert m["recall@deployed"] == pytest.approx(recall_score(y, pred))


def test_no_alert_has_undefined_precision_and_zero_rates() -> None:
    """An empty alert list has no precision (NaN, never 0: a 0 would be averaged in as a useless list);
    recall, F1, alert rate are 0. `math.inf` is the "no alert" threshold of foundation.posthoc."""
    for threshold in (0.81, math.inf):
        m = threshold_metrics(Y, P, threshold, "")
        assert math.isnan(m["precision"])
        assert m["recall"] == m["f1"] == m["alert_rate"] == m["mcc"] == 0.0
        assert m["balanced_accuracy"] == 0.5


@pytest.mark.parametrize("seed", range(6))
def test_ranking_metrics_match_scikit_learn_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    y = (rng.random(n) < rng.uniform(0.02, 0.4)).astype(int)
    y[:2] = [0, 1]
    p = np.round(np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1), int(rng.integers(1, 4)))  # many ties
    m = compute_metrics(y, p, MetricConfig(recall_at_precision=(0.3, 0.6, 0.9), precision_at_recall=(0.2, 0.8)))
    assert m["ap"] == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert m["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert m["log_loss"] == pytest.approx(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15)), rel=1e-9)
    for level in (0.3, 0.6, 0.9):  # the public helpers read scikit-learn's own precision_recall_curve
        assert m[f"recall_at_precision{level:g}"] == pytest.approx(recall_at_precision(y, p, level))
    for level in (0.2, 0.8):
        assert m[f"precision_at_recall{level:g}"] == pytest.approx(precision_at_recall(y, p, level))
