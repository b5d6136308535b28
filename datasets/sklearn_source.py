"""scikit-learn's bundled datasets as one-vs-rest tasks: `sklearn:digits[positive=0]`, `sklearn:breast_cancer`.

Always offline: only the loaders whose data ship inside scikit-learn (no `fetch_*`). The positive
class is given by its target code or its name (`sklearn:iris[positive=setosa]` is stored as
`sklearn:iris[positive=0]`); breast_cancer defaults to malignant, the clinically interesting minority.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn import datasets as skdatasets

from imbench.datasets.base import Dataset, DatasetError
from imbench.datasets.names import format_name, parse_name
from imbench.datasets.registry import register_source
from imbench.datasets.targets import binarize
from imbench.foundation.names import unknown_name_message

SCHEME = "sklearn"
LOADERS: dict[str, Callable[..., Any]] = {
    "breast_cancer": skdatasets.load_breast_cancer,
    "digits": skdatasets.load_digits,
    "iris": skdatasets.load_iris,
    "wine": skdatasets.load_wine,
}
#: Default positive code where the dataset has an obvious class of interest.
DEFAULT_POSITIVE = {"breast_cancer": "0"}
ORIGIN = {
    "breast_cancer": "UCI Breast Cancer Wisconsin (Diagnostic), via scikit-learn load_breast_cancer",
    "digits": "UCI Optical Recognition of Handwritten Digits (test set), via scikit-learn load_digits",
    "iris": "Fisher's Iris (UCI), via scikit-learn load_iris",
    "wine": "UCI Wine, via scikit-learn load_wine",
}
LICENSE = "CC BY 4.0 (UCI Machine Learning Repository), as shipped with scikit-learn (BSD-3-Clause)"


def _bunch(dataset: str, name: str) -> Any:
    if dataset not in LOADERS:
        raise DatasetError(unknown_name_message("scikit-learn dataset", dataset, sorted(LOADERS)) +
                           f" (in {name!r}; only datasets bundled with scikit-learn, never downloads)")
    return LOADERS[dataset](as_frame=True)


def _codes(bunch: Any, declared: list[str], name: str) -> list[str]:
    """Declared classes (codes or names) as target codes."""
    names = [str(t) for t in bunch.target_names]
    codes = []
    for value in declared:
        if value in names and not value.isdigit():
            codes.append(str(names.index(value)))
        elif value.isdigit() and int(value) < len(names):
            codes.append(str(int(value)))
        else:
            classes = ", ".join(f"{i} ({n!r}, {c} rows)" for i, (n, c) in
                                enumerate(zip(names, np.bincount(bunch.target.to_numpy()))))
            raise DatasetError(f"dataset {name!r}: positive class {value!r} is not a class; classes: {classes}")
    return sorted(set(codes), key=int)


def canonical(name: str) -> str:
    parsed = parse_name(name)
    unknown = [k for k in parsed.options if k != "positive"]
    if unknown:
        raise DatasetError(f"dataset {name!r}: unknown option {unknown[0]!r} (scikit-learn datasets take positive=)")
    bunch = _bunch(parsed.body, name)
    declared = parsed.option_list("positive")
    if not declared:
        if parsed.body in DEFAULT_POSITIVE:
            return format_name(SCHEME, parsed.body)
        names = [str(t) for t in bunch.target_names]
        counts = np.bincount(bunch.target.to_numpy())
        classes = ", ".join(f"{i} ({n!r}, {c} rows)" for i, (n, c) in enumerate(zip(names, counts)))
        raise DatasetError(f"dataset {name!r}: {len(names)} classes and no positive class declared; use e.g. "
                           f"'sklearn:{parsed.body}[positive=0]'; classes: {classes}")
    codes = _codes(bunch, declared, name)
    if codes == [DEFAULT_POSITIVE.get(parsed.body)]:
        return format_name(SCHEME, parsed.body)
    return format_name(SCHEME, parsed.body, {"positive": codes[0] if len(codes) == 1 else codes})


def load(name: str) -> Dataset:
    parsed = parse_name(canonical(name))
    bunch = _bunch(parsed.body, name)
    codes = parsed.option_list("positive") or [DEFAULT_POSITIVE[parsed.body]]
    y, _ = binarize(pd.Series(bunch.target.to_numpy()), codes, name)
    names = [str(t) for t in bunch.target_names]
    X = bunch.data.astype("float64")
    meta = {"source": SCHEME, "origin": ORIGIN[parsed.body], "license": LICENSE, "data": "built-in",
            "positive": [names[int(c)] for c in codes]}
    return Dataset(name=name, X=X, y=y, categorical=[], meta=meta)


def names() -> list[str]:
    """Every one-vs-rest task: breast_cancer, and each class of the multi-class datasets."""
    out = ["sklearn:breast_cancer"]
    for dataset, n_classes in (("digits", 10), ("iris", 3), ("wine", 3)):
        out.extend(f"sklearn:{dataset}[positive={code}]" for code in range(n_classes))
    return out


register_source(SCHEME, canonical=canonical, names=names)(load)
