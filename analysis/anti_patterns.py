"""Anti-pattern cells (strategies declared `anti_pattern`, e.g. `leaky-smote`): left out of
leaderboards unless asked for, and measured against their honest counterpart.

Every cell records whether its strategy is an anti-pattern (the store's `anti_pattern` column), so
this needs no strategy registry. Anti-patterns get no post-hoc steps: the comparison is between the
cells themselves. Reads stored cells only; never refits.
"""
from __future__ import annotations

import json
from typing import Any

import pandas as pd

#: The anti-pattern and the honest strategy it is compared with, and the parameters they share.
LEAKY, HONEST = "leaky-smote", "smote"
SHARED_PARAMS = ("sampling_ratio", "k_neighbors")


def _params(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value) if isinstance(value, str) and value else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def is_anti_pattern(cells: pd.DataFrame) -> pd.Series:
    """Boolean per row: the cell belongs to an anti-pattern strategy (as the store recorded it)."""
    if cells.empty or "anti_pattern" not in cells.columns:
        return pd.Series(False, index=cells.index, dtype=bool)
    return cells["anti_pattern"].astype(bool)


def drop_anti_patterns(cells: pd.DataFrame) -> pd.DataFrame:
    """`cells` (as from `benchmarks.store.read_cells`) without the rows of anti-pattern strategies;
    same columns, original index, nothing else changed."""
    return cells.loc[~is_anti_pattern(cells)]


def leakage_pairs(cells: pd.DataFrame, metric: str = "ap") -> pd.DataFrame:
    """One row per fold where both `leaky-smote` and in-fold `smote` succeeded with the same shared
    parameters: the two values of `metric` side by side (paired: same test rows)."""
    ok = cells[cells["status"] == "ok"]
    if metric not in ok.columns:
        return pd.DataFrame()

    def keyed(strategy: str) -> pd.DataFrame:
        part = ok[ok["strategy"] == strategy].copy()
        params = part["params"].map(_params)
        for name in SHARED_PARAMS:
            part[name] = params.map(lambda p, n=name: p.get(n))
        part["posthoc"] = "none"  # anti-patterns get no post-hoc steps: only the fits are compared
        return part[["dataset", "model", "repeat", "fold", "posthoc", *SHARED_PARAMS, metric]]

    on = ["dataset", "model", "repeat", "fold", "posthoc", *SHARED_PARAMS]
    return keyed(HONEST).merge(keyed(LEAKY), on=on, suffixes=("_in_fold", "_leaky"))


def leakage_table(cells: pd.DataFrame, metric: str = "ap") -> pd.DataFrame:
    """Per dataset × model (× post-hoc step and shared parameters): fold means of `metric` for in-fold
    SMOTE and leaky SMOTE, their difference (the inflation) and in how many folds leaky was higher."""
    pairs = leakage_pairs(cells, metric)
    if pairs.empty:
        return pd.DataFrame(columns=["dataset", "model", "posthoc", "folds", "in_fold", "leaky", "inflation",
                                     "leaky_higher"])
    pairs["diff"] = pairs[f"{metric}_leaky"] - pairs[f"{metric}_in_fold"]
    group = ["dataset", "model", "posthoc", *SHARED_PARAMS]
    table = pairs.groupby(group, dropna=False).agg(
        folds=("diff", "size"), in_fold=(f"{metric}_in_fold", "mean"), leaky=(f"{metric}_leaky", "mean"),
        inflation=("diff", "mean"), leaky_higher=("diff", lambda d: int((d > 0).sum()))).reset_index()
    return table.sort_values(["dataset", "model", "posthoc"]).reset_index(drop=True)


def leakage_summary(table: pd.DataFrame) -> dict[str, float]:
    """Across the rows of `leakage_table`: mean and median inflation, mean relative inflation, and the
    share of dataset × model rows where the leak scores higher."""
    if table.empty:
        return {"rows": 0}
    relative = (table["leaky"] / table["in_fold"] - 1).where(table["in_fold"] > 0)
    return {"rows": int(len(table)), "mean_inflation": float(table["inflation"].mean()),
            "median_inflation": float(table["inflation"].median()),
            "mean_relative_inflation": float(relative.mean()),
            "share_inflated": float((table["inflation"] > 0).mean())}
