"""Turning a source's target column into imbench's 0/1 target (1 = the class of interest).

Rules (the same for every source):
- a declared positive class (or several) becomes 1, every other class 0; a declared class that does
  not exist is an error listing the classes with their counts;
- nothing declared and two classes: the sources that allow it pick the minority class (OpenML,
  imbalanced-learn) or the value 1/True (user files); a tie or more than two classes is an error that
  lists the classes with their counts, so the user can declare `positive=...`;
- missing target values are an error (rows are never dropped silently: they would shift the row
  indices OpenML task splits refer to).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from imbench.datasets.base import DatasetError

MAX_LISTED_CLASSES = 20


def describe_classes(counts: pd.Series) -> str:
    shown = [f"{label!r} ({count})" for label, count in counts.head(MAX_LISTED_CLASSES).items()]
    more = f", … {len(counts) - MAX_LISTED_CLASSES} more" if len(counts) > MAX_LISTED_CLASSES else ""
    return ", ".join(shown) + more


def class_label(value: object) -> str:
    """A class label as a string; 1.0 and 1 are the same class."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _matches(declared: str, label: str) -> bool:
    if declared == label or declared.lower() == label.lower() and declared.lower() in {"true", "false"}:
        return True
    try:
        return float(declared) == float(label)
    except ValueError:
        return False


def binarize(target: pd.Series, positive: list[str] | None, name: str, *, default: str = "minority",
             target_name: str = "target") -> tuple[np.ndarray, list[str]]:
    """(0/1 int8 array, positive class labels) for `target`, by the module's rules.

    `default` is what happens when no positive class is declared: "minority" or "one" (the value 1/True
    of a 0/1 or boolean target).
    """
    target = pd.Series(target).reset_index(drop=True)
    missing = int(target.isna().sum())
    if missing:
        rows = ", ".join(str(i) for i in np.flatnonzero(target.isna().to_numpy())[:5])
        raise DatasetError(f"dataset {name!r}: target {target_name!r} has {missing} missing values (rows {rows}"
                           f"{', …' if missing > 5 else ''}); remove or fill those rows")
    labels = target.astype(object).map(class_label)
    counts = labels.value_counts(sort=True)
    if positive:
        chosen = []
        for declared in positive:
            hits = [label for label in counts.index if _matches(str(declared), label)]
            if not hits:
                raise DatasetError(f"dataset {name!r}: positive class {declared!r} is not a class of target "
                                   f"{target_name!r}; classes (count): {describe_classes(counts)}")
            chosen.extend(h for h in hits if h not in chosen)
    else:
        chosen = _default_positive(counts, name, default, target_name)
    y = labels.isin(chosen).to_numpy().astype(np.int8)
    if len(counts) < 2:
        raise DatasetError(f"dataset {name!r}: target {target_name!r} has a single class "
                           f"({describe_classes(counts)}); a binary task needs two")
    if y.all():
        raise DatasetError(f"dataset {name!r}: the positive class(es) {chosen} cover every row; declare fewer "
                           f"classes as positive (classes: {describe_classes(counts)})")
    return y, sorted(chosen, key=lambda label: -int(counts[label]))


def _default_positive(counts: pd.Series, name: str, default: str, target_name: str) -> list[str]:
    how = "declare the class of interest with positive=<class> (several: positive=[a,b])"
    if default == "one" and set(counts.index) <= {"0", "1"} | {"True", "False"} and len(counts) == 2:
        return ["1" if "1" in counts.index else "True"]
    if default == "minority" and len(counts) == 2:
        if counts.iloc[0] == counts.iloc[1]:
            raise DatasetError(f"dataset {name!r}: both classes of target {target_name!r} have {counts.iloc[0]} "
                               f"rows, so there is no minority class to use as positive; {how}")
        return [str(counts.index[-1])]
    if len(counts) < 2:
        raise DatasetError(f"dataset {name!r}: target {target_name!r} has a single class "
                           f"({describe_classes(counts)}); a binary task needs two")
    kind = "is not 0/1" if default == "one" and len(counts) == 2 else f"has {len(counts)} classes"
    raise DatasetError(f"dataset {name!r}: target {target_name!r} {kind} and no positive class is declared; "
                       f"{how}; classes (count): {describe_classes(counts)}")
