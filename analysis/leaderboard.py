"""Leaderboards from the results frame: mean ranks over datasets with the statistics to trust them.

A board ranks the labels of one model by one metric (`leaderboards(..., pool_models=True)` gives one
board over every model × label instead). It is *paired and complete*: folds are averaged within each
dataset (datasets, not folds, are the independent units), and a dataset enters the board only when
every compared label — and the baseline — has all its folds there (`analysis.coverage`). What is left
out is said, per label, in the notes (`analysis.board_notes`):

- a label that does not carry the metric (a threshold step does not change AP) is not in the board;
- a label with no dataset where it has every fold (a combination skipped everywhere) is not ranked;
- labels of family `baseline` (chance references) are shown below the ranked rows, never ranked or tested;
- a data-dependent skip takes the dataset out of the board, never ranks the label as a loss;
- failures follow the policy: `drop` (default) leaves those datasets out, `rank-last` keeps them and
  ranks the failed label last there.

Per compared label: mean rank (1 = best), mean and median of the metric with a 95 % bootstrap
interval over datasets, Δ mean and median, win/tie/loss and a Wilcoxon signed-rank test against the
baseline (`analysis.baseline`), Holm-corrected over the board, and the Bayesian signed-rank test's
P(better / equivalent / worse) with a ROPE (`analysis.bayes`); across the board, Friedman's test with
Nemenyi's critical difference (`analysis.statistics`). Degenerate fits are counted per label.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from imbench.analysis.baseline import Baseline, comparison_columns, parse_baseline
from imbench.analysis.bayes import rope_for
from imbench.analysis.coverage import (COMPLETE, carried_labels, coverage_table, describe_lacks, folds_per_dataset,
                               lacking_counts, wide)
from imbench.analysis.loading import Completeness, metric_columns
from imbench.analysis.statistics import ALPHA, FriedmanResult, bootstrap_ci, friedman_test, nemenyi_pvalues, rank_table
from imbench.foundation.metrics import HEADLINE, reference_value_message, unknown_metric
from imbench.foundation.names import unknown_name_message

FAILURE_POLICIES = {
    "drop": "datasets where a compared strategy failed are left out for all, so every strategy is compared on the "
            "same datasets",
    "rank-last": "a strategy that failed on a dataset is ranked last there (tied with the other failures) and loses "
                 "its comparison; its mean, median and CI use the datasets where it has results",
}
DEFAULT_FAILURE_POLICY = "drop"
#: Family of chance/reference labels (a random scorer, the prior): shown, never ranked or tested.
REFERENCE_FAMILY = "baseline"


class AnalysisInputError(ValueError):
    """A request the stored results cannot answer (e.g. ranking by a reference value)."""


def check_metric(results: pd.DataFrame, metric: str) -> None:
    """Raise a one-line user error naming the closest stored metrics when `metric` is not stored."""
    available = metric_columns(results)
    if metric not in available:
        raise unknown_metric(metric, available)
    message = reference_value_message(metric)
    if message:
        raise AnalysisInputError(message)


def check_policy(policy: str) -> None:
    if policy not in FAILURE_POLICIES:
        raise AnalysisInputError(unknown_name_message("failure policy", policy, list(FAILURE_POLICIES)))


@dataclass
class LeftOut:
    """A label of the board's scope that is not ranked, why, and what it lacks (`3 of 24 datasets: 3 skipped`)."""

    model: str
    label: str
    reason: str
    lacks: str = ""


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
    baseline: Baseline
    #: The model whose labels are ranked; None when the board pools every model × label.
    model: str | None = None
    group: str | None = None
    #: Datasets in the board's scope (the group's, or the run's), compared or not.
    datasets_total: int = 0
    #: Datasets left out → why (which compared label lacks it, and why).
    dropped: dict[str, str] = field(default_factory=dict)
    left_out: list[LeftOut] = field(default_factory=list)
    #: Datasets × compared columns: the baseline's value paired with each column (NaN where it has none).
    baseline_values: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Why there are no comparisons with the baseline ('' when there are).
    baseline_problem: str = ""
    #: (stored final cells, planned cells) of the run, when known.
    completeness: tuple[int, int] | None = None
    #: Width of the region of practical equivalence of the Bayesian comparisons, in the metric's units.
    rope: float = 0.01

    @property
    def n_datasets(self) -> int:
        return len(self.ranks)

    @property
    def pooled(self) -> bool:
        return self.model is None

    @property
    def incomplete(self) -> str:
        """`incomplete: N of M results` when the store holds fewer final results than its spec plans (and
        `run in progress` while a run writes it): analysis.loading.Completeness says it."""
        if self.completeness is None:
            return ""
        if not hasattr(self.completeness, "describe"):  # a plain (stored, planned) pair
            return Completeness(*self.completeness).describe()
        return self.completeness.describe()

    def deltas(self) -> pd.DataFrame:
        """Long table (dataset, model, strategy, delta) of each compared label minus its baseline on the
        board's datasets where both have results (what the improvement and regime figures draw)."""
        rows = []
        for column in self.values.columns:
            if column not in self.baseline_values.columns or self.baseline.column_for(column[0]) == column:
                continue
            delta = (self.values[column] - self.baseline_values[column]).dropna()
            rows.append(pd.DataFrame({"dataset": delta.index, "model": column[0], "strategy": column[1],
                                      "delta": delta.to_numpy()}))
        empty = pd.DataFrame(columns=["dataset", "model", "strategy", "delta"])
        return pd.concat(rows, ignore_index=True) if rows else empty


