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
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold

from benchmarks.fit_cell import FoldFit, fit_on_fold
from strategies import MODELS, POSTHOC, STRATEGIES, TrainingContext, get_model, get_strategy
from strategies.base import FAMILIES, NotApplicable

#: Cheapest first: the fast suite fits each strategy with the first model it supports.
MODEL_COST_ORDER = ("logreg", "lightgbm", "xgboost", "hist-gb", "random-forest")
KINDS = ("numeric", "mixed", "categorical")


def tiny_data(kind: str, n: int = 120, n_pos: int = 18, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Positives shifted on two numeric columns (so cluster-based samplers find them), a few missing
    values (so imputation is exercised), and categorical columns leaning towards "a" for positives."""
    rng = np.random.default_rng(seed)
    y = np.zeros(n, dtype=np.int8)
    y[rng.choice(n, n_pos, replace=False)] = 1
    columns: dict[str, object] = {}
    if kind in ("numeric", "mixed"):
        for j in range(4):
            columns[f"x{j}"] = rng.normal(size=n) + (2.0 * y if j < 2 else 0.0)
        columns["x3"][rng.choice(n, 4, replace=False)] = np.nan  # type: ignore[index]
    if kind in ("mixed", "categorical"):
        for j in range(3):
            values = np.where(rng.random(n) < 0.25 + 0.5 * y, "a", rng.choice(["b", "c", "d"], n))
            columns[f"c{j}"] = pd.Categorical(values)
    X = pd.DataFrame(columns)
    return X, y, [c for c in X.columns if c.startswith("c")]


DATA = {kind: tiny_data(kind) for kind in KINDS}
TRAIN, TEST = next(StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(120), DATA["numeric"][1]))


def models_of(name: str) -> list[str]:
    supported = get_strategy(name).supported_models
    names = [m for m in MODEL_COST_ORDER if m in MODELS] + [m for m in MODELS if m not in MODEL_COST_ORDER]
    return [m for m in names if supported is None or m in supported]


def cheapest(name: str) -> str:
    return models_of(name)[0]


def fit(strategy: str, model: str, kind: str, posthoc: str = "none", seed: int = 1,
        data: tuple[pd.DataFrame, np.ndarray, list[str]] | None = None) -> FoldFit:
    X, y, categorical = data or DATA[kind]
    return fit_on_fold(model, strategy, {}, posthoc, X, y, categorical, TRAIN, TEST, seed)


@lru_cache(maxsize=None)
def first_fit(strategy: str, model: str, posthoc: str = "none") -> tuple[str, FoldFit]:
    """The first contract dataset the strategy applies to, and the fit on it; fails with every reason."""
    reasons = []
    for kind in KINDS:
        try:
            return kind, fit(strategy, model, kind, posthoc)
        except NotApplicable as exc:
            reasons.append(f"{kind}: {exc}")
    pytest.fail(f"{strategy} ({posthoc}) with {model} applies to none of the contract datasets: {reasons}")


def altered_test_rows(kind: str) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The same data with the test rows' features shuffled among themselves and their labels flipped."""
    X, y, categorical = DATA[kind]
    X2, y2 = X.copy(), y.copy()
    X2.iloc[TEST] = X.iloc[TEST[::-1]].to_numpy()
    y2[TEST] = 1 - y[TEST]
    for column in categorical:
        X2[column] = pd.Categorical(X2[column], categories=X[column].cat.categories)
    return X2, y2, categorical


def check_probabilities(fitted: FoldFit, kind: str) -> None:
    X, _, _ = DATA[kind]
    assert fitted.proba.shape == (len(TEST),)
    assert np.all(np.isfinite(fitted.proba)) and fitted.proba.min() >= 0 and fitted.proba.max() <= 1
    both = np.asarray(fitted.estimator.predict_proba(X.iloc[TEST]))
    assert both.shape == (len(TEST), 2)
    np.testing.assert_allclose(both.sum(axis=1), 1.0, atol=1e-9)
    assert list(fitted.estimator.classes_) == [0, 1]


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


def _fitted_depends_on_test_rows(name: str, model: str, posthoc: str = "none") -> bool:
    kind, fitted = first_fit(name, model, posthoc)
    other = fit(name, model, kind, posthoc, data=altered_test_rows(kind))
    X_train = DATA[kind][0].iloc[TRAIN]
    return not np.array_equal(fitted.estimator.predict_proba(X_train), other.estimator.predict_proba(X_train))


@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_fitted_model_depends_on_training_rows_only(name: str) -> None:
    """Black-box proof that no test row reaches a strategy: with the test rows' features and labels
    changed, the fitted model predicts the (unchanged) training rows identically. The anti-pattern
    that resamples the whole dataset must be caught by the same check."""
    leaks = _fitted_depends_on_test_rows(name, cheapest(name))
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
    assert not _fitted_depends_on_test_rows(base, "logreg", step)
    restored = pickle.loads(pickle.dumps(fitted.estimator))
    np.testing.assert_array_equal(restored.predict_proba(DATA[kind][0].iloc[TEST])[:, 1], fitted.proba)
    if step.startswith("threshold"):
        assert 0 <= getattr(fitted.estimator, "deployed_threshold_") <= 1
