"""The plugin contract, as checks anyone can run: every strategy, model, post-hoc step and dataset
source must pass them. The test suite parametrizes them over every registered name
(tests/test_strategies_contract.py) and `imbench check-plugins DIR` runs them on what a plugin folder
registers, so a plugin author gets the same verdict without the test suite.

Each check takes a registered name and raises `ContractFailure` (one line saying what is wrong) or
returns. They fit on tiny datasets (120 rows, 18 positives) built with fixed seeds, with the model's
normal factory, through `benchmarks.fit_cell.fit_on_fold` — the code that runs every cell — which is
why this module lives in `benchmarks/` and not beside the registries.

- strategy: declaration (every parameter declared with a one-line doc), the values its declarations
  allow (each option, the ends of each search range, each closed bound) build and fit or say why
  they cannot apply, fits and gives probabilities, depends on the training rows only (changing
  the test rows' features and labels changes nothing it learned), same seed same result, pickles,
  a strategy that cannot apply says why in one line;
- model: declaration, fits with strategy `none` and gives probabilities, training rows only, same
  seed same result, pickles;
- post-hoc step: parses its examples back to themselves, valid outputs, deterministic, and each test
  row's output depends on that row's score alone (no peeking at the test fold); `applies` says why;
- dataset source: a name it lists (its `names` hook) loads as a clean binary dataset whose metadata
  matches, and loads identically twice.
"""
from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from imbench.benchmarks.execution.fit_cell import FoldFit, fit_on_fold
from imbench.foundation.families import FAMILIES
from imbench.foundation.metrics import METRIC_KINDS
from imbench.foundation.params import IntUniform, InvalidParamsError, Param, Uniform
from imbench.strategies import MODELS, POSTHOC, STRATEGIES, TrainingContext, get_model, get_strategy
from imbench.strategies.base import NotApplicable
from imbench.strategies.posthoc import PosthocInput, parse_posthoc


class ContractFailure(AssertionError):
    """A plugin breaks the contract; the message says how, in one line."""


def require(condition: object, message: str) -> None:
    if not condition:
        raise ContractFailure(message)


# --- tiny data and fits ---------------------------------------------------------------------------

#: Cheapest first: checks fit each strategy with the first model it supports.
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
    """Registered models the strategy can exist with (cheapest first; chance models only for `none`)."""
    strategy = get_strategy(name)
    names = [m for m in MODEL_COST_ORDER if m in MODELS] + [m for m in MODELS if m not in MODEL_COST_ORDER]
    return [m for m in names if strategy.can_exist(get_model(m), strategy.resolve_params({}))[0]]


def cheapest(name: str) -> str:
    models = models_of(name)
    require(models, f"strategy {name!r} supports no registered model")
    return models[0]


def fit(strategy: str, model: str, kind: str, seed: int = 1,
        data: tuple[pd.DataFrame, np.ndarray, list[str]] | None = None) -> FoldFit:
    X, y, categorical = data or DATA[kind]
    return fit_on_fold(model, strategy, {}, X, y, categorical, TRAIN, TEST, seed)


@lru_cache(maxsize=None)
def first_fit(strategy: str, model: str) -> tuple[str, FoldFit]:
    """The first contract dataset the strategy applies to, and the fit on it."""
    reasons = []
    for kind in KINDS:
        try:
            return kind, fit(strategy, model, kind)
        except NotApplicable as exc:
            reasons.append(f"{kind}: {exc}")
    raise ContractFailure(f"{strategy} with {model} applies to none of the contract datasets: {reasons}")


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
    require(fitted.proba.shape == (len(TEST),), f"probabilities of shape {fitted.proba.shape}, expected ({len(TEST)},)")
    require(np.all(np.isfinite(fitted.proba)) and fitted.proba.min() >= 0 and fitted.proba.max() <= 1,
            "probabilities outside [0, 1] or not finite")
    both = np.asarray(fitted.estimator.predict_proba(X.iloc[TEST]))
    require(both.shape == (len(TEST), 2), f"predict_proba gives shape {both.shape}, expected ({len(TEST)}, 2)")
    require(np.allclose(both.sum(axis=1), 1.0, atol=1e-9), "predict_proba rows do not sum to 1")
    require(list(fitted.estimator.classes_) == [0, 1], f"classes_ is {list(fitted.estimator.classes_)}, not [0, 1]")


