"""Contract tests over every registered strategy (and post-hoc step): a plugin is tested for free.

Each strategy, on a tiny dataset (120 rows, 18 positives, built with the models' normal factories):
fits with the models it claims to support; its fitted model depends on the training rows only
(changing the test rows' features and labels changes nothing it learned); probabilities are in
[0, 1] with the right shape; the same seed gives identical results; built and fitted estimators
pickle; a strategy that cannot apply says why in a non-empty line, and never fails any other way.
The fast suite uses one model per strategy (the cheapest it supports); every model is `slow`.
"""
from __future__ import annotations

import json
import pickle
from dataclasses import replace

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from benchmarks.fit_cell import fit_on_fold
from foundation.metrics import METRIC_KINDS
from strategies import MODELS, POSTHOC, STRATEGIES, TrainingContext, get_model, get_strategy
from strategies.base import FAMILIES, NotApplicable
from strategies.posthoc import PosthocInput, parse_posthoc
from tests.helpers import (DATA, TEST, TRAIN, check_probabilities, cheapest, fit, first_fit, fitted_depends_on_test_rows,
                           models_of, tiny_data)

STRATEGY_NAMES = list(STRATEGIES)
ALL_PAIRS = [(s, m) for s in STRATEGY_NAMES for m in models_of(s)]


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
            fitted = fit_on_fold(model, name, {}, X, y, categorical, train, test, 1)
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


# --- post-hoc steps: every registered step, on stored-prediction inputs ------------------------------

STEP_EXAMPLES = [text for _, step in POSTHOC.items() for text in step.examples if text != "none"]


def posthoc_input(seed: int = 0, n_train: int = 150, n_test: int = 60, k: int = 3) -> PosthocInput:
    """Stored predictions as a cell keeps them: informative scores with ties, inner fold ids, and each
    inner model's test scores close to the final model's."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n_train) < 0.2).astype(np.int8)
    scores = np.round(np.clip(0.15 + 0.5 * y + rng.normal(0, 0.2, n_train), 0, 1), 2)
    test = np.clip(rng.random(n_test) * 0.8 + 0.1, 0, 1)
    inner_test = np.clip(test + rng.normal(0, 0.02, (k, n_test)), 0, 1)
    folds = np.resize(np.arange(k, dtype=np.int8), n_train)
    return PosthocInput(y, scores, folds, inner_test, test, float(y.mean()), 0.5)


def test_every_step_has_contract_examples() -> None:
    names = {text.split(":")[0] for text in STEP_EXAMPLES}
    assert names == set(POSTHOC) - {"none"}, "a registered post-hoc step declares no example"


@pytest.mark.parametrize("text", STEP_EXAMPLES)
def test_posthoc_step_contract(text: str) -> None:
    """Every post-hoc step, on stored predictions: valid probabilities and threshold, deterministic,
    the same spelling back from its canonical text, and choices made on the training fold's inner
    predictions only: each test row's output depends on that row's scores alone (permuting or
    changing other test rows changes nothing for it), so no step can peek at the test fold."""
    spec = parse_posthoc(text)
    assert spec.text == text and parse_posthoc(spec.text) == spec
    step = POSTHOC.get(spec.step)
    assert step.description and step.syntax and "\n" not in step.description
    assert step.changes(spec.params) <= set(METRIC_KINDS)
    data = posthoc_input()
    out = step.evaluate(spec.params, data)
    proba = np.asarray(out.test_proba)
    assert proba.shape == data.test_scores.shape and np.all(np.isfinite(proba))
    assert proba.min() >= 0 and proba.max() <= 1
    assert isinstance(out.threshold, float) and not np.isnan(out.threshold)
    assert out.outcome in ("", "met", "unreachable", "over budget") and json.dumps(out.report)
    again = step.evaluate(spec.params, data)
    np.testing.assert_array_equal(again.test_proba, proba)
    order = np.random.default_rng(1).permutation(len(data.test_scores))
    permuted = replace(data, test_scores=data.test_scores[order], inner_test_scores=data.inner_test_scores[:, order])
    moved = step.evaluate(spec.params, permuted)
    np.testing.assert_allclose(moved.test_proba, proba[order], rtol=0, atol=1e-12)
    assert moved.threshold == out.threshold
    changed = data.test_scores.copy()
    changed[:20] = 1 - changed[:20]
    other = step.evaluate(spec.params, replace(data, test_scores=changed))
    np.testing.assert_allclose(other.test_proba[20:], proba[20:], rtol=0, atol=1e-12)
    assert other.threshold == out.threshold


@pytest.mark.parametrize("name", [name for name in POSTHOC if name != "none"])
def test_posthoc_applies_says_why(name: str) -> None:
    step = POSTHOC.get(name)
    params = parse_posthoc(step.examples[0]).params
    for strategy_name in STRATEGY_NAMES:
        ok, reason = step.applies(get_strategy(strategy_name), params)
        assert ok or (reason.strip() and "\n" not in reason)
