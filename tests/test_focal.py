"""Focal loss: the hand-derived gradient and hessian against finite differences, probabilities as
sigmoid of the raw margin for XGBoost and LightGBM, and pickling of fitted models."""
from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from scipy.special import expit
from sklearn.metrics import average_precision_score

from imbench.strategies import get_model, get_strategy
from imbench.strategies.focal import (HESSIAN_FLOOR, FocalBoostedClassifier, FocalObjective, focal_grad_hess, focal_loss,
                              raw_margin)

Z = np.linspace(-9, 9, 73)


@pytest.mark.parametrize("label", [0, 1])
@pytest.mark.parametrize(("gamma", "alpha"), [(0.0, 0.5), (2.0, 0.25), (0.5, 0.9), (5.0, 0.1)])
def test_gradient_and_hessian_match_finite_differences(label: int, gamma: float, alpha: float) -> None:
    y = np.full_like(Z, label)
    grad, hess = focal_grad_hess(y, Z, gamma, alpha)
    h = 1e-5
    numeric_grad = (focal_loss(y, Z + h, gamma, alpha) - focal_loss(y, Z - h, gamma, alpha)) / (2 * h)
    numeric_hess = (focal_grad_hess(y, Z + h, gamma, alpha)[0] - focal_grad_hess(y, Z - h, gamma, alpha)[0]) / (2 * h)
    second_difference = (focal_loss(y, Z + 1e-3, gamma, alpha) - 2 * focal_loss(y, Z, gamma, alpha)
                         + focal_loss(y, Z - 1e-3, gamma, alpha)) / 1e-6
    np.testing.assert_allclose(grad, numeric_grad, atol=1e-8)
    np.testing.assert_allclose(hess, numeric_hess, atol=1e-8)
    np.testing.assert_allclose(hess, second_difference, atol=1e-5)


def test_gamma_zero_is_weighted_log_loss() -> None:
    """γ = 0, α = ½: half the log loss, whose gradient is (p − y)/2 and hessian p(1 − p)/2."""
    y = (Z > 0.3).astype(float)
    p = expit(Z)
    grad, hess = focal_grad_hess(y, Z, 0.0, 0.5)
    np.testing.assert_allclose(grad, (p - y) / 2, atol=1e-12)
    np.testing.assert_allclose(hess, p * (1 - p) / 2, atol=1e-12)
    np.testing.assert_allclose(focal_loss(y, Z, 0.0, 0.5), -(y * np.log(p) + (1 - y) * np.log(1 - p)) / 2, rtol=1e-9)


def test_loss_by_hand() -> None:
    # y = 1 at z = 0: p = ½, FL = −α (1 − p)^γ log p = −0.25 · 0.25 · log ½
    assert focal_loss(np.array([1]), np.array([0.0]), 2.0, 0.25)[0] == pytest.approx(0.25 * 0.25 * math.log(2))
    # y = 0 at z = 2: −(1 − α) p^γ log(1 − p)
    p = expit(2.0)
    assert focal_loss(np.array([0]), np.array([2.0]), 2.0, 0.25)[0] == pytest.approx(-0.75 * p**2 * math.log(1 - p))


def test_objective_floors_the_negative_hessian_only() -> None:
    y = np.ones_like(Z)
    grad, hess = focal_grad_hess(y, Z, 2.0, 0.25)
    assert hess.min() < 0  # badly misclassified positives: the focal loss is locally concave
    obj_grad, obj_hess = FocalObjective(2.0, 0.25)(y, Z)
    np.testing.assert_array_equal(obj_grad, grad)
    np.testing.assert_array_equal(obj_hess, np.maximum(hess, HESSIAN_FLOOR))


def _separable(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.15).astype(int)
    X = rng.normal(size=(n, 3)) + 1.5 * y[:, None] * np.array([1.0, 1.0, 0.0])
    return X, y


@pytest.mark.parametrize("model", ["xgboost", "lightgbm"])
def test_probabilities_are_sigmoid_of_the_raw_margin(model: str) -> None:
    X, y = _separable()
    clf = FocalBoostedClassifier(get_model(model).make(0).set_params(n_estimators=30), gamma=2.0, alpha=0.25)
    clf.fit(X[:150], y[:150])
    proba = clf.predict_proba(X[150:])
    margin = raw_margin(clf.estimator_, X[150:])
    np.testing.assert_allclose(proba[:, 1], expit(margin), rtol=1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert average_precision_score(y[150:], proba[:, 1]) > 2 * y[150:].mean()  # it learned something
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X[150:]), proba)


def test_lightgbm_custom_objective_returns_raw_scores_so_we_transform() -> None:
    """Why the sigmoid is ours: LightGBM 4.x's own predict_proba with a custom objective gives raw scores."""
    X, y = _separable()
    inner = get_model("lightgbm").make(0).set_params(n_estimators=30, objective=FocalObjective(2.0, 0.25))
    with pytest.warns(UserWarning, match="raw scores"):
        own = np.asarray(inner.fit(X, y).predict_proba(X))
    assert own.ndim == 1 or own.min() < 0  # not a probability matrix


def test_strategy_declares_models_and_no_prior() -> None:
    focal = get_strategy("focal")
    assert focal.supported_models == ("xgboost", "lightgbm") and focal.shifts_prior is None
    ok, reason = focal.check(get_model("logreg"), focal.resolve_params({}), None)  # type: ignore[arg-type]
    assert not ok and "supports only models" in reason