def fitted_depends_on_test_rows(name: str, model: str) -> bool:
    """Whether the fitted model predicts the (unchanged) training rows differently once the test rows'
    features and labels are changed: a black-box proof that test rows reached the fit."""
    kind, fitted = first_fit(name, model)
    other = fit(name, model, kind, data=altered_test_rows(kind))
    X_train = DATA[kind][0].iloc[TRAIN]
    return not np.array_equal(fitted.estimator.predict_proba(X_train), other.estimator.predict_proba(X_train))


# --- strategies -----------------------------------------------------------------------------------

def strategy_declaration(name: str) -> None:
    strategy = get_strategy(name)
    require(strategy.family in FAMILIES and strategy.family != "posthoc", f"family {strategy.family!r} is not one of "
            f"{[f for f in FAMILIES if f != 'posthoc']}")
    require(strategy.description and "\n" not in strategy.description and len(strategy.description) <= 100,
            "description must be one line of at most 100 characters")
    require(strategy.resolve_params({}) == strategy.defaults, "the defaults are not valid canonical parameters")
    undocumented = [p.name for p in strategy.parameters if not p.doc or "\n" in p.doc]
    require(not undocumented, f"parameter {undocumented[0]!r} needs a one-line `doc`" if undocumented else "")
    require(models_of(name), "supports no registered model")
    require(strategy.shifts_prior in (True, False, None), "shifts_prior must be True, False or None")
    require(not strategy.uses_full_dataset or strategy.anti_pattern, "only an anti-pattern may use the full dataset")


def declared_values(param: Param) -> list[object]:
    """The values a declaration says are valid and that a fit should therefore take: every option, the
    ends of the search range, and a closed bound (defaults excluded: every other check fits those)."""
    values: list[object] = list(param.options or ())
    if isinstance(param.search, (Uniform, IntUniform)):
        values += [param.search.low, param.search.high]
    elif param.search is not None:
        values += list(param.search.values)
    values += [bound for bound, open_ in ((param.low, param.low_open), (param.high, param.high_open))
               if bound is not None and not open_ and param.options is None]
    return [v for v in dict.fromkeys(param.canonical(v) for v in values) if v != param.default]


