"""Tables behind `imbench list datasets|models|strategies`."""
from __future__ import annotations

import textwrap

import pandas as pd

from imbench.datasets import list_datasets
from imbench.datasets.selection import Selection
from imbench.strategies import MODELS, STRATEGIES


def models_frame() -> pd.DataFrame:
    return pd.DataFrame([{"name": name, "capabilities": ", ".join(sorted(spec.capabilities)),
                          "weight knob": spec.weight_knob, "description": spec.description}
                         for name, spec in MODELS.items()])


def strategies_frame(family: str | None = None) -> pd.DataFrame:
    """Registered strategies and post-hoc steps: family, parameters with defaults, models, description.

    `family` keeps one family (e.g. "oversampling"; "posthoc" lists the post-hoc steps); an unknown
    family is an UnknownNameError naming the valid ones.
    """
    from imbench.strategies import POSTHOC
    from imbench.foundation.families import FAMILIES
    from imbench.foundation.names import UnknownNameError, unknown_name_message

    if family is not None and family not in FAMILIES:
        raise UnknownNameError(unknown_name_message("strategy family", family, list(FAMILIES)))
    rows = []
    for name, strategy in STRATEGIES.items():
        params = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in strategy.defaults.items()) or "–"
        models = ", ".join(strategy.supported_models) if strategy.supported_models else "all"
        notes = [note for flag, note in ((strategy.replaces_model, "[replaces the model]"),
                                         (strategy.anti_pattern, "[ANTI-PATTERN: not in leaderboards]")) if flag]
        rows.append({"name": name, "family": strategy.family, "parameters (defaults)": _wrap(params, 36),
                     "models": models, "description": _wrap(" ".join([strategy.description, *notes]), 56)})
    for name, step in POSTHOC.items():
        if name != "none":
            rows.append({"name": name, "family": "posthoc", "parameters (defaults)": _wrap(step.syntax, 36),
                         "models": "all", "description": _wrap(f"{step.description} (grid key `posthoc`)", 56)})
    frame = pd.DataFrame(rows, columns=["name", "family", "parameters (defaults)", "models", "description"])
    if family is not None:
        frame = frame[frame["family"] == family]
    return frame.sort_values(["family", "name"], key=lambda s: s.map(_family_order)
                             if s.name == "family" else s).reset_index(drop=True)


def _wrap(text: str, width: int) -> str:
    """Pre-wrapped cell text, so the table fits a 200-column terminal without squeezing the name column."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)) or text


def _family_order(family: str) -> int:
    from imbench.foundation.families import FAMILIES

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


def listing_table(what: str, names: list[str] | None = None, selection: Selection | None = None,
                  family: str | None = None) -> tuple[pd.DataFrame, str]:
    if what == "datasets":
        return datasets_frame(names, selection)
    if what == "models":
        frame = models_frame()
        return frame, f"{len(frame)} models"
    frame = strategies_frame(family)
    if family == "posthoc":
        return frame, f"{len(frame)} post-hoc steps (grid key `posthoc`, composed with every strategy)"
    if family is not None:
        return frame, f"{len(frame)} strategies of family {family}"
    return frame, f"{len(frame)} strategies and post-hoc steps"
