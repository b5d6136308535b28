"""Leaderboard from stored cells: mean rank across datasets and mean headline metrics per model × strategy.

Folds are averaged within each dataset first, because datasets — not folds — are the independent
units. A (model, strategy) with no successful cell on a dataset is ranked last on it (stated in the
output), so failing cannot improve a rank.
"""
from __future__ import annotations

import pandas as pd

from strategies.registry import unknown_name_message

from benchmarks.metrics import HEADLINE, UnknownMetricError, metric_direction

BASELINE = "none"
CELL_COLUMNS = ("key", "dataset", "model", "strategy", "label", "params", "repeat", "fold", "status", "message",
                "fit_seconds", "predict_seconds", "extra", "finished_at")
RANK_POLICY = "a model×strategy with no ok cell on a dataset is ranked last there"


def metric_columns(cells: pd.DataFrame) -> list[str]:
    """The metric columns of a cells table (everything that is not cell identity or bookkeeping)."""
    return sorted(set(cells.columns) - set(CELL_COLUMNS))


def per_dataset(cells: pd.DataFrame, metric: str) -> pd.DataFrame:
    """dataset × (model, label) table of the fold-mean of `metric` over ok cells (NaN where none)."""
    ok = cells[cells["status"] == "ok"]
    combos = pd.MultiIndex.from_frame(cells[["model", "label"]].drop_duplicates().sort_values(["model", "label"]))
    table = ok.groupby(["dataset", "model", "label"])[metric].mean().unstack(["model", "label"])
    return table.reindex(index=sorted(cells["dataset"].unique()), columns=combos)


def mean_ranks(table: pd.DataFrame, metric: str) -> pd.Series:
    """Average rank per column (1 = best) with ties averaged and missing values ranked last."""
    ascending = metric_direction(metric) == "lower"
    return table.rank(axis=1, ascending=ascending, method="average", na_option="bottom").mean()


def leaderboard(cells: pd.DataFrame, metric: str = "ap", headline: tuple[str, ...] = HEADLINE) -> pd.DataFrame:
    """One row per (model, strategy), best mean rank first."""
    if metric not in cells.columns:
        raise UnknownMetricError(unknown_name_message("metric", metric, metric_columns(cells)))
    table = per_dataset(cells, metric)
    out = pd.DataFrame({"mean_rank": mean_ranks(table, metric)})
    columns = [metric] + [m for m in headline if m != metric and m in cells.columns]
    for name in columns:
        out[name] = per_dataset(cells, name).mean()
    baseline = {model: table[(model, BASELINE)] for model in table.columns.get_level_values(0)
                if (model, BASELINE) in table.columns}
    out[f"delta_{metric}_vs_none"] = [
        (table[combo] - baseline[combo[0]]).mean() if combo[0] in baseline else float("nan")
        for combo in out.index]
    status = cells.groupby(["model", "label"])["status"].value_counts().unstack(fill_value=0)
    out["datasets"] = table.notna().sum()
    for name in ("error", "timeout", "crashed", "skipped"):
        out[name] = status[name] if name in status.columns else 0
    out = out.fillna({name: 0 for name in ("error", "timeout", "crashed", "skipped")})
    out.index = out.index.set_names(["model", "strategy"])
    return out.sort_values(["mean_rank", "model"]).reset_index()
