"""Synthetic data: `synthetic[n=100000,d=20,prevalence=0.01,class_sep=1.0,flip_y=0.01,seed=0]`.

Built on scikit-learn's `make_classification`, changed in two ways so that the prevalence is exact:
the class sizes are fixed to round(n · prevalence) positives (make_classification can be off by the
rounding of its clusters), and label noise (`flip_y`) shuffles the labels of a random flip_y share of
the rows among themselves instead of drawing new labels — the same kind of noise, but the class counts
do not move (make_classification's own flip_y would add ~flip_y/2 of the rows as positives, which at
prevalence 0.01 doubles the positives). Deterministic for a given name; float32 features; one million
rows by twenty features take 80 MB and one to two seconds of one core. Workers regenerate the data from
the name (once each: fit_cell caches it), so only the name is shipped to them;
perf/synthetic_rows.py compares that with shipping the frame.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification

from imbench.datasets.base import Dataset, DatasetError
from imbench.datasets.names import format_name, parse_name
from imbench.datasets.registry import register_source

SCHEME = "synthetic"
#: Parameters in their canonical order, with defaults (informative: None → max(2, d // 2)).
DEFAULTS: dict[str, Any] = {"n": 10_000, "d": 20, "prevalence": 0.05, "class_sep": 1.0, "flip_y": 0.01,
                            "informative": None, "seed": 0}
INTEGER = {"n", "d", "informative", "seed"}
MAX_ROWS = 50_000_000


def _number(key: str, text: str, name: str) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise DatasetError(f"dataset {name!r}: {key}={text!r} is not a number") from None
    if key in INTEGER:
        if not value.is_integer():
            raise DatasetError(f"dataset {name!r}: {key} must be a whole number, got {text}")
        return int(value)
    return value


def params(name: str) -> dict[str, Any]:
    """All parameters of a synthetic name, validated, defaults filled in."""
    parsed = parse_name(name)
    if parsed.body:
        raise DatasetError(f"dataset {name!r}: write synthetic datasets as synthetic[key=value,...]")
    unknown = [k for k in parsed.options if k not in DEFAULTS]
    if unknown:
        raise DatasetError(f"dataset {name!r}: unknown parameter {unknown[0]!r}; parameters: {', '.join(DEFAULTS)}")
    out = dict(DEFAULTS)
    for key, raw in parsed.options.items():
        if isinstance(raw, list):
            raise DatasetError(f"dataset {name!r}: {key} takes one number")
        out[key] = _number(key, raw, name)
    n, d = out["n"], out["d"]
    if out["informative"] is None:
        out["informative"] = max(2, d // 2)
    checks = [
        (10 <= n <= MAX_ROWS, f"n must be between 10 and {MAX_ROWS}"),
        (d >= 2, "d must be at least 2"),
        (2 <= out["informative"] <= d, "informative must be between 2 and d"),
        (0 < out["prevalence"] < 1, "prevalence must be in (0, 1)"),
        (0 <= out["flip_y"] <= 1, "flip_y must be in [0, 1]"),
        (out["class_sep"] > 0, "class_sep must be positive"),
        (0 <= out["seed"] < 2**32, "seed must be in [0, 2**32)"),
    ]
    for ok, message in checks:
        if not ok:
            raise DatasetError(f"dataset {name!r}: {message}")
    n_pos = n_positives(out)
    if n_pos < 2 or n_pos > n - 2:
        raise DatasetError(f"dataset {name!r}: prevalence {out['prevalence']} of n={n} gives {n_pos} positives; "
                           "need at least 2 of each class")
    return out


def n_positives(p: dict[str, Any]) -> int:
    return int(math.floor(p["n"] * p["prevalence"] + 0.5))


def canonical(name: str) -> str:
    return format_name(SCHEME, "", params(name), order=DEFAULTS)


def generate(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(X float32, y int8) with exactly n_positives(p) positives."""
    n, d, k = p["n"], p["d"], p["informative"]
    n_pos = n_positives(p)
    rng = np.random.RandomState(p["seed"])
    X, y = make_classification(
        n_samples=n, n_features=d, n_informative=k, n_redundant=min(2, d - k), n_repeated=0, n_classes=2,
        n_clusters_per_class=2 if k >= 2 else 1, weights=[1 - n_pos / n], flip_y=0.0, class_sep=p["class_sep"],
        shuffle=False, random_state=rng)
    y = y.astype(np.int8)
    surplus = int(y.sum()) - n_pos  # rounding of the cluster sizes: at most a couple of rows
    if surplus:
        pool = np.flatnonzero(y == (1 if surplus > 0 else 0))
        y[rng.choice(pool, size=abs(surplus), replace=False)] = 0 if surplus > 0 else 1
    n_noisy = int(round(p["flip_y"] * n))
    if n_noisy > 1:
        noisy = rng.choice(n, size=n_noisy, replace=False)
        y[noisy] = y[rng.permutation(noisy)]
    order = rng.permutation(n)  # make_classification's own shuffle is several times slower
    return np.take(X.astype(np.float32), order, axis=0), y[order]


def load(name: str) -> Dataset:
    p = params(name)
    X, y = generate(p)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(p["d"])], copy=False)
    meta = {"source": SCHEME, "origin": "scikit-learn make_classification (exact prevalence)", "data": "generated",
            "license": "generated"}
    return Dataset(name=name, X=frame, y=y, categorical=[], meta=meta)


def catalogue(name: str) -> dict[str, Any]:
    """Metadata from the parameters alone (no data generated)."""
    p = params(name)
    n_pos = n_positives(p)
    return {"n": p["n"], "d": p["d"], "n_pos": n_pos, "ir": round((p["n"] - n_pos) / n_pos, 2),
            "n_categorical": 0, "missing_rate": 0.0, "data": "generated"}


register_source(SCHEME, canonical=canonical, catalogue=catalogue)(load)