def strategy_declared_values(name: str) -> None:
    """Each value the declarations allow builds and fits (or is skipped with a reason): a declared range
    that the wrapped library refuses would fail every tuned configuration drawn from it."""
    strategy = get_strategy(name)
    model = cheapest(name)
    kind, _ = first_fit(name, model)
    X, y, categorical = DATA[kind]
    for param in strategy.parameters:
        for value in declared_values(param):
            values = {param.name: value}
            try:
                params = strategy.resolve_params(values)
            except InvalidParamsError:
                continue  # a rule across parameters refuses it with the defaults of the others: said in one line
            try:
                fitted = fit_on_fold(model, name, params, X, y, categorical, TRAIN, TEST, 1)
            except NotApplicable:
                continue
            except Exception as exc:
                raise ContractFailure(f"`{param.name}` = {value!r} is declared valid, but the fit failed: "
                                      f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
            require(np.all((fitted.proba >= 0) & (fitted.proba <= 1)),
                    f"`{param.name}` = {value!r} gives probabilities outside [0, 1]")


def strategy_fits(name: str) -> None:
    kind, fitted = first_fit(name, cheapest(name))
    check_probabilities(fitted, kind)


def strategy_training_rows_only(name: str) -> None:
    leaks = fitted_depends_on_test_rows(name, cheapest(name))
    if get_strategy(name).uses_full_dataset:
        require(leaks, "sees the whole dataset, yet changing test rows changed nothing: the check is broken")
    else:
        require(not leaks, "the fitted model changed when only test rows changed: it peeks at the test fold")


def strategy_same_seed(name: str) -> None:
    kind, fitted = first_fit(name, cheapest(name))
    again = fit(name, cheapest(name), kind)
    require(np.array_equal(fitted.proba, again.proba), "the same seed gave different probabilities")
    require(fitted.extra == again.extra, "the same seed recorded different notes")


def strategy_pickles(name: str) -> None:
    model = cheapest(name)
    kind, fitted = first_fit(name, model)
    X, y, categorical = DATA[kind]
    ctx = TrainingContext(len(TRAIN), int(y[TRAIN].sum()), tuple(c for c in X if c not in categorical),
                          tuple(categorical))
    strategy = get_strategy(name)
    unfitted = strategy.build(get_model(model), strategy.resolve_params({}), ctx, seed=1)
    require(type(pickle.loads(pickle.dumps(unfitted))) is type(unfitted), "the built pipeline does not pickle")
    restored = pickle.loads(pickle.dumps(fitted.estimator))
    require(np.array_equal(restored.predict_proba(X.iloc[TEST])[:, 1], fitted.proba),
            "the fitted pipeline predicts differently after pickling")
    require(pickle.loads(pickle.dumps(strategy)).name == name, "the strategy does not pickle")


AWKWARD = [("numeric", 40, 4), ("numeric", 30, 3), ("mixed", 40, 4), ("categorical", 40, 4)]


def strategy_says_why(name: str) -> None:
    """On awkward data it fits or is skipped with a one-line reason, never fails otherwise."""
    model = cheapest(name)
    strategy = get_strategy(name)
    for kind, n, n_pos in AWKWARD:
        X, y, categorical = tiny_data(kind, n=n, n_pos=n_pos, seed=3)
        train, test = next(StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(n), y))
        try:
            fitted = fit_on_fold(model, name, {}, X, y, categorical, train, test, 1)
        except NotApplicable as exc:
            require(str(exc).strip() and "\n" not in str(exc), f"empty or multi-line skip reason {str(exc)!r}")
        except Exception as exc:
            raise ContractFailure(f"on {n} rows with {n_pos} positives ({kind}) it failed instead of saying why: "
                                  f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
        else:
            require(np.all((fitted.proba >= 0) & (fitted.proba <= 1)), "probabilities outside [0, 1]")
    for model_name in MODELS:
        ctx = TrainingContext(20, 1, ("x0",), ())
        params, _ = strategy.adapt(get_model(model_name), strategy.resolve_params({}), ctx)
        ok, reason = strategy.check(get_model(model_name), params, ctx)
        require(ok or (isinstance(reason, str) and reason.strip() and "\n" not in reason),
                f"check() refuses model {model_name!r} without a one-line reason")


STRATEGY_CHECKS: dict[str, Callable[[str], None]] = {
    "declaration": strategy_declaration, "declared values fit": strategy_declared_values,
    "fits and gives probabilities": strategy_fits,
    "learns from training rows only": strategy_training_rows_only, "same seed, same result": strategy_same_seed,
    "pickles": strategy_pickles, "cannot apply → says why": strategy_says_why}


# --- models -----------------------------------------------------------------------------------------

def model_declaration(name: str) -> None:
    spec = get_model(name)
    require(spec.description and "\n" not in spec.description, "description must be one non-empty line")
    estimator = spec.make(1)
    require(hasattr(estimator, "fit") and hasattr(estimator, "predict_proba"),
            "make(seed) must return a classifier with fit and predict_proba")


def model_fits(name: str) -> None:
    kind, fitted = first_fit("none", name)
    check_probabilities(fitted, kind)


def model_training_rows_only(name: str) -> None:
    require(not fitted_depends_on_test_rows("none", name),
            "the fitted model changed when only test rows changed: it peeks at the test fold")


def model_same_seed(name: str) -> None:
    kind, fitted = first_fit("none", name)
    require(np.array_equal(fitted.proba, fit("none", name, kind).proba), "the same seed gave different probabilities")


def model_pickles(name: str) -> None:
    kind, fitted = first_fit("none", name)
    restored = pickle.loads(pickle.dumps(fitted.estimator))
    require(np.array_equal(restored.predict_proba(DATA[kind][0].iloc[TEST])[:, 1], fitted.proba),
            "the fitted model predicts differently after pickling")


MODEL_CHECKS: dict[str, Callable[[str], None]] = {
    "declaration": model_declaration, "fits and gives probabilities": model_fits,
    "learns from training rows only": model_training_rows_only, "same seed, same result": model_same_seed,
    "pickles": model_pickles}


# --- post-hoc steps ------------------------------------------------------------------------------------

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


def step_examples(name: str) -> list[str]:
    return [text for text in POSTHOC.get(name).examples if text != "none"]


def posthoc_examples(name: str) -> None:
    step = POSTHOC.get(name)
    require(name == "none" or step_examples(name), "declares no `examples` (spellings the contract checks run)")
    require(step.description and step.syntax and "\n" not in step.description,
            "needs a one-line description and a syntax")


def posthoc_step_contract(text: str) -> None:
    """One spelling of a step, on stored predictions: valid probabilities and threshold, deterministic,
    the same spelling back from its canonical text, and each test row's output depends on that row's
    scores alone (permuting or changing other test rows changes nothing for it)."""
    spec = parse_posthoc(text)
    require(spec.text == text and parse_posthoc(spec.text) == spec, f"{text!r} does not parse back to itself")
    step = POSTHOC.get(spec.step)
    require(step.changes(spec.params) <= set(METRIC_KINDS), "changes() names unknown metric kinds")
    data = posthoc_input()
    out = step.evaluate(spec.params, data)
    proba = np.asarray(out.test_proba)
    require(proba.shape == data.test_scores.shape and np.all(np.isfinite(proba)), f"{text}: bad test probabilities")
    require(proba.min() >= 0 and proba.max() <= 1, f"{text}: probabilities outside [0, 1]")
    require(isinstance(out.threshold, float) and not np.isnan(out.threshold), f"{text}: threshold must be a float")
    require(out.outcome in ("", "met", "unreachable", "over budget"), f"{text}: unknown outcome {out.outcome!r}")
    json.dumps(out.report)
    require(np.array_equal(step.evaluate(spec.params, data).test_proba, proba), f"{text}: not deterministic")
    order = np.random.default_rng(1).permutation(len(data.test_scores))
    permuted = replace(data, test_scores=data.test_scores[order], inner_test_scores=data.inner_test_scores[:, order])
    moved = step.evaluate(spec.params, permuted)
    require(np.allclose(moved.test_proba, proba[order], rtol=0, atol=1e-12) and moved.threshold == out.threshold,
            f"{text}: permuting the test rows changed the outputs: it peeks at the test fold")
    # the other test rows redrawn (another distribution, and every inner model's view of them with it):
    # the first 20 rows' outputs and the threshold must not move
    changed, inner_changed = data.test_scores.copy(), data.inner_test_scores.copy()
    redrawn = np.random.default_rng(2).random(len(changed) - 20) ** 3
    changed[20:], inner_changed[:, 20:] = redrawn, redrawn
    other = step.evaluate(spec.params, replace(data, test_scores=changed, inner_test_scores=inner_changed))
    require(np.allclose(other.test_proba[:20], proba[:20], rtol=0, atol=1e-12) and other.threshold == out.threshold,
            f"{text}: changing other test rows changed a row's output or the threshold: it peeks at the test fold")


def posthoc_evaluates(name: str) -> None:
    for text in step_examples(name):
        posthoc_step_contract(text)


def posthoc_applies_says_why(name: str) -> None:
    step = POSTHOC.get(name)
    params = parse_posthoc(step.examples[0]).params
    for strategy_name in STRATEGIES:
        ok, reason = step.applies(get_strategy(strategy_name), params)
        require(ok or (reason.strip() and "\n" not in reason), f"applies() refuses {strategy_name!r} without a reason")


POSTHOC_CHECKS: dict[str, Callable[[str], None]] = {
    "declaration and examples": posthoc_examples, "evaluates stored predictions, no test peeking": posthoc_evaluates,
    "cannot apply → says why": posthoc_applies_says_why}


# --- dataset sources ----------------------------------------------------------------------------------

def check_dataset(name: str) -> None:
    """A loaded dataset is clean, binary and described correctly, and loads identically twice."""
    from imbench.datasets import load_dataset

    dataset = load_dataset(name)
    y, X = dataset.y, dataset.X
    require(y.dtype == np.int8 and set(np.unique(y)) == {0, 1} and len(y) == len(X),
            f"{name}: y must be int8 with both classes 0/1 and one label per row")
    require(sorted(dataset.categorical + dataset.numeric) == sorted(X.columns),
            f"{name}: every column must be categorical or numeric")
    for column in dataset.categorical:
        require(isinstance(X[column].dtype, pd.CategoricalDtype), f"{name}: categorical column {column!r} is not "
                "a pandas Categorical")
    meta = dataset.meta
    require((meta.get("n"), meta.get("n_pos")) == (len(y), int(y.sum())), f"{name}: meta n/n_pos disagree with the data")
    again = load_dataset(name)
    require(again.X.equals(X) and np.array_equal(again.y, y), f"{name}: loading twice gives different data")


def source_loads(scheme: str) -> None:
    from imbench.datasets.registry import SOURCE_SPECS

    source = SOURCE_SPECS[scheme]
    names = source.names() if source.names is not None else []
    require(names, "lists no dataset to check (give register_source a `names` hook returning example names)")
    check_dataset(names[0])


SOURCE_CHECKS: dict[str, Callable[[str], None]] = {"loads a clean binary dataset": source_loads}


# --- running the checks on a plugin folder -------------------------------------------------------------

@dataclass(frozen=True)
class CheckResult:
    kind: str
    name: str
    check: str
    ok: bool
    message: str = ""

    def line(self) -> str:
        verdict = "ok  " if self.ok else "FAIL"
        return f"{verdict} {self.kind} {self.name}: {self.check}" + (f" — {self.message}" if self.message else "")


CHECKS = {"strategy": STRATEGY_CHECKS, "model": MODEL_CHECKS, "posthoc": POSTHOC_CHECKS, "source": SOURCE_CHECKS}


def registered() -> dict[str, set[str]]:
    """Names registered now, per kind."""
    from imbench.datasets.registry import SOURCE_SPECS

    return {"strategy": set(STRATEGIES), "model": set(MODELS), "posthoc": set(POSTHOC), "source": set(SOURCE_SPECS)}


def run_checks(added: dict[str, list[str]]) -> list[CheckResult]:
    """Every check of every kind on the names given (e.g. what a plugin folder registered)."""
    results = []
    for kind, names in added.items():
        for name in names:
            for check, function in CHECKS[kind].items():
                try:
                    function(name)
                except ContractFailure as exc:
                    results.append(CheckResult(kind, name, check, False, str(exc).splitlines()[0]))
                except Exception as exc:
                    text = str(exc).splitlines()[0] if str(exc).strip() else ""
                    results.append(CheckResult(kind, name, check, False, f"{type(exc).__name__}: {text}"))
                else:
                    results.append(CheckResult(kind, name, check, True))
    return results
