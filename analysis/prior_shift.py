"""Label (prior) shift from stored predictions: shifted priors, importance weights, Bayes prior
correction, the Saerens–Latinne–Decaestecker EM prior estimate, and the prior a model was trained at.

Label shift means p(x | y) stays fixed while the share of positives moves from π to π'. Then a test
fold drawn at prior π represents the shifted population exactly when each positive row is weighted
π'/π and each negative row (1 − π')/(1 − π): no refit, no subsampling (which only approximates the
same expectation with Monte Carlo noise; `perf/stress_speed.py` compares the two).
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

# The prior correction itself lives on the ground floor (one implementation for the runner, the
# post-hoc steps and these analyses); re-exported here for the analysis modules that import it from here.
from imbench.foundation.posthoc import adjust_prior, odds  # noqa: F401  (adjust_prior is a re-export)

#: A shifted prior is clipped into this closed interval so it stays inside (0, 1).
PRIOR_BOUNDS = (1e-3, 1 - 1e-3)
#: s multiplies the positive prior; 0.67 and 1.5 are the ±50 % stress, 0.5 and 2 halve and double it.
DEFAULT_SHIFTS = (0.5, 0.67, 1.0, 1.5, 2.0)


class ShiftInputError(ValueError):
    """Options the prior-shift analyses cannot use (a non-positive shift, a precision outside (0, 1], …)."""


def parse_shifts(text: str | Iterable[float]) -> tuple[float, ...]:
    """`"0.5,0.67,1,1.5,2"` (or numbers) → sorted unique positive shifts, always including 1 (the
    unshifted reference every comparison is made against)."""
    items = [t.strip() for t in text.split(",") if t.strip()] if isinstance(text, str) else list(text)
    shifts = []
    for item in items:
        try:
            value = float(item)
        except (TypeError, ValueError):
            raise ShiftInputError(f"--shifts: {item!r} is not a number (expected e.g. 0.5,0.67,1,1.5,2)") from None
        if not math.isfinite(value) or value <= 0:
            raise ShiftInputError(f"--shifts: a shift multiplies the positive prior and must be > 0, got {item}")
        shifts.append(value)
    if not shifts:
        raise ShiftInputError("--shifts: give at least one shift, e.g. 0.5,0.67,1,1.5,2")
    return tuple(sorted(set(shifts) | {1.0}))


def check_fraction(value: float, name: str) -> float:
    """A precision or rate option must lie in (0, 1]."""
    if not (0 < value <= 1):
        raise ShiftInputError(f"{name} must be in (0, 1], got {value:g}")
    return float(value)


def shifted_prior(prior: float, shift: float) -> float:
    """π' = s·π, clipped into PRIOR_BOUNDS (s = 2 on a balanced dataset cannot make every row positive)."""
    return float(np.clip(shift * prior, *PRIOR_BOUNDS))


def class_weights(prior: float, target_prior: float) -> tuple[float, float]:
    """Importance weights (w_pos, w_neg) = (π'/π, (1 − π')/(1 − π)) that carry a sample at prior π to
    prior π' under label shift; they keep the total weight equal to the number of rows."""
    if not (0 < prior < 1):
        raise ValueError(f"the test prior must be in (0, 1) to reweight, got {prior}")
    return target_prior / prior, (1 - target_prior) / (1 - prior)


def shift_weights(y_true: np.ndarray, target_prior: float, prior: float | None = None) -> np.ndarray:
    """Per-row label-shift weights for a fold whose prevalence is `prior` (default: its own)."""
    y = np.asarray(y_true)
    prior = float(y.mean()) if prior is None else prior
    w_pos, w_neg = class_weights(prior, target_prior)
    return np.where(y == 1, w_pos, w_neg)


def em_prior(proba: np.ndarray, model_prior: float, sample_weight: np.ndarray | None = None,
             tol: float = 1e-7, max_iter: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Saerens, Latinne & Decaestecker (2002) EM estimate of an unlabelled sample's positive prior.

    E-step: correct the posteriors from the prior the model was trained at to the current estimate;
    M-step: the new estimate is their (weighted) mean. Plain EM creeps when the likelihood is flat
    (hundreds to thousands of steps), so the steps are accelerated with SQUAREM (Varadhan & Roland
    2008): two EM steps, an extrapolation along them, one stabilising EM step — the same fixed point
    in a few dozen steps. Written here because no maintained Python library exposes either for plain
    probability arrays. Uses the probabilities only, never labels; `sample_weight` (one row per
    population, shape (S, n)) represents a reweighted population, so all S shifted versions of a
    fold are estimated at once. Returns (estimates (S,), converged (S,)); converged means the last
    step moved every estimate by less than `tol` relative to itself.
    """
    p = np.asarray(proba, dtype=float)
    weights = np.ones((1, p.size)) if sample_weight is None else np.atleast_2d(np.asarray(sample_weight, float))
    weights = weights / weights.sum(axis=1, keepdims=True)

    model_odds = model_prior / (1 - model_prior)

    def em_step(prior: np.ndarray) -> np.ndarray:  # adjust_prior, inlined: this runs thousands of times
        ratio = (prior / (1 - prior) / model_odds)[:, None]
        posterior = ratio * p / (ratio * p + (1 - p))
        return np.clip(np.einsum("ij,ij->i", weights, posterior), 1e-12, 1 - 1e-12)

    estimate = np.full(weights.shape[0], float(model_prior))
    converged = np.zeros(weights.shape[0], dtype=bool)
    for _ in range(max_iter):
        first = em_step(estimate)
        second = em_step(first)
        step, bend = first - estimate, second - 2 * first + estimate
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = np.minimum(np.where(bend != 0, -np.abs(step) / np.abs(bend), -1.0), -1.0)
        jump = estimate - 2 * alpha * step + alpha ** 2 * bend
        new = em_step(np.where((jump > 0) & (jump < 1), jump, second))
        converged = np.abs(new - estimate) <= tol * np.maximum(estimate, 1e-12)
        estimate = new
        if converged.all():
            break
    return estimate, converged


# --- the prior a model was trained at ------------------------------------------------------------

#: How each stored cell knows the prior its model's probabilities are calibrated to (recorded by the
#: runner, so analysis needs no strategy registry), for the notes under each table.
PRIOR_RULES = {
    "measured": "measured on the fitted model: the share of positives the sampler left",
    "weights": "computed from the effective class weights: w·π/(w·π + 1 − π)",
    "declared": "declared by the strategy (balanced ensembles: 0.5)",
    "data": "the strategy trains at the data's own prior: the training fold's prevalence",
    "posthoc": "a post-hoc step (calibration, prior correction) moved the probabilities to the training fold's "
               "prevalence",
    "assumed": "the strategy does not train at a known prior (e.g. focal loss): assumed to be the training fold's "
               "prevalence",
}


def model_prior(training_prior: float | None, rule: str, train_prior: float) -> tuple[float, str]:
    """The positive prior the model's probabilities are calibrated to, and which rule (PRIOR_RULES) said
    so: what the cell recorded, else (no known prior) the training fold's prevalence, flagged `assumed`."""
    if training_prior is None or not 0 < training_prior < 1 or rule not in PRIOR_RULES or rule == "assumed":
        return train_prior, "assumed"
    return float(training_prior), rule
