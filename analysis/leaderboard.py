"""Leaderboards from stored cells: mean ranks over datasets with the statistics to trust them.

Folds are averaged within each dataset first, because datasets — not folds — are the independent
units. Then, per model × strategy: mean rank (1 = best), mean and median of the metric with a 95 %
bootstrap interval over datasets, win/tie/loss and a Holm-corrected Wilcoxon signed-rank test
against the baseline (`none`) on the same model, paired by dataset; and across all of them the
Friedman test with Nemenyi's critical difference (`analysis.statistics`).

Failures are part of the result: a model × strategy *failed on a dataset* when any of its cells
there is not ok (error, timeout, crashed or skipped), because a mean over fewer folds would no longer
be paired with the others. What happens then is the failure policy (`FAILURE_POLICIES`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.loading import metric_columns
from analysis.statistics import (ALPHA, FriedmanResult, bootstrap_ci, compare_to_baseline, friedman_test, holm,
                                 nemenyi_pvalues, rank_table)
from foundation.metrics import HEADLINE, metric_direction, unknown_metric
from foundation.names import unknown_name_message

BASELINE = "none"
FAILURE_POLICIES = {
    "rank-last": "a model×strategy that failed on a dataset is ranked last there (tied with the other failures); "
                 "its mean, median and CI use the datasets where it has results",
    "drop": "datasets where any model×strategy failed are dropped for all, so all are compared on the same datasets",
}
DEFAULT_FAILURE_POLICY = "rank-last"
STATUS_COLUMNS = ("error", "timeout", "crashed", "skipped")


class AnalysisInputError(ValueError):
    """A request the stored results cannot answer (e.g. ranking by a reference value)."""


def check_metric(cells: pd.DataFrame, metric: str) -> None:
    """Raise a one-line user error naming the closest stored metrics when `metric` is not stored."""
    available = metric_columns(cells)
    if metric not in available:
        raise unknown_metric(metric, available)
    if metric_direction(metric) == "target" and metric == "prevalence":
        raise AnalysisInputError("`prevalence` is the random-scorer baseline of AP, not a score: rank by another "
                                 "metric (e.g. ap, roc_auc, ece)")


def per_dataset_tables(cells: pd.DataFrame, metrics: list[str]) -> dict[str, pd.DataFrame]:
    """metric → dataset × (model, label) table of its fold-mean; NaN where that model × strategy has any
    cell on the dataset that is not ok (it failed there). One groupby for all metrics."""
    metrics = list(dict.fromkeys(metrics))
    grouped = cells.assign(_ok=cells["status"] == "ok").groupby(["dataset", "model", "label"], sort=True)
    means = grouped[metrics].mean()
    complete = grouped["_ok"].all()
    combos = pd.MultiIndex.from_frame(cells[["model", "label"]].drop_duplicates().sort_values(["model", "label"]))
    datasets = sorted(cells["dataset"].unique())
    return {metric: means[metric].where(complete).unstack(["model", "label"]).reindex(index=datasets, columns=combos)
            for metric in metrics}


def per_dataset(cells: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The dataset × (model, label) fold-mean table of one metric (see `per_dataset_tables`)."""
    return per_dataset_tables(cells, [metric])[metric]


def status_counts(cells: pd.DataFrame) -> pd.DataFrame:
    """(model, label) × status cell counts for the failure statuses, zeros where none."""
    counts = cells.groupby(["model", "label"])["status"].value_counts().unstack(fill_value=0)
    return counts.reindex(columns=list(STATUS_COLUMNS), fill_value=0)


