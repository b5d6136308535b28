"""Focal loss (Lin et al. 2017) as a custom boosting objective for XGBoost and LightGBM.

FL = −α·y·(1−p)^γ·log p − (1−α)·(1−y)·p^γ·log(1−p), with p = sigmoid(z) and z the raw margin.
γ > 0 down-weights well-classified rows (mostly easy negatives); α weights the positive class.
Gradient and hessian with respect to z are derived by hand below and checked against finite
differences in tests/test_focal.py; written here because neither library ships a focal objective.

Probabilities: with a custom objective LightGBM's `predict_proba` returns raw scores (4.x) and
XGBoost's transform depends on the version, so the classifier computes sigmoid(raw margin) itself.
The objective is a module-level class, so fitted models pickle (process and cluster transport).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone

from imbench.foundation.params import Param, Uniform
from imbench.strategies.base import (NotApplicable, Strategy, TrainingContext, model_pipeline,
                             register_strategy)
from imbench.strategies.models import ModelSpec

#: Newton boosting needs positive curvature; the focal hessian is negative for badly misclassified
#: rows when γ > 0, so the objective floors it here (the exact value is `focal_grad_hess`).
HESSIAN_FLOOR = 1e-6


def focal_loss(y: np.ndarray, z: np.ndarray, gamma: float, alpha: float) -> np.ndarray:
    """Per-row focal loss at raw margins z (log p computed as log_expit for stability)."""
    p = expit(z)
    pos = -alpha * (1 - p) ** gamma * log_expit(z)
    neg = -(1 - alpha) * p ** gamma * log_expit(-z)
    return np.where(np.asarray(y) == 1, pos, neg)


def _branch(s: np.ndarray, log_s: np.ndarray, gamma: float, weight: float) -> tuple[np.ndarray, np.ndarray]:
    """d/dw and d²/dw² of −weight·(1−s)^γ·log s with s = sigmoid(w)."""
    t = 1 - s
    grad = weight * t ** gamma * (gamma * s * log_s - t)
    hess = weight * s * t ** gamma * (t * (gamma * log_s + gamma + 1) - gamma * (gamma * s * log_s - t))
    return grad, hess


def focal_grad_hess(y: np.ndarray, z: np.ndarray, gamma: float, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact gradient and hessian of `focal_loss` with respect to z.

    The negative-class term is the positive-class one mirrored (z → −z, α → 1−α): its gradient
    changes sign and its hessian does not.
    """
    z = np.asarray(z, dtype=float)
    g_pos, h_pos = _branch(expit(z), log_expit(z), gamma, alpha)
    g_neg, h_neg = _branch(expit(-z), log_expit(-z), gamma, 1 - alpha)
    positive = np.asarray(y) == 1
    return np.where(positive, g_pos, -g_neg), np.where(positive, h_pos, h_neg)


class FocalObjective:
    """Custom objective `(y_true, raw_margin) → (grad, hess)` in the form both libraries call."""

    def __init__(self, gamma: float = 2.0, alpha: float = 0.25) -> None:
        self.gamma = gamma
        self.alpha = alpha

    def __call__(self, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        grad, hess = focal_grad_hess(y_true, y_pred, self.gamma, self.alpha)
        return grad, np.maximum(hess, HESSIAN_FLOOR)

    def __repr__(self) -> str:
        return f"FocalObjective(gamma={self.gamma!r}, alpha={self.alpha!r})"


def raw_margin(booster_model: Any, X: Any) -> np.ndarray:
    """The untransformed score of a fitted XGBoost or LightGBM scikit-learn model."""
    module = type(booster_model).__module__
    if module.startswith("lightgbm"):
        return np.asarray(booster_model.predict(X, raw_score=True), dtype=float)
    if module.startswith("xgboost"):
        return np.asarray(booster_model.predict(X, output_margin=True), dtype=float)
    raise TypeError(f"focal loss needs an XGBoost or LightGBM model, got {type(booster_model).__name__}")


class FocalBoostedClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """An XGBoost/LightGBM classifier trained on focal loss; probabilities are sigmoid(raw margin)."""

    def __init__(self, estimator: Any, gamma: float = 2.0, alpha: float = 0.25) -> None:
        self.estimator = estimator
        self.gamma = gamma
        self.alpha = alpha

    def fit(self, X: Any, y: Any) -> "FocalBoostedClassifier":
        y = np.asarray(y).astype(int)
        self.estimator_ = clone(self.estimator).set_params(objective=FocalObjective(self.gamma, self.alpha))
        try:
            self.estimator_.fit(X, y)
        except Exception as exc:
            # LightGBM with a custom objective aborts when no feature can be split on (tiny training sets;
            # LightGBM issue #5667) where its built-in objective would predict a constant.
            if "num_features()) > (0)" in str(exc):
                raise NotApplicable("LightGBM found no feature it can split on this training set and fails with "
                                    "a custom objective (LightGBM issue #5667)") from exc
            raise
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        return raw_margin(self.estimator_, X)

    def predict_proba(self, X: Any) -> np.ndarray:
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


@register_strategy
class FocalLoss(Strategy):
    name = "focal"
    family = "loss"
    description = "focal loss objective (gamma focuses on hard rows, alpha weights positives); sigmoid of margin"
    parameters = (Param("gamma", float, 2.0, low=0.0, search=Uniform(0.0, 5.0), doc="focusing: 0 is cross-entropy"),
              Param("alpha", float, 0.25, low=0.0, high=1.0, low_open=True, high_open=True, search=Uniform(0.05, 0.95),
                    doc="weight of the positive class"))
    supported_models = ("xgboost", "lightgbm")
    #: The loss reshapes probabilities without a prior interpretation: prior correction cannot undo it.
    shifts_prior = None

    def build(self, model: ModelSpec, params: dict[str, Any], ctx: TrainingContext, seed: int) -> BaseEstimator:
        focal = FocalBoostedClassifier(model.make(seed), gamma=float(params["gamma"]), alpha=float(params["alpha"]))
        return model_pipeline(model, ctx, focal)

    def training_prior(self, fitted: BaseEstimator, params: dict[str, Any], y: np.ndarray) -> float | None:
        return None