class CoverageCache:
    """Coverage tables of one results frame, per metric, shared by the boards built from it (the
    per-model boards of a run, the headline columns, the figures)."""

    def __init__(self, results: pd.DataFrame, planned_folds: int | None = None) -> None:
        self.results = results
        self.folds = folds_per_dataset(results, planned_folds)
        self._tables: dict[str, pd.DataFrame] = {}
        self._carried: dict[str, pd.Series] = {}
        self._wide: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}

    def table(self, metric: str) -> pd.DataFrame:
        if metric not in self._tables:
            self._tables[metric] = coverage_table(self.results, metric, self.folds)
        return self._tables[metric]

    def carried(self, metric: str) -> pd.Series:
        if metric not in self._carried:
            self._carried[metric] = carried_labels(self.results, metric)
        return self._carried[metric]

    def has_ok(self) -> pd.Series:
        """(model, label) → whether any of its rows is ok."""
        if "has_ok" not in self._carried:
            ok = self.results["status"] == "ok"
            self._carried["has_ok"] = ok.groupby([self.results["model"], self.results["label"]]).any()
        return self._carried["has_ok"]

    def wide(self, metric: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(states, complete fold means): dataset × (model, label) tables of `metric`; a mean is NaN
        unless the state is complete."""
        key = f"wide:{metric}"
        if key not in self._wide:
            table = self.table(metric)
            states = wide(table, "state")
            self._wide[key] = (states, wide(table, "value").where(states == COMPLETE))
        return self._wide[key]


def leaderboards(results: pd.DataFrame, metric: str = "ap", *, pool_models: bool = False,
                 models: list[str] | None = None, cache: CoverageCache | None = None,
                 **options: object) -> list[Leaderboard]:
    """One board per model (in `models` order, default every model), or one pooled board."""
    check_metric(results, metric)
    cache = cache or CoverageCache(results)
    if pool_models:
        return [build_leaderboard(results, metric, cache=cache, **options)]  # type: ignore[arg-type]
    chosen = models if models is not None else ranked_models(results)
    return [build_leaderboard(results, metric, model=model, cache=cache, **options)  # type: ignore[arg-type]
            for model in chosen]


def ranked_models(results: pd.DataFrame) -> list[str]:
    """Models that get a board of their own: every model but the chance references (`prior`,
    `random`, whose cells are all of family `baseline`), which appear as rows of every board instead;
    all models when there is nothing else."""
    only_reference = (results["family"] == REFERENCE_FAMILY).groupby(results["model"]).all()
    chosen = sorted(m for m, reference in only_reference.items() if not reference)
    return chosen or sorted(only_reference.index)


def build_leaderboard(results: pd.DataFrame, metric: str = "ap", *, model: str | None = None,
                      failed: str = DEFAULT_FAILURE_POLICY, alpha: float = ALPHA, baseline: str | Baseline = "none",
                      headline: tuple[str, ...] = HEADLINE, seed: int = 0, n_resamples: int = 2000,
                      group: str | None = None, light: bool = False, cache: CoverageCache | None = None,
                      completeness: tuple[int, int] | None = None, rope: float | None = None) -> Leaderboard:
    """The board of `model`'s labels (every model × label when `model` is None) ranked by `metric`.

    `results` is the whole frame (or a dataset group of it): a `MODEL/LABEL` baseline may come from
    another model. `light=True` skips the bootstrap intervals and the baseline tests (their columns
    stay empty): what the figures need, at a fraction of the cost. `cache` shares coverage tables
    between boards of the same frame.
    """
    check_metric(results, metric)
    check_policy(failed)
    cache = cache or CoverageCache(results)
    models = sorted(results["model"].unique())
    baseline = parse_baseline(baseline, models, sorted(results["label"].unique()))
    states, means = cache.wide(metric)
    carried = cache.carried(metric)
    kinds = results.drop_duplicates(["model", "label"]).set_index(["model", "label"])
    families = kinds["family"]

    scope = [c for c in states.columns if model is None or c[0] == model]
    lacks = lacking_counts(states[scope])
    has_ok = cache.has_ok()
    candidates = [c for c in scope if carried.get(c, False)]
    # chance rows (family `baseline`, as they come: no post-hoc step) of any model are shown on every board
    references = [c for c in states.columns if carried.get(c, False) and families.get(c) == REFERENCE_FAMILY
                  and kinds["posthoc"].get(c, "none") == "none"]
    ranked = [c for c in candidates if c not in references and (states[c] == COMPLETE).any()]
    left_out = []
    for column in [c for c in scope if c not in ranked and c not in references]:
        if has_ok.get(column, False) and not carried.get(column, False):
            left_out.append(LeftOut(*column, f"does not carry {metric}"))
        else:
            reason = "no dataset with every fold" if has_ok.get(column, False) else "no ok cell"
            left_out.append(LeftOut(*column, reason, describe_lacks(lacks.loc[column], len(states.index))))

    pairs = {c: baseline.column_for(c[0]) for c in ranked}
    usable_baselines = {b for b in set(pairs.values()) if b in states.columns and carried.get(b, False)
                        and (states[b] == COMPLETE).any()}
    pairs = {c: b for c, b in pairs.items() if b in usable_baselines}
    problem = "" if pairs else _baseline_problem(baseline, ranked, states, carried, metric)
    required = ranked + sorted(usable_baselines - set(ranked))
    usable = {COMPLETE} | ({"failed"} if failed == "rank-last" else set())
    kept, dropped = _board_datasets(states, required, ranked, usable)

    values = means.loc[kept, ranked]
    ranks = rank_table(values, metric)
    empty = "no dataset where every compared strategy has all its folds" if ranked else "no strategy to rank"
    friedman = (friedman_test(ranks, alpha) if len(ranks) and ranked
                else FriedmanResult(len(ranks), len(ranked), alpha, reason=empty))
    nemenyi = nemenyi_pvalues(ranks) if friedman.applicable else None
    baseline_values = pd.DataFrame({c: means.loc[kept, b] for c, b in pairs.items()}, index=kept)
    if pairs:
        baseline_values.columns = pd.MultiIndex.from_tuples(list(pairs), names=["model", "label"])

    table = _ranked_rows(values, ranks, metric, families, friedman, seed, n_resamples, light)
    rope = rope_for(metric, rope)
    compared = comparison_columns(values, baseline_values, metric, baseline, alpha, tests=not light, rope=rope,
                                  seed=seed)
    table = table.join(compared)
    chance = (cache.wide("ap_random")[1].reindex(index=kept, columns=references)
              if references and "ap_random" in results else None)
    table = pd.concat([table, _reference_rows(means.loc[kept, references], metric, families, chance)])
    for name in [m for m in headline if m != metric and m in results.columns]:
        table[name] = cache.wide(name)[1].reindex(index=kept, columns=table.index).mean()
    table = _with_counts(table, cache.table(metric), lacks, means.loc[kept, ranked + references])
    table.index = table.index.set_names(["model", "strategy"])
    return Leaderboard(metric, table.reset_index(), ranks, values, friedman, nemenyi, failed, alpha, baseline, model,
                       group, len(states.index), dropped, left_out, baseline_values, problem, completeness, rope)


def _baseline_problem(baseline: Baseline, ranked: list[tuple[str, str]], states: pd.DataFrame,
                      carried: pd.Series, metric: str) -> str:
    """Why no label of the board can be compared with its baseline."""
    if not ranked:
        return "nothing to compare"
    wanted = sorted({baseline.column_for(m) for m, _ in ranked})
    present = [c for c in wanted if c in states.columns]
    if not present:
        return f"{baseline.describe()} is not in this board's results"
    if not any(carried.get(c, False) for c in present):
        return f"{baseline.describe()} does not carry {metric}"
    return f"{baseline.describe()} has no dataset with every fold"


def _board_datasets(states: pd.DataFrame, required: list[tuple[str, str]], ranked: list[tuple[str, str]],
                    usable: set[str]) -> tuple[list[str], dict[str, str]]:
    """The datasets where every required column is usable (and some ranked column complete), and the
    others with the first reasons found, e.g. `smote: skipped`."""
    if not ranked:
        return [], {}
    part = states[required]
    fine = part.isin(usable)
    ok = (fine.all(axis=1) & (states[ranked] == COMPLETE).any(axis=1)).to_numpy()
    # only the datasets left out are described, on plain arrays: on a large store most datasets of a
    # board are left out, and a pandas lookup per dataset cost seconds per board set
    names = [_name(c, ranked) for c in required]
    left_states, left_bad = part.to_numpy()[~ok], ~fine.to_numpy()[~ok]
    dropped = {}
    for dataset, row, bad in zip(states.index[~ok], left_states, left_bad):
        reasons = [f"{names[j]}: {row[j]}" for j in np.flatnonzero(bad)]
        dropped[dataset] = ("; ".join(reasons[:2]) + (f" and {len(reasons) - 2} more" if len(reasons) > 2 else "")
                            if reasons else "every compared strategy failed")
    return list(states.index[ok]), dropped


def _name(column: tuple[str, str], ranked: list[tuple[str, str]]) -> str:
    models = {m for m, _ in ranked}
    return column[1] if len(models) == 1 and column[0] in models else f"{column[0]}/{column[1]}"


def _ranked_rows(values: pd.DataFrame, ranks: pd.DataFrame, metric: str, families: pd.Series,
                 friedman: FriedmanResult, seed: int, n_resamples: int, light: bool) -> pd.DataFrame:
    out = pd.DataFrame(index=values.columns)
    out["family"] = [families.get(c, "unknown") for c in values.columns]
    out["role"] = "ranked"
    out["mean_rank"] = ranks.mean() if len(ranks) else np.nan
    out[metric] = values.mean()
    out[f"{metric}_median"] = values.median()
    intervals = [(math.nan, math.nan) if light else bootstrap_ci(values[c].to_numpy(), n_resamples=n_resamples,
                                                                   seed=seed) for c in values.columns]
    out[f"{metric}_ci_low"] = [lo for lo, _ in intervals]
    out[f"{metric}_ci_high"] = [hi for _, hi in intervals]
    best = out["mean_rank"].min()
    out["within_cd_of_best"] = ((out["mean_rank"] - best <= friedman.critical_difference) if friedman.applicable
                                else pd.Series(pd.NA, index=out.index)).astype("boolean")
    return out.sort_values("mean_rank", kind="stable")


def _reference_rows(values: pd.DataFrame, metric: str, families: pd.Series,
                    chance: pd.DataFrame | None = None) -> pd.DataFrame:
    """Chance rows: their mean and median on the board's datasets and, where stored, `ap_random`, the
    exact expected AP of a random ranking for each fold's class counts (fold means, then datasets)."""
    out = pd.DataFrame(index=values.columns)
    out["family"] = [families.get(c, "unknown") for c in values.columns]
    out["role"] = "reference"
    out[metric] = values.mean()
    out[f"{metric}_median"] = values.median()
    if chance is not None and len(values.columns):
        out["ap_random"] = chance.mean()
    return out


def _with_counts(table: pd.DataFrame, coverage: pd.DataFrame, lacks: pd.DataFrame, values: pd.DataFrame
                 ) -> pd.DataFrame:
    """Datasets with a value and (ranked rows) ranked last, datasets lacking by reason, and cell counts
    (incl. degenerate)."""
    rows = list(table.index)
    table["datasets"] = values.notna().sum().reindex(rows).fillna(0).astype(int)
    table["failed_datasets"] = values.isna().sum().reindex(rows).where(table["role"] == "ranked", 0).fillna(0).astype(int)
    lacks = lacks.reindex(rows).fillna(0).astype(int)
    table = table.join(lacks.add_prefix("lacks_").rename(columns=lambda c: c.replace(" ", "_")))
    cells = coverage.groupby(level=["model", "label"])[["cells", "degenerate", "no_alert", "skipped", "failed"]].sum()
    cells = cells.rename(columns={"skipped": "skipped_cells", "failed": "failed_cells"})
    return table.join(cells.reindex(rows).fillna(0).astype(int))


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


def grouped_leaderboards(results: pd.DataFrame, groups: pd.Series, metric: str = "ap", *,
                         planned_folds: int | None = None, **options: object) -> list[Leaderboard]:
    """Per dataset group (band order for bands): its boards (one per model, or pooled), each with
    its own statistics. Folds expected per dataset are those of the whole run."""
    check_metric(results, metric)
    folds = folds_per_dataset(results, planned_folds)
    order = list(groups.cat.categories) if isinstance(groups.dtype, pd.CategoricalDtype) else sorted(groups.unique())
    boards = []
    for name in order:
        part = results[results["dataset"].isin(groups.index[groups == name])]
        if len(part):
            cache = CoverageCache(part)
            cache.folds = folds.reindex(sorted(part["dataset"].unique()))
            boards += leaderboards(part, metric, cache=cache, group=str(name), **options)  # type: ignore[arg-type]
    return boards
