"""What a post-hoc step adds to its own strategy: `smote+threshold:f1` against `smote` on the same
model, per (model, strategy, step), paired by dataset (`imbench leaderboard --posthoc-effect`).

A leaderboard compares labels with one baseline; this view answers the other question a practitioner
asks — "does tuning the threshold (or calibrating) help *this* strategy?" — on the metric the step
is for: by default `f1@deployed` for threshold steps (a base label has it at threshold 0.5) and
`ece` for calibration and prior correction; `--metric` chooses one for every step. Both sides must
carry the metric and have every fold on a dataset for it to count (`analysis.coverage`), failures
never count as a loss here, and the Holm family is one model's comparisons (all of them with
`--pool-models`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from imbench.analysis.coverage import COMPLETE
from imbench.analysis.leaderboard import CoverageCache
from imbench.analysis.statistics import ALPHA, compare_to_baseline, holm

#: Metric a step is judged by unless `--metric` says otherwise, by step name (the part before ":").
DEFAULT_METRICS = {"threshold": "f1@deployed", "calibrate": "ece", "prior": "ece"}
COLUMNS = ["model", "strategy", "step", "label", "metric", "datasets", "delta_mean", "delta_median", "wins", "ties",
           "losses", "p_wilcoxon", "wilcoxon_note", "p_holm", "significant", "alerts_inner", "alerts_test"]
#: The alert rate each derived result's threshold gives on the inner folds and on the test fold.
ALERT_RATES = ("alert_rate@inner", "alert_rate@deployed")


@dataclass
class PosthocEffects:
    """One row per (model, strategy, step) compared, and the notes saying what could not be."""

    table: pd.DataFrame
    alpha: float
    pooled: bool
    notes: list[str] = field(default_factory=list)


def step_metric(step: str, metric: str | None) -> str | None:
    """The metric a step is judged by: `metric` when given, else its default (None: no default)."""
    return metric or DEFAULT_METRICS.get(step.split(":", 1)[0])


def posthoc_effects(results: pd.DataFrame, metric: str | None = None, *, alpha: float = ALPHA,
                    pool_models: bool = False, cache: CoverageCache | None = None) -> PosthocEffects:
    """Each derived label (post-hoc step other than "none") against its base label on the same model."""
    cache = cache or CoverageCache(results)
    steps = (results["posthoc"] != "none") & (results["family"] != "baseline")  # chance rows get no step view
    derived = results.loc[steps, ["model", "label", "base_label", "posthoc"]].drop_duplicates()
    rows, notes = [], []
    for model, label, base, step in derived.sort_values(["model", "base_label", "posthoc"]).itertuples(index=False):
        name = step_metric(step, metric)
        if name is None:
            notes.append(f"{model} {label}: no default metric for step `{step}`; choose one with --metric.")
            continue
        if name not in results.columns:
            notes.append(f"{model} {label}: {name} is not stored.")
            continue
        unusable = [_why_not(cache, model, lab, name) for lab in (label, base)]
        if any(unusable):
            notes.append(f"{model} {label} not compared: {'; '.join(u for u in unusable if u)}.")
            continue
        states, means = cache.wide(name)
        both = (states[(model, label)] == COMPLETE) & (states[(model, base)] == COMPLETE)
        result = compare_to_baseline(means.loc[both, (model, label)], means.loc[both, (model, base)], name)
        rows.append({"model": model, "strategy": base, "step": step, "label": label, "metric": name,
                     "datasets": int(both.sum()), "delta_mean": result.delta_mean, "delta_median": result.delta_median,
                     "wins": result.wins, "ties": result.ties, "losses": result.losses, "p_wilcoxon": result.p_value,
                     "wilcoxon_note": result.reason, **_alert_rates(results, model, label, both)})
    table = pd.DataFrame(rows, columns=COLUMNS)
    families = [table.index] if pool_models else [part.index for _, part in table.groupby("model")]
    for index in families:
        table.loc[index, "p_holm"] = holm(table.loc[index, "p_wilcoxon"].astype(float), alpha)
    table["significant"] = (table["p_holm"] < alpha).where(table["p_holm"].notna()).astype("boolean")
    return PosthocEffects(table, alpha, pool_models, notes + _method_notes(table, alpha, pool_models, metric))


def _alert_rates(results: pd.DataFrame, model: str, label: str, datasets: pd.Series) -> dict[str, float]:
    """Mean alert rate of a threshold label on the inner folds and on the test fold (datasets compared,
    fold means first): a gap shows the final model scoring unlike the inner models it was tuned on."""
    if not all(name in results.columns for name in ALERT_RATES) or not label.split("+", 1)[-1].startswith("threshold"):
        return {"alerts_inner": float("nan"), "alerts_test": float("nan")}
    rows = results[(results["model"] == model) & (results["label"] == label) & (results["status"] == "ok")
                   & results["dataset"].isin(datasets.index[datasets])]
    means = rows.groupby("dataset")[list(ALERT_RATES)].mean().mean()
    return {"alerts_inner": float(means[ALERT_RATES[0]]), "alerts_test": float(means[ALERT_RATES[1]])}


def _why_not(cache: CoverageCache, model: str, label: str, metric: str) -> str:
    """Why `label` cannot be compared on `metric` ('' when it can)."""
    if not cache.has_ok().get((model, label), False):
        return f"`{label}` has no ok cell"
    if not cache.carried(metric).get((model, label), False):
        return f"`{label}` does not carry {metric}"
    return ""


def _method_notes(table: pd.DataFrame, alpha: float, pooled: bool, metric: str | None) -> list[str]:
    chosen = (f"every step by {metric}" if metric else
              "threshold steps by f1@deployed (a strategy without a step has it at threshold 0.5), calibration and "
              "prior steps by ece (--metric chooses one for every step)")
    lines = [f"Δmean and Δmed: mean and median over datasets of (strategy+step − strategy) on the same model; "
             f"{chosen}; a dataset counts when both have every fold there.",
             f"W/T/L counts a win when the step makes the metric better (for ece: lower); two-sided Wilcoxon "
             f"signed-rank tests paired by dataset, Holm-corrected over "
             f"{'all comparisons' if pooled else 'each model’s comparisons'} at α={alpha:g}.",
             "alerts in→test (threshold steps): the mean alert rate of the deployed threshold on the training "
             "fold's inner folds and on the test fold; a gap means the final model, refitted on the whole "
             "training fold, scores unlike the inner models (expected for boosting or resampling)."]
    skipped = table[table["wilcoxon_note"] != ""]
    for reason, part in skipped.groupby("wilcoxon_note"):
        names = ", ".join(f"{r.model} {r.label}" for r in part.itertuples(index=False))
        lines.append(f"Wilcoxon not run for {names}: {reason}.")
    return lines
