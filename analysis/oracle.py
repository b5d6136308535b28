"""Oracle vs deployed: `recall_at_precisionP` is read off the test fold's own precision–recall curve
— the best recall any threshold could have had at precision ≥ P *had it been chosen on the test rows*,
an oracle no deployment gets. A grid with the step `threshold:precision>=P` deploys a threshold chosen
on the training fold's inner out-of-fold predictions instead; this table sets the two side by side.

Per (model, strategy, P) where the grid has both: on the datasets where both labels have every fold,
the mean oracle recall, the mean deployed recall (`recall@deployed` of `strategy+threshold:precision>=P`),
the gap (deployed − oracle: what choosing the threshold honestly costs), the mean deployed precision
(folds with no alert left out, as everywhere) and the share of folds whose deployed precision really
reached P (a fold with no alert does not).
"""
from __future__ import annotations

import pandas as pd

from imbench.analysis.coverage import COMPLETE
from imbench.analysis.leaderboard import CoverageCache

COLUMNS = ["model", "strategy", "precision_target", "datasets", "oracle_recall", "deployed_recall", "gap",
           "deployed_precision", "folds_meeting_target"]
ORACLE = "recall_at_precision"


def oracle_vs_deployed(results: pd.DataFrame, cache: CoverageCache | None = None) -> pd.DataFrame:
    """One row per (model, strategy, P) with both the oracle metric and the matching threshold step."""
    cache = cache or CoverageCache(results)
    levels = {c[len(ORACLE):]: c for c in results.columns if c.startswith(ORACLE)}
    pairs = results.loc[results["family"] != "baseline", ["model", "label", "base_label", "posthoc"]].drop_duplicates()
    pairs = pairs[pairs["posthoc"].str.startswith("threshold:precision>=")]
    rows = []
    for model, label, base, step in pairs.itertuples(index=False):
        level = step.removeprefix("threshold:precision>=")
        if level not in levels or "recall@deployed" not in results:
            continue
        states_o, oracle = cache.wide(levels[level])
        states_d, deployed = cache.wide("recall@deployed")
        if (model, base) not in oracle.columns or (model, label) not in deployed.columns:
            continue
        both = (states_o[(model, base)] == COMPLETE) & (states_d[(model, label)] == COMPLETE)
        datasets = list(both.index[both.to_numpy()])
        folds = results[(results["model"] == model) & (results["label"] == label) & results["dataset"].isin(datasets)
                        & (results["status"] == "ok")]
        precision = folds.get("precision@deployed", pd.Series(dtype=float))
        per_dataset = folds.groupby("dataset")["precision@deployed"].mean() if "precision@deployed" in folds else None
        rows.append({"model": model, "strategy": base, "precision_target": float(level), "datasets": len(datasets),
                     "oracle_recall": float(oracle.loc[datasets, (model, base)].mean()) if datasets else float("nan"),
                     "deployed_recall": float(deployed.loc[datasets, (model, label)].mean()) if datasets
                     else float("nan"),
                     "deployed_precision": float(per_dataset.mean()) if per_dataset is not None and len(per_dataset)
                     else float("nan"),
                     "folds_meeting_target": float((precision >= float(level) * (1 - 1e-12)).mean())
                     if len(precision) else float("nan")})
    table = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "gap"])
    table.insert(COLUMNS.index("gap"), "gap", table["deployed_recall"] - table["oracle_recall"])
    return table.sort_values(["model", "strategy", "precision_target"], ignore_index=True)


def note() -> str:
    return ("oracle: recall_at_precisionP read off the test fold's own curve (a threshold chosen on test rows); "
            "deployed: recall@deployed of strategy+threshold:precision>=P, its threshold chosen on the training "
            "fold's inner predictions; gap = deployed − oracle; P met: share of folds whose deployed precision ≥ P "
            "(no alert does not meet it).")
