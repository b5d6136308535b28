"""What several test modules share: the real CLI in a subprocess, a tiny grid, the contract tests'
tiny datasets and fits, and how two stores are compared. Test modules import from here, never from
each other."""
from __future__ import annotations

import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold

from benchmarks.fit_cell import FoldFit, fit_on_fold
from benchmarks.store import read_cells, read_predictions
from strategies import MODELS, get_strategy
from strategies.base import NotApplicable

ROOT = Path(__file__).resolve().parents[2]

#: Three small bundled datasets, logistic regression only: a run takes a second or two.
TINY_GRID = """\
name = "tiny"
seed = 7
datasets = ["keel:glass1", "keel:ecoli-0_vs_1", "keel:new-thyroid1"]
models = ["logreg"]
strategies = ["none", "class-weight", "random-under", "smote"]

[cv]
n_splits = 3
n_repeats = 2
"""


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run `imbench ARGS` as a user would, in a subprocess (the console script of this venv)."""
    exe = Path(sys.executable).with_name("imbench")
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([str(exe), *args], cwd=cwd or ROOT, capture_output=True, text=True, timeout=timeout,
                          env=env)


# --- the contract tests' tiny datasets and fits ---------------------------------------------------

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


def fit(strategy: str, model: str, kind: str, seed: int = 1,
        data: tuple[pd.DataFrame, np.ndarray, list[str]] | None = None) -> FoldFit:
    X, y, categorical = data or DATA[kind]
    return fit_on_fold(model, strategy, {}, X, y, categorical, TRAIN, TEST, seed)


@lru_cache(maxsize=None)
def first_fit(strategy: str, model: str) -> tuple[str, FoldFit]:
    """The first contract dataset the strategy applies to, and the fit on it; fails with every reason."""
    reasons = []
    for kind in KINDS:
        try:
            return kind, fit(strategy, model, kind)
        except NotApplicable as exc:
            reasons.append(f"{kind}: {exc}")
    pytest.fail(f"{strategy} with {model} applies to none of the contract datasets: {reasons}")


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


def fitted_depends_on_test_rows(name: str, model: str) -> bool:
    kind, fitted = first_fit(name, model)
    other = fit(name, model, kind, data=altered_test_rows(kind))
    X_train = DATA[kind][0].iloc[TRAIN]
    return not np.array_equal(fitted.estimator.predict_proba(X_train), other.estimator.predict_proba(X_train))


# --- comparing stores -------------------------------------------------------------------------------

COMPARED = ["key", "status", "message", "ap", "roc_auc", "brier", "ece", "recall_at_precision0.8"]


def comparable(results: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    cells = read_cells(results).sort_values("key").reset_index(drop=True)
    preds = read_predictions(results).sort_values(["key", "row_index"]).reset_index(drop=True)
    return cells[[c for c in COMPARED if c in cells]], preds


def store_fingerprint(results: Path) -> dict[str, tuple[int, str]]:
    """Row count and a hash of every row of every table of a store (read without writing anything):
    equal fingerprints mean nothing stored changed."""
    import hashlib

    from benchmarks.store import TABLES, open_readonly

    conn = open_readonly(results)  # creates no -wal/-shm files next to a store at rest
    try:
        out = {}
        for table in TABLES:
            rows = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            out[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        return out
    finally:
        conn.close()
