"""Tables behind `imbench list datasets|models|strategies`."""
from __future__ import annotations

import pandas as pd

from datasets import list_datasets
from datasets.selection import Selection
from strategies import MODELS, STRATEGIES


def models_frame() -> pd.DataFrame:
    return pd.DataFrame([{"name": name, "capabilities": ", ".join(sorted(spec.capabilities)),
                          "weight knob": spec.weight_knob, "description": spec.description}
                         for name, spec in MODELS.items()])


def strategies_frame() -> pd.DataFrame:
    rows = []
    for name, strategy in STRATEGIES.items():
        params = ", ".join(f"{k}={v}" for k, v in strategy.defaults.items()) or "–"
        models = ", ".join(strategy.supported_models) if strategy.supported_models else "all"
        rows.append({"name": name, "family": strategy.family, "parameters (defaults)": params,
                     "models": models, "description": strategy.description})
    return pd.DataFrame(rows).sort_values(["family", "name"], key=lambda s: s.map(_family_order)
                                          if s.name == "family" else s)


def _family_order(family: str) -> int:
    from strategies.base import FAMILIES

    return FAMILIES.index(family) if family in FAMILIES else len(FAMILIES)


def datasets_frame(names: list[str] | None = None, selection: Selection | None = None) -> tuple[pd.DataFrame, str]:
    """Datasets (the given names/globs/suites, or everything listable) with metadata, by IR.

    Counts are shown as integers, unknown values as "–" (e.g. a remote dataset not fetched yet)."""
    frame = list_datasets(names or None, selection).sort_values("ir", na_position="last", kind="stable")
    for column in ("n", "d", "n_pos", "n_categorical"):
        frame[column] = frame[column].map(lambda v: "–" if v is None or pd.isna(v) else str(int(v)))
    frame = frame.astype({"ir": float, "missing_rate": float})
    where = f" with {selection.describe()}" if selection is not None and selection.active else ""
    return frame, (f"{len(frame)} datasets{where} (IR = negatives per positive; data: bundled, built-in, cached, "
                   "generated, file, or download = fetched on first use)")


def listing_table(what: str, names: list[str] | None = None, selection: Selection | None = None
                  ) -> tuple[pd.DataFrame, str]:
    if what == "datasets":
        return datasets_frame(names, selection)
    if what == "models":
        frame = models_frame()
        return frame, f"{len(frame)} models"
    frame = strategies_frame()
    return frame, f"{len(frame)} strategies"
