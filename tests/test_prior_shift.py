"""Label-shift arithmetic: reweighting vs explicit subsampling, invariances, the precision formula,
Bayes prior correction, the EM prior estimate, and the training-prior rule."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, logit
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from imbench.analysis.prior_shift import (PRIOR_BOUNDS, ShiftInputError, adjust_prior, class_weights, em_prior, model_prior,
                                  parse_shifts, shift_weights, shifted_prior)
from imbench.analysis.shift_metrics import RankingCurve, SortedFold, weighted_brier, weighted_log_loss
from imbench.foundation.metrics import expected_calibration_error, threshold_metrics


def _calibrated_sample(n: int, prior: float, rng: np.random.Generator, separation: float = 1.5
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Labels at `prior` and the exact posterior P(y=1|x) for x|y ~ N(±separation/2, 1) at that prior."""
    y = (rng.random(n) < prior).astype(int)
    x = rng.normal(np.where(y == 1, separation / 2, -separation / 2), 1.0)
    return y, expit(separation * x + logit(prior))


def _fold(n_pos: int, n_neg: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(n_pos, int), np.zeros(n_neg, int)]
    proba = expit(1.3 * rng.normal(1.2 * y, 1.0) - 2.5)
    return y, proba


def _reweighted(y: np.ndarray, proba: np.ndarray, target: float, threshold: float) -> dict[str, float]:
    fold = SortedFold.from_arrays(y, proba)
    w_pos, w_neg = class_weights(fold.prevalence, target)
    weights = fold.class_weight_rows(np.array([w_pos]), np.array([w_neg]))
    out = {"ap": float(fold.curve.average_precision(w_pos, w_neg)[0]), "roc_auc": fold.curve.roc_auc()}
    out.update({k: float(v[0]) for k, v in fold.probability_metrics(fold.proba[None], weights, 10).items()})
    out.update({k: float(v[0]) for k, v in fold.decision_metrics(fold.proba[None], weights,
                                                                  np.array([threshold])).items()})
    return out


