"""Contract tests over every registered strategy (and post-hoc step): a plugin is tested for free.

Each strategy, on a tiny dataset (120 rows, 18 positives, built with the models' normal factories):
fits with the models it claims to support; its fitted model depends on the training rows only
(changing the test rows' features and labels changes nothing it learned); probabilities are in
[0, 1] with the right shape; the same seed gives identical results; built and fitted estimators
pickle; a strategy that cannot apply says why in a non-empty line, and never fails any other way.
The fast suite uses one model per strategy (the cheapest it supports); every model is `slow`.
"""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from benchmarks.fit_cell import fit_on_fold
from strategies import MODELS, POSTHOC, STRATEGIES, TrainingContext, get_model, get_strategy
from strategies.base import FAMILIES, NotApplicable
from tests.helpers import (DATA, TEST, TRAIN, check_probabilities, cheapest, fit, first_fit, fitted_depends_on_test_rows,
                           models_of, tiny_data)

STRATEGY_NAMES = list(STRATEGIES)
ALL_PAIRS = [(s, m) for s in STRATEGY_NAMES for m in models_of(s)]
POSTHOC_STEPS = ["threshold:f1", "threshold:precision>=0.8", "threshold:recall>=0.8", "threshold:alert=0.1",
                 "calibrate:sigmoid", "calibrate:isotonic", "prior"]
assert {s.split(":")[0] for s in POSTHOC_STEPS} == set(POSTHOC) - {"none"}, "a post-hoc step has no contract case"
POSTHOC_BASES = ["none", "class-weight", "random-over", "smote"]


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_declaration(name: str) -> None:
    strategy = get_strategy(name)
    assert strategy.family in FAMILIES and strategy.family != "posthoc"
    assert strategy.description and "\n" not in strategy.description and len(strategy.description) <= 100
    assert strategy.resolve_params({}) == strategy.defaults  # the defaults are valid parameters
    assert models_of(name), f"{name} supports no registered model"
    assert strategy.shifts_prior in (True, False, None)
    assert not strategy.uses_full_dataset or strategy.anti_pattern


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_fits_and_returns_probabilities(name: str) -> None:
    kind, fitted = first_fit(name, cheapest(name))
    check_probabilities(fitted, kind)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "model"), ALL_PAIRS, ids=[f"{s}-{m}" for s, m in ALL_PAIRS])
def test_fits_every_supported_model(name: str, model: str) -> None:
    kind, fitted = first_fit(name, model)
    check_probabilities(fitted, kind)


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_fitted_model_depends_on_training_rows_only(name: str) -> None:
    """Black-box proof that no test row reaches a strategy: with the test rows' features and labels
    changed, the fitted model predicts the (unchanged) training rows identically. The anti-pattern
    that resamples the whole dataset must be caught by the same check."""
    leaks = fitted_depends_on_test_rows(name, cheapest(name))
    if get_strategy(name).uses_full_dataset:
        assert leaks, f"{name} sees the whole dataset, yet the check did not notice: the check is broken"
    else:
        assert not leaks, f"{name}: the fitted model changed when only test rows changed"


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_same_seed_same_result(name: str) -> None:
    kind, fitted = first_fit(name, cheapest(name))
    again = fit(name, cheapest(name), kind)
    np.testing.assert_array_equal(fitted.proba, again.proba)
    assert fitted.extra == again.extra


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_picklable(name: str) -> None:
    """Cells travel to worker processes and cluster nodes; estimators must survive pickling."""
    model = cheapest(name)
    kind, fitted = first_fit(name, model)
    X, y, categorical = DATA[kind]
    ctx = TrainingContext(len(TRAIN), int(y[TRAIN].sum()), tuple(c for c in X if c not in categorical),
                          tuple(categorical))
    strategy = get_strategy(name)
    unfitted = strategy.build(get_model(model), strategy.resolve_params({}), ctx, seed=1)
    assert type(pickle.loads(pickle.dumps(unfitted))) is type(unfitted)
    restored = pickle.loads(pickle.dumps(fitted.estimator))
    np.testing.assert_array_equal(restored.predict_proba(X.iloc[TEST])[:, 1], fitted.proba)
    assert pickle.loads(pickle.dumps(strategy)).name == name


AWKWARD = [  # (kind, n rows, n positives): few positives, tiny folds
    ("numeric", 40, 4), ("numeric", 30, 3), ("mixed", 40, 4), ("categorical", 40, 4)]


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_cannot_apply_says_why_and_never_fails_otherwise(name: str) -> None:
    """On awkward data each strategy either fits or is skipped with a non-empty one-line reason —
    never an exception the runner would store as an error (and retry on every run)."""
    model = cheapest(name)
    strategy = get_strategy(name)
    for kind, n, n_pos in AWKWARD:
        X, y, categorical = tiny_data(kind, n=n, n_pos=n_pos, seed=3)
        train, test = next(StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(n), y))
        try:
            fitted = fit_on_fold(model, name, {}, "none", X, y, categorical, train, test, 1)
        except NotApplicable as exc:
            reason = str(exc)
            assert reason.strip() and "\n" not in reason, f"{name}: empty or multi-line skip reason {reason!r}"
        else:
            assert np.all((fitted.proba >= 0) & (fitted.proba <= 1))
    for model_name in MODELS:  # a model the strategy does not support is a skip with a reason too
        ctx = TrainingContext(20, 1, ("x0",), ())
        params, _ = strategy.adapt(get_model(model_name), strategy.resolve_params({}), ctx)
        ok, reason = strategy.check(get_model(model_name), params, ctx)
        assert ok or (isinstance(reason, str) and reason.strip() and "\n" not in reason)


POSTHOC_CASES = [(step, base) for step in POSTHOC_STEPS for base in POSTHOC_BASES]


@pytest.mark.parametrize(("step", "base"), POSTHOC_CASES, ids=[f"{b}+{s}" for s, b in POSTHOC_CASES])
def test_posthoc_step_contract(step: str, base: str) -> None:
    """Every post-hoc step composes with weighting and resampling: valid probabilities, fitted on the
    training rows only (threshold and calibration included), picklable — or a stated skip."""
    try:
        kind, fitted = first_fit(base, "logreg", step)
    except pytest.fail.Exception:
        if step == "prior" and base == "none":  # nothing to undo: a skip with its reason
            with pytest.raises(NotApplicable, match="prior correction would change nothing"):
                fit(base, "logreg", "numeric", step)
            return
        raise
    check_probabilities(fitted, kind)
    assert not fitted_depends_on_test_rows(base, "logreg", step)
    restored = pickle.loads(pickle.dumps(fitted.estimator))
    np.testing.assert_array_equal(restored.predict_proba(DATA[kind][0].iloc[TEST])[:, 1], fitted.proba)
    if step.startswith("threshold"):
        assert 0 <= getattr(fitted.estimator, "deployed_threshold_") <= 1
