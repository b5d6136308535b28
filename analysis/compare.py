"""Run against run (`imbench compare A B`): the same labels in two stores — two versions of imbench, two
seeds, last month's run — paired by dataset means where both stores have every fold of the label.

Per (model, label) in both stores: the mean difference B − A over the paired datasets with a 95 % BCa
bootstrap interval, the median, win/tie/loss (oriented: a win is B better), the two-sided Wilcoxon
signed-rank test (Holm over every label compared) and the Bayesian signed-rank test with a ROPE
(`analysis.bayes`). Datasets are the independent units, as on a board. Both stores must use the same
cross-validation (folds × repeats): a dataset mean over other splits is another quantity. A different
run seed is allowed and said: the differences then include the split-to-split noise, which is what
two seeds of one grid measure. Labels, and datasets, found in one store only are listed, never
silently dropped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from imbench.analysis.bayes import bayes_signed_rank, rope_for
from imbench.analysis.coverage import COMPLETE
from imbench.analysis.leaderboard import AnalysisInputError, CoverageCache, check_metric
from imbench.analysis.loading import RunResults
from imbench.analysis.statistics import ALPHA, bootstrap_ci, compare_to_baseline, holm

COLUMNS = ["model", "strategy", "datasets", "a_mean", "b_mean", "delta_mean", "ci_low", "ci_high", "delta_median",
           "wins", "ties", "losses", "p_wilcoxon", "wilcoxon_note", "p_holm", "significant", "rope", "p_better",
           "p_equivalent", "p_worse"]


@dataclass
class Comparison:
    """`table`: one row per label in both stores; `unmatched`: (what, name, only in) rows; `notes`."""

    metric: str
    table: pd.DataFrame
    unmatched: pd.DataFrame
    alpha: float
    rope: float
    a: str
    b: str
    notes: list[str] = field(default_factory=list)


def cv_of(run: RunResults) -> tuple[object, object]:
    cv = (run.meta.get("spec") or {}).get("cv") or {}
    return cv.get("n_splits"), cv.get("n_repeats")


def seed_of(run: RunResults) -> object:
    return (run.meta.get("spec") or {}).get("seed")


def check_compatible(a: RunResults, b: RunResults, metric: str) -> None:
    """Same cross-validation, and the metric stored in both (AnalysisInputError otherwise)."""
    if cv_of(a) != cv_of(b):
        raise AnalysisInputError(f"{a.results_dir} and {b.results_dir} use different cross-validation "
                                 f"(n_splits, n_repeats = {cv_of(a)} vs {cv_of(b)}): dataset means over other splits "
                                 "are not comparable")
    for run in (a, b):
        check_metric(run.results, metric)


def complete_means(run: RunResults, metric: str) -> pd.DataFrame:
    """dataset × (model, label) fold means of `metric`, NaN unless the label has every fold there."""
    states, means = CoverageCache(run.results, run.planned_folds).wide(metric)
    return means.where(states == COMPLETE)


def compare_runs(a: RunResults, b: RunResults, metric: str = "ap", *, alpha: float = ALPHA,
                 rope: float | None = None, seed: int = 0, n_resamples: int = 2000) -> Comparison:
    """Every label of both stores compared (B − A), paired by dataset (see the module docstring)."""
    check_compatible(a, b, metric)
    rope = rope_for(metric, rope)
    means_a, means_b = complete_means(a, metric), complete_means(b, metric)
    carried_a = {c for c in means_a.columns if means_a[c].notna().any()}
    carried_b = {c for c in means_b.columns if means_b[c].notna().any()}
    rows = []
    for column in sorted(carried_a & carried_b):
        x, y = means_a[column].align(means_b[column])
        both = x.notna() & y.notna()
        diff = (y - x)[both]
        result = compare_to_baseline(y[both], x[both], metric)
        bayes = bayes_signed_rank(y[both], x[both], metric, rope, seed)
        low, high = bootstrap_ci(diff.to_numpy(), n_resamples=n_resamples, seed=seed)
        rows.append({"model": column[0], "strategy": column[1], "datasets": int(both.sum()),
                     "a_mean": float(x[both].mean()) if both.any() else math.nan,
                     "b_mean": float(y[both].mean()) if both.any() else math.nan,
                     "delta_mean": result.delta_mean, "ci_low": low, "ci_high": high,
                     "delta_median": result.delta_median, "wins": result.wins, "ties": result.ties,
                     "losses": result.losses, "p_wilcoxon": result.p_value,
                     "wilcoxon_note": result.reason or bayes.reason, "rope": rope, "p_better": bayes.p_better,
                     "p_equivalent": bayes.p_equivalent, "p_worse": bayes.p_worse})
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["p_holm"] = holm(table["p_wilcoxon"].astype(float), alpha).to_numpy() if len(table) else []
    table["significant"] = (table["p_holm"] < alpha).where(table["p_holm"].notna()).astype("boolean")
    unmatched = _unmatched(a, b, carried_a, carried_b)
    return Comparison(metric, table, unmatched, alpha, rope, str(a.results_dir), str(b.results_dir),
                      _notes(a, b, metric, alpha, rope, table, unmatched))


def _unmatched(a: RunResults, b: RunResults, carried_a: set[tuple[str, str]], carried_b: set[tuple[str, str]]
               ) -> pd.DataFrame:
    rows = [{"what": "label", "name": f"{m}/{s}", "only_in": "A"} for m, s in sorted(carried_a - carried_b)]
    rows += [{"what": "label", "name": f"{m}/{s}", "only_in": "B"} for m, s in sorted(carried_b - carried_a)]
    data_a, data_b = set(a.results["dataset"]), set(b.results["dataset"])
    rows += [{"what": "dataset", "name": d, "only_in": "A"} for d in sorted(data_a - data_b)]
    rows += [{"what": "dataset", "name": d, "only_in": "B"} for d in sorted(data_b - data_a)]
    return pd.DataFrame(rows, columns=["what", "name", "only_in"])


def _notes(a: RunResults, b: RunResults, metric: str, alpha: float, rope: float, table: pd.DataFrame,
           unmatched: pd.DataFrame) -> list[str]:
    n_tests = int(table["p_wilcoxon"].notna().sum())
    lines = [f"A = {a.results_dir}, B = {b.results_dir}; Δ = B − A in {metric}, mean over the datasets where both "
             "stores have every fold of the label (folds averaged first), 95 % BCa bootstrap interval; W/T/L: B "
             f"better/tied/worse; Wilcoxon signed-rank, Holm over the {n_tests} test{'' if n_tests == 1 else 's'} at "
             f"α={alpha:g}; P(b/=/w): Bayesian signed-rank test, ROPE {rope:g} (--rope)."]
    if seed_of(a) != seed_of(b):
        lines.append(f"the run seeds differ ({seed_of(a)} vs {seed_of(b)}): the folds differ, so the differences "
                     "include split-to-split noise (what two seeds of one grid measure).")
    untested = table[table["wilcoxon_note"] != ""]
    for reason, part in untested.groupby("wilcoxon_note"):
        names = ", ".join(f"{m}/{s}" for m, s in zip(part["model"], part["strategy"]))
        lines.append(f"tests not run for {names}: {reason}.")
    for (what, where), part in unmatched.groupby(["what", "only_in"]):
        names = list(part["name"])
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        lines.append(f"{len(names)} {what}{'s' if len(names) > 1 else ''} in {where} only (not compared): {shown}.")
    if table.empty:
        lines.append("no label has a dataset with every fold in both stores: nothing to compare.")
    return lines

