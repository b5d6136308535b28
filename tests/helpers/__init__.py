"""What several test modules share: the real CLI in a subprocess, a tiny grid, the contract tests'
tiny datasets and fits, and how two stores are compared. Test modules import from here, never from
each other."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logit
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from imbench.benchmarks.store.reader import store_reader

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


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600, columns: int = 200
            ) -> subprocess.CompletedProcess[str]:
    """Run `imbench ARGS` as a user would, in a subprocess (the console script of this venv), its
    output as wide as `columns` (a terminal of that width)."""
    exe = Path(sys.executable).with_name("imbench")
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run([str(exe), *args], cwd=cwd or ROOT, capture_output=True, text=True, timeout=timeout,
                          env=env)


# --- the contract tests' tiny datasets and fits: the package's own contract module --------------------

from imbench.benchmarks.contract import (DATA, KINDS, MODEL_COST_ORDER, TEST, TRAIN, altered_test_rows,  # noqa: E402,F401
                                 check_probabilities, cheapest, fit, first_fit, fitted_depends_on_test_rows,
                                 models_of, tiny_data)


# --- comparing stores -------------------------------------------------------------------------------

COMPARED = ["key", "status", "message", "ap", "roc_auc", "brier", "ece", "recall_at_precision0.8"]


def comparable(results: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    cells = store_reader(results).cells().sort_values("key").reset_index(drop=True)
    preds = store_reader(results).predictions().sort_values(["key", "row_index"]).reset_index(drop=True)
    return cells[[c for c in COMPARED if c in cells]], preds


# --- scikit-learn's calibration on logit p -----------------------------------------------------------

class LogitScores(ClassifierMixin, BaseEstimator):
    """A model whose `decision_function` is logit p, so scikit-learn's CalibratedClassifierCV calibrates
    logit p as imbench's post-hoc calibration does (the reference the tests compare with)."""

    def __init__(self, estimator: BaseEstimator | None = None) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: np.ndarray) -> "LogitScores":
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.estimator_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        return self.estimator_.predict(X)

    def decision_function(self, X: Any) -> np.ndarray:
        return logit(np.clip(self.predict_proba(X)[:, 1], 1e-15, 1 - 1e-15))


def store_fingerprint(results: Path) -> dict[str, tuple[int, str]]:
    """Row count and a hash of every row of every table of a store (read without writing anything):
    equal fingerprints mean nothing stored changed."""
    import hashlib

    from imbench.benchmarks.store.reader import StoreReader
    from imbench.benchmarks.store.schema import TABLES

    with StoreReader(results) as reader:  # creates no -wal/-shm files next to a store at rest
        out = {}
        for table in TABLES:
            rows = reader.conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            out[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        return out