def _subsampled(y: np.ndarray, proba: np.ndarray, n_pos: int, n_neg: int, threshold: float, k: int,
                rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Metrics (scikit-learn's, independent of the code under test) on k explicit subsamples."""
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    values: dict[str, list[float]] = {m: [] for m in ("ap", "roc_auc", "brier", "log_loss", "ece", "precision",
                                                       "recall", "alert_rate")}
    for _ in range(k):
        rows = np.r_[rng.choice(pos, n_pos, replace=False), rng.choice(neg, n_neg, replace=False)]
        ys, ps = y[rows], proba[rows]
        values["ap"].append(average_precision_score(ys, ps))
        values["roc_auc"].append(roc_auc_score(ys, ps))
        values["brier"].append(brier_score_loss(ys, ps))
        values["log_loss"].append(log_loss(ys, ps))
        values["ece"].append(expected_calibration_error(ys, ps, 10))
        alerted = ps >= threshold
        values["precision"].append(ys[alerted].mean())
        values["recall"].append(alerted[ys == 1].mean())
        values["alert_rate"].append(alerted.mean())
    return {m: np.array(v) for m, v in values.items()}


@pytest.mark.parametrize("n_pos, n_neg, sub_pos, sub_neg", [
    (200, 1800, 200, 800),   # positives doubled: all positives, negatives subsampled (π 0.1 → 0.2)
    (200, 1800, 90, 1800),   # positives halved: all negatives, positives subsampled (π 0.1 → ≈0.048)
])
def test_reweighting_matches_explicit_subsampling(n_pos: int, n_neg: int, sub_pos: int, sub_neg: int) -> None:
    y, proba = _fold(n_pos, n_neg)
    target = sub_pos / (sub_pos + sub_neg)
    threshold = 0.3
    weighted = _reweighted(y, proba, target, threshold)
    samples = _subsampled(y, proba, sub_pos, sub_neg, threshold, k=200, rng=np.random.default_rng(1))
    for metric, values in samples.items():
        mean, sd = values.mean(), values.std(ddof=1)
        standard_error = sd / np.sqrt(len(values))
        if metric in ("ap", "ece"):
            # a ratio (AP) and a binned statistic (ECE) are biased on the smaller subsamples by part of one
            # subsample's spread: agreement within the sampling error of one subsample. The unshifted
            # values lie 4.6–46 sd away (except ECE when doubling, 0.3 sd: the exact weighted-ECE checks
            # are in tests/test_metrics_weighted.py)
            assert abs(weighted[metric] - mean) < sd, metric
        else:
            # sums over rows (and ROC AUC, a U-statistic): subsampling is unbiased for the reweighted value
            assert abs(weighted[metric] - mean) <= 4 * standard_error + 1e-12, metric


def test_weighted_metrics_equal_scikit_learn_with_sample_weight() -> None:
    y, proba = _fold(60, 340, seed=3)
    proba = np.round(proba, 2)  # ties, which AP and ROC must group as scikit-learn does
    for shift in (0.5, 1.0, 1.5, 3.0):
        target = shifted_prior(y.mean(), shift)
        weights = shift_weights(y, target)
        w_pos, w_neg = class_weights(y.mean(), target)
        curve = RankingCurve.from_scores(y, proba)
        assert curve.average_precision(w_pos, w_neg)[0] == pytest.approx(
            average_precision_score(y, proba, sample_weight=weights), abs=1e-12)
        assert curve.roc_auc() == pytest.approx(roc_auc_score(y, proba, sample_weight=weights), abs=1e-12)
        assert weighted_brier(y, proba, weights)[0] == pytest.approx(
            brier_score_loss(y, proba, sample_weight=weights), abs=1e-12)
        assert weighted_log_loss(y, proba, weights)[0] == pytest.approx(
            log_loss(y, proba, sample_weight=weights), abs=1e-12)


def test_roc_auc_is_invariant_to_the_shift() -> None:
    y, proba = _fold(40, 460, seed=5)
    unshifted = roc_auc_score(y, proba)
    for shift in (0.25, 0.5, 2.0, 4.0):
        weights = shift_weights(y, shifted_prior(y.mean(), shift))
        assert roc_auc_score(y, proba, sample_weight=weights) == pytest.approx(unshifted, abs=1e-12)
    assert RankingCurve.from_scores(y, proba).roc_auc() == pytest.approx(unshifted, abs=1e-12)


def test_average_precision_of_a_random_scorer_is_the_shifted_prevalence() -> None:
    rng = np.random.default_rng(7)
    y = (rng.random(200_000) < 0.05).astype(int)
    curve = RankingCurve.from_scores(y, rng.random(y.size))
    for shift in (0.5, 1.0, 2.0, 4.0):
        target = shifted_prior(y.mean(), shift)
        ap = curve.average_precision(*class_weights(y.mean(), target))[0]
        assert ap == pytest.approx(target, rel=0.06)


def test_precision_at_a_fixed_threshold_follows_the_label_shift_formula() -> None:
    y, proba = _fold(80, 920, seed=11)
    threshold = 0.25
    alerted = proba >= threshold
    tpr, fpr = alerted[y == 1].mean(), alerted[y == 0].mean()
    for shift in (0.5, 0.67, 1.5, 2.0, 5.0):
        target = shifted_prior(y.mean(), shift)
        m = threshold_metrics(y, proba, threshold, "", sample_weight=shift_weights(y, target))
        assert m["precision"] == pytest.approx(target * tpr / (target * tpr + (1 - target) * fpr), abs=1e-12)
        assert m["recall"] == pytest.approx(tpr, abs=1e-12)  # recall never moves under label shift
        assert m["alert_rate"] == pytest.approx(target * tpr + (1 - target) * fpr, abs=1e-12)


def test_shifted_prior_is_clipped_into_the_open_interval() -> None:
    assert shifted_prior(0.4, 2.0) == pytest.approx(0.8)
    assert shifted_prior(0.6, 2.0) == PRIOR_BOUNDS[1]
    assert shifted_prior(1e-4, 0.5) == PRIOR_BOUNDS[0]
    w_pos, w_neg = class_weights(0.1, 0.2)
    assert (w_pos, w_neg) == pytest.approx((2.0, 0.8 / 0.9))
    y = np.r_[np.ones(10), np.zeros(90)]
    assert shift_weights(y, 0.2).sum() == pytest.approx(100)  # total weight = rows


def test_parse_shifts() -> None:
    assert parse_shifts("2, 0.5,1.5") == (0.5, 1.0, 1.5, 2.0)  # sorted, 1 added as the reference
    for bad in ("0,1", "-1", "a,b", "", "nan"):
        with pytest.raises(ShiftInputError):
            parse_shifts(bad)


def test_bayes_adjustment_restores_calibration_at_the_new_prior() -> None:
    rng = np.random.default_rng(2)
    # a model trained (and calibrated) at prior 0.5, as after under-sampling to 1:1, deployed at 0.05
    y, calibrated = _calibrated_sample(40_000, 0.05, rng)
    trained_at_half = expit(logit(calibrated) - logit(0.05))  # the same scores' posterior at prior 0.5
    corrected = adjust_prior(trained_at_half, 0.5, 0.05)
    assert corrected == pytest.approx(calibrated)
    assert expected_calibration_error(y, trained_at_half) > 0.2
    assert expected_calibration_error(y, corrected) < 0.01
    assert adjust_prior(corrected, 0.05, 0.5) == pytest.approx(trained_at_half)
    assert adjust_prior(np.array([0.0, 1.0]), 0.5, 0.01).tolist() == [0.0, 1.0]


def test_em_recovers_a_known_prior_from_calibrated_scores() -> None:
    rng = np.random.default_rng(4)
    for true_prior in (0.03, 0.1, 0.3):
        # scores of a model calibrated at its training prior 0.1, on unlabelled data at another prior
        y = (rng.random(20_000) < true_prior).astype(int)
        x = rng.normal(np.where(y == 1, 0.75, -0.75), 1.0)
        proba = expit(1.5 * x + logit(0.1))
        estimate, converged = em_prior(proba, 0.1)
        # tolerance: 0.01 absolute ≈ 3 standard errors of a prior estimated from 20 000 unlabelled rows
        assert converged.all()
        assert estimate[0] == pytest.approx(y.mean(), abs=0.01)


def test_em_on_a_reweighted_fold_estimates_every_shifted_prior_at_once() -> None:
    rng = np.random.default_rng(6)
    y = (rng.random(30_000) < 0.1).astype(int)
    x = rng.normal(np.where(y == 1, 0.75, -0.75), 1.0)
    proba = expit(1.5 * x + logit(0.1))
    targets = np.array([0.05, 0.1, 0.2])
    weights = np.stack([shift_weights(y, t) for t in targets])
    estimate, converged = em_prior(proba, 0.1, weights)
    assert converged.all()
    assert estimate == pytest.approx(targets, abs=0.012)


def test_model_prior_is_what_the_cell_recorded() -> None:
    """Analysis takes the prior each cell recorded (no strategy registry); a cell with no known prior
    is assumed to predict at the training fold's prevalence, and says so."""
    assert model_prior(0.5, "measured", 0.1) == (0.5, "measured")
    assert model_prior(0.45, "weights", 0.1) == (0.45, "weights")
    assert model_prior(0.1, "data", 0.1) == (0.1, "data")
    assert model_prior(None, "unknown", 0.1) == (0.1, "assumed")
    assert model_prior(1.0, "declared", 0.2) == (0.2, "assumed")  # not a usable prior
    assert model_prior(0.3, "no-such-rule", 0.2) == (0.2, "assumed")