@dataclass
class Leaderboard:
    """One leaderboard and everything needed to state how it was computed."""

    metric: str
    table: pd.DataFrame
    ranks: pd.DataFrame
    values: pd.DataFrame
    friedman: FriedmanResult
    nemenyi: pd.DataFrame | None
    policy: str
    alpha: float
    baseline: str
    dropped: list[str] = field(default_factory=list)
    group: str | None = None

    @property
    def n_datasets(self) -> int:
        return len(self.ranks)

    def notes(self) -> list[str]:
        """What the numbers mean: the tests, alpha and the failure policy, in plain sentences."""
        n_tests = int(self.table["p_wilcoxon"].notna().sum())
        lines = [
            f"rank: mean rank over {self.n_datasets} dataset{'' if self.n_datasets == 1 else 's'} (1 = best, ties averaged) by {self.metric} "
            f"({metric_direction(self.metric)} is better); CI: 95 % BCa bootstrap of the mean over datasets.",
            (f"vs `{self.baseline}`: win/tie/loss and two-sided Wilcoxon signed-rank test against `{self.baseline}` on "
             f"the same model, paired by dataset, Holm-corrected over {n_tests} comparisons at α={self.alpha:g}."
             if n_tests else f"vs `{self.baseline}`: no comparisons (no `{self.baseline}` baseline with results on the "
                             "same model)."),
            self.friedman.describe() + ("; ≈best: within CD of the best mean rank" if self.friedman.applicable else ""),
            f"failure policy ({self.policy}): {FAILURE_POLICIES[self.policy]}.",
        ]
        if self.dropped:
            shown = ", ".join(self.dropped[:5]) + (f" and {len(self.dropped) - 5} more" if len(self.dropped) > 5 else "")
            lines.append(f"left out: {len(self.dropped)} dataset(s) ({shown}).")
        return lines


def apply_policy(values: pd.DataFrame, policy: str) -> tuple[pd.DataFrame, list[str]]:
    """The datasets × strategies values to rank under `policy`, and the datasets it left out."""
    if policy not in FAILURE_POLICIES:
        raise AnalysisInputError(unknown_name_message("failure policy", policy, list(FAILURE_POLICIES)))
    keep = values.notna().all(axis=1) if policy == "drop" else values.notna().any(axis=1)
    return values[keep], list(values.index[~keep])


def build_leaderboard(cells: pd.DataFrame, metric: str = "ap", *, failed: str = DEFAULT_FAILURE_POLICY,
                      alpha: float = ALPHA, baseline: str = BASELINE, headline: tuple[str, ...] = HEADLINE,
                      seed: int = 0, n_resamples: int = 2000, group: str | None = None,
                      tables: dict[str, pd.DataFrame] | None = None, light: bool = False,
                      families: dict[str, str] | None = None) -> Leaderboard:
    """The leaderboard of `cells` ranked by `metric`; one row per (model, strategy), best mean rank first.

    `light=True` computes ranks, means and the Friedman/Nemenyi test only — no bootstrap intervals
    and no tests against the baseline (their columns stay empty): what the figures need, at a
    fraction of the cost. `tables` may pass precomputed `per_dataset_tables` of these cells and
    `families` the label → family map (else the strategy registry is asked, which imports it).
    """
    check_metric(cells, metric)
    wanted = [metric] + [m for m in headline if m != metric and m in cells.columns]
    if tables is None or any(m not in tables for m in wanted):
        tables = per_dataset_tables(cells, wanted)
    raw = tables[metric]
    values, dropped = apply_policy(raw, failed)
    ranks = rank_table(values, metric)
    empty = ("no dataset where every model×strategy has results (try --failed rank-last)" if failed == "drop"
             else "no dataset has results")
    friedman = friedman_test(ranks, alpha) if len(ranks) else FriedmanResult(0, ranks.shape[1], alpha, reason=empty)
    nemenyi = nemenyi_pvalues(ranks) if friedman.applicable else None

    out = pd.DataFrame(index=raw.columns)
    if families is None:
        families = (dict(cells[["label", "family"]].drop_duplicates("label").itertuples(index=False))
                    if "family" in cells.columns else {})
    out["family"] = [families.get(label, "unknown") for _, label in raw.columns]
    out["mean_rank"] = ranks.mean() if len(ranks) else np.nan
    out[metric] = values.mean()
    out[f"{metric}_median"] = values.median()
    intervals = [(np.nan, np.nan) if light else bootstrap_ci(values[c].to_numpy(), n_resamples=n_resamples, seed=seed)
                 for c in values.columns]
    out[f"{metric}_ci_low"] = [lo for lo, _ in intervals]
    out[f"{metric}_ci_high"] = [hi for _, hi in intervals]
    for name in wanted[1:]:
        out[name] = tables[name].loc[values.index].mean()
    out = out.join(_baseline_columns(values, metric, baseline, alpha, tests=not light))
    best = out["mean_rank"].min()
    out["within_cd_of_best"] = (out["mean_rank"] - best <= friedman.critical_difference) if friedman.applicable \
        else pd.Series(pd.NA, index=out.index, dtype="boolean")
    out["datasets"] = values.notna().sum()
    out["failed_datasets"] = raw.isna().sum()
    out = out.join(status_counts(cells)).fillna({name: 0 for name in STATUS_COLUMNS})
    out[list(STATUS_COLUMNS)] = out[list(STATUS_COLUMNS)].astype(int)
    out.index = out.index.set_names(["model", "strategy"])
    table = out.sort_values(["mean_rank", "model"], kind="stable").reset_index()
    return Leaderboard(metric, table, ranks, values, friedman, nemenyi, failed, alpha, baseline, dropped, group)


