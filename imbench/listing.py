"""Tables behind `imbench list datasets|models|strategies`."""
from __future__ import annotations

import textwrap

import pandas as pd

from imbench.datasets import list_datasets
from imbench.datasets.selection import Selection
from imbench.foundation.params import Param, Requires
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


def parameters_frame(what: str = "strategies", family: str | None = None) -> pd.DataFrame:
    """One row per declared parameter of every strategy and post-hoc step (or model): type, default,
    the values allowed and the range a tuned grid draws from, from the declarations themselves."""
    from imbench.strategies import POSTHOC

    owners: list[tuple[str, str, tuple[Param, ...], tuple[Requires, ...]]] = []
    if what == "models":
        owners = [(name, "model", spec.parameters, ()) for name, spec in MODELS.items()]
    else:
        frame = strategies_frame(family)
        for name, kind in zip(frame["name"], frame["family"]):
            if kind == "posthoc":
                owners.append((name, kind, POSTHOC.get(name).parameters, ()))
            else:
                strategy = STRATEGIES.get(name)
                owners.append((name, kind, strategy.parameters, strategy.rules))
    rows = []
    for name, _, declared, rules in owners:
        for param in declared:
            rows.append({"name": name, "parameter": param.name, "type": param.type_name(),
                         "default": "–" if param.default is None else _value(param.default),
                         "allowed": param.rule(), "tuned over": param.search.describe() if param.search else "–",
                         "description": param.doc})
        for rule in rules:
            rows.append({"name": name, "parameter": "(rule)", "type": "", "default": "", "allowed": rule.describe(),
                         "tuned over": "", "description": rule.why})
    return pd.DataFrame(rows, columns=["name", "parameter", "type", "default", "allowed", "tuned over", "description"])


def parameter_lines(frame: pd.DataFrame, width: int = 80) -> list[str]:
    """The parameters frame as text that fits `width` columns: a heading per owner, then per parameter
    its name and default, the rule and tuning range, and its description, wrapped under each other."""
    lines: list[str] = []
    for name, rows in frame.groupby("name", sort=False):
        lines += ["", str(name)]
        for row in rows.to_dict("records"):
            head = f"  {row['parameter']} = {row['default']}" if row["parameter"] != "(rule)" else "  rule"
            tuned = row["tuned over"]
            rule = row["allowed"] + (f"; tuned over {tuned}" if tuned not in ("–", "") else "")
            lines.append(head)
            for text in (rule, row["description"]):
                lines += textwrap.wrap(text, width, initial_indent="      ", subsequent_indent="      ",
                                       break_long_words=False, break_on_hyphens=False) if text else []
    return lines


def parameters_markdown(what: str = "strategies") -> str:
    """The parameter table of docs/strategies.md (and docs/plugins.md for models), made from the
    declarations: `imbench list strategies --params --markdown` prints it, a test keeps the docs equal."""
    frame = parameters_frame(what)
    frame["name"] = frame["name"].where(frame["name"] != frame["name"].shift(), "")
    frame = frame.map(lambda text: str(text).replace("|", "\\|"))
    return frame.to_markdown(index=False)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


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
