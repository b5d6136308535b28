"""foundation.posthoc: exact threshold search, calibration from stored out-of-fold predictions and prior
correction, against a brute-force search in exact arithmetic, hand computations and scikit-learn's
`CalibratedClassifierCV(ensemble=False)`."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split

from imbench.foundation.metrics import threshold_metrics
from imbench.foundation.posthoc import (
    ThresholdChoice,
    adjust_prior,
    choose_threshold,
    fit_calibrator,
    odds,
    prior_correct,
)
from tests.helpers import LogitScores

# --- threshold search: brute force in exact arithmetic --------------------------------------------


def brute_force(y: np.ndarray, s: np.ndarray, objective: str, level: float | None) -> tuple[float, str]:
    """(threshold, outcome) by trying every observed score and "no alert" one by one, with exact
    fractions; a level means the decimal the user typed (0.85 is 17/20). Ties: fewest alerts."""
    n, n_pos = len(y), int(y.sum())
    target = Fraction(str(level)) if level is not None else None
    best: tuple[Fraction, int, float] | None = None  # (value, -alerts, threshold): max wins
    for t in [math.inf, *sorted(set(s.tolist()))]:
        flagged = s >= t
        alerts, tp = int(flagged.sum()), int((flagged & (y == 1)).sum())
        fp, fn = alerts - tp, n_pos - tp
        value: Fraction | None
        if objective == "f1":
            value = Fraction(2 * tp, alerts + n_pos) if alerts + n_pos else Fraction(0)
        elif objective == "precision":
            ok = alerts > 0 and Fraction(tp, alerts) >= target
            value = (Fraction(tp, n_pos) if n_pos else Fraction(0)) if ok else None
        elif objective == "recall":
            value = Fraction(tp, alerts) if n_pos and Fraction(tp, n_pos) >= target else None
        elif objective == "alert":
            value = Fraction(alerts) if alerts <= target * n else None
        else:  # cost
            value = -(fp + target * fn)
        if value is not None and (best is None or (value, -alerts) > best[:2]):
            best = (value, -alerts, t)
    if best is None:
        return math.inf, "unreachable"
    if objective == "alert" and best[1] == 0:
        return math.inf, "over budget"
    return best[2], "met"


CASES = [("f1", None), ("precision", 0.3), ("precision", 0.5), ("precision", 0.85), ("precision", 1.0),
         ("recall", 0.2), ("recall", 0.8), ("recall", 1.0), ("alert", 0.01), ("alert", 0.05), ("alert", 0.29),
         ("alert", 1.0), ("cost", 0.5), ("cost", 2.0), ("cost", 7.5), ("cost", 19.0)]


@pytest.mark.parametrize("seed", range(8))
def test_threshold_search_equals_brute_force_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 300))
    y = (rng.random(n) < rng.uniform(0.03, 0.4)).astype(int)
    y[0] = 1
    decimals = int(rng.integers(1, 3))  # 1 or 2 decimals: many ties, some of them at the top
    s = np.round(np.clip(rng.uniform(0, 0.6, n) + 0.35 * y * rng.random(n), 0, 1), decimals)
    for objective, level in CASES:
        choice = choose_threshold(y, s, objective, level)
        expected_threshold, expected_outcome = brute_force(y, s, objective, level)
        assert (choice.threshold, choice.outcome) == (expected_threshold, expected_outcome), (objective, level)
        assert choice.threshold == math.inf or choice.threshold in set(s.tolist())
        # the stats the choice reports are those of the shared test-fold helper on the same predictions
        m = threshold_metrics(y, s, choice.threshold, "")
        assert choice.precision == pytest.approx(m["precision"], nan_ok=True)
        assert (choice.recall, choice.alert_rate) == pytest.approx((m["recall"], m["alert_rate"]))
        assert (choice.reason == "") == (choice.outcome == "met")


def test_tie_break_is_the_fewest_alerts() -> None:
    # F1 at 0.9: 2·1/(1 + 2) = 2/3; at 0.6: 2·2/(4 + 2) = 2/3 as well → the higher threshold
    y, s = np.array([1, 0, 0, 1]), np.array([0.9, 0.8, 0.7, 0.6])
    choice = choose_threshold(y, s, "f1")
    assert (choice.threshold, choice.objective, choice.alert_rate) == (0.9, pytest.approx(2 / 3), 0.25)
    # precision ≥ 0.5: recall 1 at 0.7 (2 of 3) and at 0.6 (2 of 4) → 0.7
    y, s = np.array([1, 0, 1, 0, 0]), np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    assert choose_threshold(y, s, "precision", 0.5).threshold == 0.7
    # recall ≥ 0.5: precision 1 at 0.9 only; recall ≥ 1: precision 2/3 at 0.7, 2/4 at 0.6 → 0.7
    assert choose_threshold(y, s, "recall", 0.5).threshold == 0.9
    assert choose_threshold(y, s, "recall", 1.0).threshold == 0.7


def test_cost_objective_by_hand() -> None:
    s = np.array([0.9, 0.8, 0.7, 0.4, 0.3, 0.2])
    y = np.array([1, 0, 1, 0, 0, 1])
    # FP + 2·FN per candidate: none 0+6=6 | 0.9: 0+4=4 | 0.8: 1+4=5 | 0.7: 1+2=3 | 0.4: 2+2=4 | 0.3: 3+2=5 |
    # 0.2: 3+0=3 → 0.7 and 0.2 tie at 3: the fewest alerts, 0.7; cost per case 3/6
    choice = choose_threshold(y, s, "cost", 2.0)
    assert (choice.threshold, choice.outcome, choice.objective) == (0.7, "met", pytest.approx(0.5))
    assert (choice.precision, choice.recall, choice.alert_rate) == pytest.approx((2 / 3, 2 / 3, 0.5))
    # FP + 0.5·FN: none 1.5 | 0.9: 1.0 | 0.8: 2.0 | 0.7: 1.5 | 0.4: 2.5 | 0.3: 3.5 | 0.2: 3.0 → 0.9, 1/6 per case
    choice = choose_threshold(y, s, "cost", 0.5)
    assert (choice.threshold, choice.objective) == (0.9, pytest.approx(1 / 6))
    # the top score a negative, FP + 0.2·FN: none 0.6 | 0.9: 1.6 | 0.8: 1.4 | 0.7: 1.2 | 0.4: 2.2 | 0.3: 3.2 |
    # 0.2: 3.0 → no alert is the cheapest, 0.1 per case
    choice = choose_threshold(np.array([0, 1, 1, 0, 0, 1]), s, "cost", 0.2)
    assert (choice.threshold, choice.objective, choice.alert_rate) == (math.inf, pytest.approx(0.1), 0.0)


def test_precision_target_met_when_positives_sit_in_the_top_half_percent_of_the_range() -> None:
    """The case of the issue: boosted or resampled models put every positive in the top 0.5 % of the
    score range; an exact search deploys a threshold inside that band, below the maximum score."""
    rng = np.random.default_rng(12)
    n_pos, n_neg = 252, 12_348  # 12,600 rows, 2 % positives
    s = np.r_[0.995 + 0.005 * rng.random(n_pos),                        # positives: the top 0.5 %
              0.995 + 0.005 * rng.random(120) ** 4,                      # a few negatives in the band, low in it
              0.995 * rng.random(n_neg - 120)]                           # the rest below
    y = np.r_[np.ones(n_pos, int), np.zeros(n_neg, int)]
    choice = choose_threshold(y, s, "precision", 0.85)
    assert choice.outcome == "met" and choice.reason == ""
    assert 0.995 < choice.threshold < s.max()
    m = threshold_metrics(y, s, choice.threshold, "")
    assert m["precision"] >= 0.85 and choice.precision == pytest.approx(m["precision"])
    assert choice.recall == pytest.approx(m["recall"]) and choice.recall > 0.4  # the maximum score alone: 1/252
    assert (choice.threshold, choice.outcome) == brute_force(y, s, "precision", 0.85)


def test_level_compared_with_a_relative_tolerance() -> None:
    # 17 true of 20 flagged meets 0.85 (17/20 and 0.85 round to the same float, so this needs no tolerance)
    y = np.r_[np.ones(17, int), np.zeros(3, int), np.zeros(30, int)]
    s = np.r_[np.full(20, 0.9), np.linspace(0.1, 0.5, 30)]
    choice = choose_threshold(y, s, "precision", 0.85)
    assert (choice.threshold, choice.outcome, choice.precision) == (0.9, "met", pytest.approx(0.85))
    # a level computed upstream: 0.1 × 3 is 0.30000000000000004, and 3 of 10 flagged still meets it
    y = np.r_[np.ones(3, int), np.zeros(17, int)]
    s = np.r_[np.full(10, 0.9), np.full(10, 0.1)]
    assert choose_threshold(y, s, "precision", 0.1 * 3).outcome == "met"
    y = np.r_[np.ones(3, int), np.ones(7, int), np.zeros(10, int)]  # recall 3/10 at 0.9, with precision 1
    assert choose_threshold(y, s, "recall", 0.1 * 3).threshold == 0.9
    # 0.29 × 100 is 28.999999999999996 in floating point: a budget of 29 rows still flags 29
    s = np.linspace(0, 1, 100)
    assert choose_threshold(np.r_[np.zeros(99, int), 1], s, "alert", 0.29).alert_rate == pytest.approx(0.29)


def _assert_no_alert(choice: ThresholdChoice, outcome: str, *fragments: str) -> None:
    assert choice.outcome == outcome and choice.threshold == math.inf
    assert math.isnan(choice.precision) and choice.recall == 0.0 and choice.alert_rate == 0.0
    assert "\n" not in choice.reason and all(fragment in choice.reason for fragment in fragments), choice.reason


def test_unreachable_precision_deploys_no_alert_and_says_why() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.1).astype(int)
    s = np.round(0.2 * y + rng.random(400), 2)
    s[np.argmax(s)] = 1.3  # the single highest score is a negative: precision is never 1
    y[np.argmax(s)] = 0
    best = max(threshold_metrics(y, s, t, "")["precision"] for t in np.unique(s))
    choice = choose_threshold(y, s, "precision", 0.95)
    _assert_no_alert(choice, "unreachable", f"{best:.4g}", "< 0.95")
    assert best < 0.95 and choice.objective == 0.0  # recall with no alert


def test_recall_without_positives_is_unreachable() -> None:
    choice = choose_threshold(np.zeros(20, int), np.linspace(0, 1, 20), "recall", 0.8)
    _assert_no_alert(choice, "unreachable", "no positive")


def test_alert_budget_is_never_silently_exceeded() -> None:
    # five rows tie at the top: the fewest alerts any threshold gives is 5 > 0.01 × 100 = 1
    s = np.r_[np.full(5, 0.99), np.linspace(0, 0.9, 95)]
    y = np.r_[1, 0, 1, 0, 0, (np.arange(95) % 10 == 0).astype(int)]
    _assert_no_alert(choose_threshold(y, s, "alert", 0.01), "over budget", "5 of 100", "5 rows tie", "= 1 rows")
    # a budget below one row (0.01 × 50 = 0.5)
    _assert_no_alert(choose_threshold(y[:50], np.linspace(0, 1, 50), "alert", 0.01), "over budget",
                     "1 of 50", "below one row", "0.5 rows")
    # within budget: 0.06 × 100 = 6 rows allowed, the tie of 5 plus the next row
    choice = choose_threshold(y, s, "alert", 0.06)
    assert (choice.outcome, choice.alert_rate, choice.threshold) == ("met", 0.06, pytest.approx(0.9))


@pytest.mark.parametrize(("objective", "level"), [("auc", None), ("f1", 0.5), ("precision", None),
                                                  ("precision", 0.0), ("recall", 1.5), ("alert", -0.1),
                                                  ("cost", 0.0), ("cost", -2.0), ("cost", math.inf)])
def test_invalid_objective_or_level_is_one_line(objective: str, level: float | None) -> None:
    with pytest.raises(ValueError) as error:
        choose_threshold(np.array([0, 1]), np.array([0.2, 0.8]), objective, level)
    assert "\n" not in str(error.value) and objective in str(error.value)


# --- calibration: CalibratedClassifierCV(ensemble=False) -----------------------------------------



@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
@pytest.mark.parametrize("seed", [0, 1])
def test_calibration_equals_calibrated_classifier_cv_without_ensemble(method: str, seed: int) -> None:
    X, y = make_classification(n_samples=1500, n_features=8, n_informative=4, weights=[0.9], flip_y=0.03,
                               random_state=seed)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    model = LogisticRegression(C=0.3, max_iter=1000)
    folds = StratifiedKFold(3, shuffle=True, random_state=seed)
    reference = CalibratedClassifierCV(LogitScores(model), method=method, cv=folds, ensemble=False)
    expected = reference.fit(X_train, y_train).predict_proba(X_test)[:, 1]
    # what a cell stores: inner out-of-fold predictions with their fold ids, the final model's test predictions
    oof = cross_val_predict(model, X_train, y_train, cv=folds, method="predict_proba")[:, 1]
    fold_ids = np.empty(len(y_train), int)
    for fold, (_, held_out) in enumerate(folds.split(X_train, y_train)):
        fold_ids[held_out] = fold
    test_proba = clone(model).fit(X_train, y_train).predict_proba(X_test)[:, 1]
    assert 1e-12 < min(oof.min(), test_proba.min()) and max(oof.max(), test_proba.max()) < 1 - 1e-12  # unsaturated

    calibrated = fit_calibrator(y_train, oof, method, fold_ids).apply(test_proba)
    np.testing.assert_allclose(calibrated, expected, rtol=0, atol=1e-9)
    assert np.abs(calibrated - test_proba).max() > 1e-3  # calibration did change something
    if method == "isotonic":  # isotonic on p, not logit p, interpolates new points differently
        on_p = IsotonicRegression(out_of_bounds="clip").fit(oof, y_train).predict(test_proba)
        assert np.abs(on_p - expected).max() > 1e-6


def test_calibrator_maps_the_whole_unit_interval_and_refuses_bad_input() -> None:
    rng = np.random.default_rng(5)
    p = rng.random(300)
    y = (rng.random(300) < p).astype(int)
    for method in ("sigmoid", "isotonic"):
        out = fit_calibrator(y, p, method).apply(np.array([0.0, 0.3, 1.0]))
        assert np.all((out >= 0) & (out <= 1)) and out[0] <= out[1] <= out[2]
    sigmoid = fit_calibrator(y, p, "sigmoid")
    assert set(sigmoid.params) == {"a", "b"} and sigmoid.params["a"] < 0  # p = 1/(1 + exp(a·logit p + b))
    for bad in (lambda: fit_calibrator(y, p, "beta"), lambda: fit_calibrator(np.zeros(300, int), p, "sigmoid"),
                lambda: fit_calibrator(y, p, "isotonic", fold_ids=np.zeros(10)),
                lambda: fit_calibrator(y, p * 2, "sigmoid"), lambda: sigmoid.apply(np.array([0.5, np.nan]))):
        with pytest.raises(ValueError):
            bad()


# --- prior correction ----------------------------------------------------------------------------


def test_prior_correction_round_trip_and_fixed_points() -> None:
    p = np.r_[0.0, np.linspace(0.01, 0.99, 50), 1.0]
    there = adjust_prior(p, 0.05, 0.5)
    np.testing.assert_allclose(adjust_prior(there, 0.5, 0.05), p, rtol=0, atol=1e-12)
    assert there[0] == 0.0 and there[-1] == 1.0
    # π' = 0.5 (balanced by resampling) back to π = 0.1: p = 0.5 has odds 1 → odds 1/9 → p = 0.1
    assert prior_correct(np.array([0.0, 0.5, 1.0]), train_prior=0.1, model_prior=0.5).tolist() == \
        pytest.approx([0.0, 0.1, 1.0])
    assert odds(0.2) == pytest.approx(0.25)
    # one row per prior of a column
    rows = adjust_prior(p, 0.05, np.array([[0.05], [0.2], [0.5]]))
    assert rows.shape == (3, p.size) and np.allclose(rows[0], p) and np.allclose(rows[2], there)
    with pytest.raises(ValueError):
        prior_correct(p, train_prior=0.0, model_prior=0.5)


def test_analysis_uses_the_ground_floor_prior_correction() -> None:
    from imbench.analysis import prior_shift

    assert prior_shift.adjust_prior is adjust_prior and prior_shift.odds is odds
