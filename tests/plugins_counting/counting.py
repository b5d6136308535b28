"""Test plugin: a logistic regression that writes one line per `fit` to $IMBENCH_FIT_LOG, so a test can
count how many fits a run really did (across worker processes: appends of one short line are atomic)."""
from __future__ import annotations

import os
from typing import Any

from sklearn.linear_model import LogisticRegression

from imbench.strategies import ModelSpec, register_model


class CountingLogisticRegression(LogisticRegression):
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "CountingLogisticRegression":
        log = os.environ.get("IMBENCH_FIT_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(f"{os.getpid()} {len(y)}\n")
        return super().fit(X, y, sample_weight=sample_weight)


def _counting(seed: int) -> CountingLogisticRegression:
    return CountingLogisticRegression(max_iter=2000, random_state=seed)


register_model(ModelSpec("counting-logreg", _counting, frozenset({"class_weight", "sample_weight"}), "class_weight",
                         True, "test only: logistic regression that logs every fit"))
