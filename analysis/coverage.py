"""Per dataset, what each label has for one metric: all its folds, or the reason it has not.

A comparison is fair only on datasets where every compared label has every fold (DESIGN.md,
"Invariants of a fair comparison"), and what is left out must be said per label. So before anything
is ranked, each (dataset, model, label) gets its fold mean of the metric and one *state*: `complete`,
or the first of these reasons that applies —

- `skipped`: a cell was skipped (a data-dependent skip such as too few positives): shown per label,
  never ranked as a loss;
- `missing folds`: fewer folds stored than planned (a partial store, or a cell never run);
- `failed`: a cell failed (error, timeout, crashed, oom); the board's failure policy decides;
- `degenerate`: an ok cell has no value because the fit predicted a single value;
- `no alert`: the metric is a precision at a threshold and no fold flagged anything;
- `no value`: an ok cell lacks the value for another reason.

Precision at a threshold is undefined when nothing is flagged. Such folds are counted (`no_alert`) and
left out of the fold mean, never taken as 0; the dataset stays complete when another fold has a value.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

COMPLETE = "complete"
#: Reasons a label lacks a dataset, in the order they are tested (the first that applies is the state).
LACKING = ("skipped", "missing folds", "failed", "degenerate", "no alert", "no value")
STATES = (COMPLETE, *LACKING)
#: Coverage columns that count cells (rows of the results frame), summed per label in notes.
COUNT_COLUMNS = ("cells", "ok", "skipped", "failed", "degenerate", "no_alert")
KEYS = ["dataset", "model", "label"]


def alert_column(metric: str) -> str | None:
    """The alert-rate column whose 0 makes `metric` undefined (precision@X → alert_rate@X), if any."""
    if metric.startswith("precision@"):
        return "alert_rate@" + metric.partition("@")[2]
    return None


def carried_labels(results: pd.DataFrame, metric: str) -> pd.Series:
    """(model, label) → whether the label carries `metric`: some ok row has a value. A precision at a
    threshold is carried when the alert rate is (a label that never alerted still has that metric)."""
    column = results[metric].notna()
    alert = alert_column(metric)
    if alert is not None and alert in results.columns:
        column |= results[alert].notna()
    has = column & (results["status"] == "ok")
    return has.groupby([results["model"], results["label"]]).any()


def folds_per_dataset(results: pd.DataFrame, planned: int | None = None) -> pd.Series:
    """dataset → folds every label should have there: the distinct (repeat, fold) stored for it by any
    label, or the spec's n_splits × n_repeats when that is more (a store where no label finished)."""
    folds = results[["dataset", "repeat", "fold"]].drop_duplicates().groupby("dataset").size()
    return folds.clip(lower=planned) if planned else folds


def coverage_table(results: pd.DataFrame, metric: str, folds: pd.Series | None = None) -> pd.DataFrame:
    """One row per (dataset, model, label) of every dataset × every (model, label) in `results`:
    `state` (see the module docstring), `value` (mean over the ok folds that have a value), the cell
    counts of COUNT_COLUMNS, and `folds` stored against `expected`.

    `folds` is `folds_per_dataset` of the whole run; by default that of `results`.
    """
    folds = folds_per_dataset(results) if folds is None else folds
    ok = results["status"] == "ok"
    value = results[metric].where(ok)
    alert = alert_column(metric)
    undefined = ok & value.isna()
    no_alert = undefined & (results[alert] == 0) if alert is not None and alert in results.columns else undefined & False
    degenerate = results["degenerate"].astype(bool)
    frame = pd.DataFrame({
        "dataset": results["dataset"], "model": results["model"], "label": results["label"], "value": value,
        "ok": ok, "skipped": results["status"] == "skipped", "failed": ~ok & (results["status"] != "skipped"),
        "degenerate": degenerate, "no_alert": no_alert, "degenerate_gap": undefined & ~no_alert & degenerate,
        "gap": undefined & ~no_alert & ~degenerate, "has": value.notna(),
        "fold_id": results["repeat"].astype(np.int64) * 1_000_003 + results["fold"].astype(np.int64)})
    grouped = frame.groupby(KEYS, sort=False)
    table = grouped[["ok", "skipped", "failed", "degenerate", "no_alert", "degenerate_gap", "gap", "has"]].sum()
    table["cells"] = grouped.size()
    table["folds"] = grouped["fold_id"].nunique()
    table["value"] = grouped["value"].mean()
    combos = results[["model", "label"]].drop_duplicates()
    datasets = np.sort(results["dataset"].unique())
    full = pd.MultiIndex.from_arrays([np.repeat(datasets, len(combos)), np.tile(combos["model"].to_numpy(), len(datasets)),
                                      np.tile(combos["label"].to_numpy(), len(datasets))], names=KEYS)
    table = table.reindex(full)
    counts = [c for c in table.columns if c != "value"]
    table[counts] = table[counts].fillna(0).astype(np.int64)
    table["expected"] = table.index.get_level_values("dataset").map(folds).fillna(0).astype(np.int64).to_numpy()
    table["state"] = np.select(
        [table["skipped"] > 0, table["folds"] < table["expected"], table["failed"] > 0, table["degenerate_gap"] > 0,
         (table["gap"] == 0) & (table["has"] == 0) & (table["no_alert"] > 0), (table["gap"] > 0) | (table["has"] == 0)],
        list(LACKING), COMPLETE)
    return table.drop(columns=["degenerate_gap", "gap", "has"])


def wide(coverage: pd.DataFrame, column: str) -> pd.DataFrame:
    """dataset × (model, label) table of one coverage column."""
    return coverage[column].unstack(["model", "label"])


def lacking_counts(states: pd.DataFrame) -> pd.DataFrame:
    """(model, label) × LACKING: how many datasets each label lacks, by reason, from a dataset ×
    (model, label) state table."""
    counts = {reason: (states == reason).sum() for reason in LACKING}
    return pd.DataFrame(counts, index=states.columns).fillna(0).astype(int)


def describe_lacks(row: pd.Series, total: int) -> str:
    """`3 of 24 datasets: 2 skipped, 1 failed` ('' when nothing is lacking)."""
    parts = [f"{int(row[reason])} {reason}" for reason in LACKING if row.get(reason, 0)]
    lacking = sum(int(row.get(reason, 0)) for reason in LACKING)
    return f"{lacking} of {total} dataset{'' if total == 1 else 's'}: {', '.join(parts)}" if parts else ""