def _strategy_names(cells: pd.DataFrame, combos: pd.MultiIndex) -> list[str]:
    name_of = cells.drop_duplicates("label").set_index("label")["strategy"]
    return [name_of.get(label, label) for _, label in combos]


def _baseline_columns(values: pd.DataFrame, metric: str, baseline: str, alpha: float,
                      tests: bool = True) -> pd.DataFrame:
    """Δ, win/tie/loss, Wilcoxon p and Holm-adjusted p against the same model's baseline (empty
    columns without `tests`)."""
    rows = {}
    for model, label in values.columns:
        if not tests or label == baseline or (model, baseline) not in values.columns:
            continue
        comparison = compare_to_baseline(values[(model, label)], values[(model, baseline)], metric)
        rows[(model, label)] = {f"delta_{metric}_vs_{baseline}": comparison.delta_mean, "wins": comparison.wins,
                                "ties": comparison.ties, "losses": comparison.losses,
                                "p_wilcoxon": comparison.p_value}
    columns = [f"delta_{metric}_vs_{baseline}", "wins", "ties", "losses", "p_wilcoxon"]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    frame = frame.reindex(values.columns)
    for model in values.columns.get_level_values(0).unique():
        if (model, baseline) in values.columns:
            frame.loc[(model, baseline), f"delta_{metric}_vs_{baseline}"] = 0.0
    frame["p_holm"] = holm(frame["p_wilcoxon"], alpha)
    frame["significant"] = (frame["p_holm"] < alpha).where(frame["p_holm"].notna()).astype("boolean")
    for name in ("wins", "ties", "losses"):
        frame[name] = frame[name].astype("Int64")
    return frame


def _bands(values: pd.Series, edges: list[float], labels: list[str], unknown: str) -> pd.Series:
    """Values cut into ordered bands (a categorical, so groups sort in band order, unknown last)."""
    bands = pd.cut(values.astype(float), edges, right=False, labels=labels)
    return bands.cat.add_categories([unknown]).fillna(unknown)


def ir_band(datasets: pd.DataFrame) -> pd.Series:
    return _bands(datasets["ir"], [0, 3, 10, 30, math.inf], ["IR<3", "3≤IR<10", "10≤IR<30", "IR≥30"], "IR unknown")


def size_band(datasets: pd.DataFrame) -> pd.Series:
    n = datasets["n"] if "n" in datasets.columns else pd.Series(np.nan, index=datasets.index)
    return _bands(n, [0, 1_000, 10_000, math.inf], ["n<1k", "1k≤n<10k", "n≥10k"], "n unknown")


def source(datasets: pd.DataFrame) -> pd.Series:
    if "source" in datasets.columns:
        return datasets["source"].fillna("unknown").astype(str)
    return pd.Series([name.split(":")[0] if ":" in name else "unknown" for name in datasets.index],
                     index=datasets.index)


#: Ways to group datasets for `imbench leaderboard --by`: name → function of the dataset table.
DATASET_GROUPS = {"ir": ir_band, "size": size_band, "source": source}


def dataset_groups(datasets: pd.DataFrame, by: str) -> pd.Series:
    """dataset name → group label for `by` (one of DATASET_GROUPS)."""
    if by not in DATASET_GROUPS:
        raise AnalysisInputError(unknown_name_message("dataset grouping", by, list(DATASET_GROUPS)))
    return DATASET_GROUPS[by](datasets)


def grouped_leaderboards(cells: pd.DataFrame, groups: pd.Series, metric: str = "ap",
                         **options: object) -> list[Leaderboard]:
    """One leaderboard per dataset group (band order for bands), each with its own statistics."""
    check_metric(cells, metric)
    order = list(groups.cat.categories) if isinstance(groups.dtype, pd.CategoricalDtype) else sorted(groups.unique())
    boards = []
    for name in order:
        part = cells[cells["dataset"].isin(groups.index[groups == name])]
        if len(part):
            boards.append(build_leaderboard(part, metric, group=str(name), **options))  # type: ignore[arg-type]
    return boards
