"""Tables behind `imbench list datasets|models|strategies`."""
from __future__ import annotations

import pandas as pd

from datasets import list_datasets
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


def listing_table(what: str) -> tuple[pd.DataFrame, str]:
    if what == "datasets":
        frame = list_datasets().sort_values("ir")
        return frame, f"{len(frame)} bundled datasets (IR = negatives per positive)"
    if what == "models":
        frame = models_frame()
        return frame, f"{len(frame)} models"
    frame = strategies_frame()
    return frame, f"{len(frame)} strategies"
