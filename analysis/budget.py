"""Alert budgets: which strategy delivers N alerts a day at the precision a team needs, also under drift?

A team can review N alerts a day out of a population of M scored cases; what matters is the volume
and precision a threshold delivers, and what happens to both when the share of positives drifts.

Per fold, the threshold is picked on the training fold's out-of-fold predictions only
(`foundation.posthoc.choose_budget_threshold`): the most alerts within N/M (≈ N/M when scores are
fine-grained) with precision ≥ the floor, else fewer alerts that keep the floor, else the most
precise threshold within the budget, else — when even the fewest alerts the scores allow exceed
the budget (ties at the top, or one row of a small fold) — the highest threshold; the status says
which. The realized alerts per day, precision and recall are then read on the test fold, unshifted
and reweighted to each shifted prior (`analysis.prior_shift`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from imbench.analysis.folds import StoredFold, StoredFolds, load_folds
from imbench.benchmarks.store.reader import store_stamp
from imbench.analysis.prior_shift import (DEFAULT_SHIFTS, ShiftInputError, check_fraction, parse_shifts, shift_weights,
                                  shifted_prior)
from imbench.analysis.stress import bootstrap_interval
from imbench.foundation.metrics import expected_cost, threshold_metrics
from imbench.foundation.posthoc import RELATIVE_TOLERANCE, choose_budget_threshold
from imbench.foundation.progress import steps


@dataclass(frozen=True)
class Budget:
    alerts_per_day: float
    population_per_day: float
    min_precision: float

    @property
    def alert_rate(self) -> float:
        return self.alerts_per_day / self.population_per_day

    def check(self) -> "Budget":
        if not (self.alerts_per_day > 0 and self.population_per_day > 0):
            raise ShiftInputError("--alerts-per-day and --population-per-day must be positive")
        if self.alerts_per_day > self.population_per_day:
            raise ShiftInputError(f"--alerts-per-day ({self.alerts_per_day:g}) cannot exceed --population-per-day "
                                  f"({self.population_per_day:g})")
        check_fraction(self.min_precision, "--min-precision")
        return self


@dataclass
class BudgetResult:
    folds: pd.DataFrame
    budget: Budget
    shifts: tuple[float, ...]
    labels: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def available(self) -> bool:
        return bool((self.folds["status"] != "unavailable").any())


def budget_fold(fold: StoredFold, budget: Budget, shifts: tuple[float, ...],
                costs: tuple[float, float] | None = None) -> list[dict[str, object]]:
    """One row per shift: the threshold chosen on the training fold and what it does on the test fold
    (whether this fold stayed within the budget and kept the floor; its expected cost per case with
    `costs` = (fp, fn))."""
    base = {**fold.identity(), "budget_alert_rate": budget.alert_rate}
    if not fold.has_train_predictions:
        return [{**base, "shift": s, "status": "unavailable"} for s in shifts]
    choice = choose_budget_threshold(fold.train_y, fold.train_proba, budget.alert_rate, budget.min_precision)
    base.update(status=choice.outcome, threshold=choice.threshold, train_alert_rate=choice.alert_rate,
                train_precision=choice.precision, train_recall=choice.recall)
    test = fold.test
    rows = []
    for s in shifts:
        target = shifted_prior(test.prevalence, s)
        m = threshold_metrics(test.y, test.proba, choice.threshold, "",
                              sample_weight=shift_weights(test.y, target, test.prevalence))
        precision = m["precision"] if m["alert_rate"] > 0 else math.nan
        weights = shift_weights(test.y, target, test.prevalence)
        row = {**base, "shift": s, "shifted_prior": target, "alert_rate": m["alert_rate"],
               "alerts_per_day": m["alert_rate"] * budget.population_per_day, "precision": precision,
               "recall": m["recall"], "floor_held": bool(precision >= budget.min_precision * (1 - RELATIVE_TOLERANCE)),
               "within_budget": bool(m["alert_rate"] <= budget.alert_rate * (1 + RELATIVE_TOLERANCE))}
        if costs is not None:
            row["expected_cost"] = expected_cost(test.y, test.proba, choice.threshold, *costs, sample_weight=weights)
        rows.append(row)
    return rows


def run_budget(source: str | Path | StoredFolds, alerts_per_day: float = 100, population_per_day: float = 20_000,
               min_precision: float = 0.85, shifts: tuple[float, ...] | str = DEFAULT_SHIFTS,
               costs: tuple[float, float] | None = None) -> BudgetResult:
    """Budget thresholds and what they deliver, for every ok fold (`costs` = (fp, fn) adds each fold's
    expected cost per case). For a results folder the result is cached per store content and options:
    treat it as read-only; for one dataset or model pass `load_folds(dir).subset(dataset, model)`."""
    budget = Budget(float(alerts_per_day), float(population_per_day), float(min_precision)).check()
    shifts = parse_shifts(shifts)
    if isinstance(source, StoredFolds):
        return _budget(source, budget, shifts, costs)
    return _cached_budget(Path(source), store_stamp(source), budget, shifts, costs)


@lru_cache(maxsize=4)
def _cached_budget(results_dir: Path, stamp: tuple[object, ...], budget: Budget, shifts: tuple[float, ...],
                   costs: tuple[float, float] | None = None) -> BudgetResult:
    return _budget(load_folds(results_dir), budget, shifts, costs)


def _budget(stored: StoredFolds, budget: Budget, shifts: tuple[float, ...],
            costs: tuple[float, float] | None = None) -> BudgetResult:
    if not stored.folds:
        raise ShiftInputError(f"{stored.results_dir}: no ok cells with stored predictions")
    rows = [row for fold in steps(stored.folds, len(stored.folds), "alert budget")
            for row in budget_fold(fold, budget, shifts, costs)]
    frame = pd.DataFrame(rows)
    for name in ("threshold", "train_alert_rate", "train_precision", "train_recall", "shifted_prior", "alert_rate",
                 "alerts_per_day", "precision", "recall", "floor_held", "within_budget"):
        if name not in frame.columns:
            frame[name] = np.nan
    notes = stored.notes()
    smallest = min((len(f.train_y) for f in stored.folds if f.has_train_predictions), default=0)
    if smallest and budget.alert_rate * smallest < 1:
        notes.append(f"the budget is {budget.alert_rate:.3%} of the population: below one row on training folds of "
                     f"fewer than {math.ceil(1 / budget.alert_rate)} rows (smallest here: {smallest}); there even one "
                     "alert is over budget (status `over budget`)")
    return BudgetResult(frame, budget, shifts, stored.labels, notes)


def as_budget_result(source: BudgetResult | str | Path, **options: object) -> BudgetResult:
    return source if isinstance(source, BudgetResult) else run_budget(source, **options)  # type: ignore[arg-type]


def budget_table(source: BudgetResult | str | Path, **options: object) -> pd.DataFrame:
    """Per (model, strategy, shift): over datasets (fold means first) the mean realized alerts per day,
    precision and recall with 95 % bootstrap intervals; judged fold by fold, how many datasets keep the
    precision floor in *every* fold (a fold with no alert does not keep it; a fold-mean precision would
    hide a fold below the floor) and the share of folds within the budget, keeping the floor, and both;
    the mean expected cost per case when costs were given; and how the thresholds were settled (fold
    counts per status)."""
    result = as_budget_result(source, **options)
    frame = result.folds[result.folds["status"] != "unavailable"]
    if frame.empty:
        return pd.DataFrame(columns=["model", "strategy", "shift", "datasets"])
    frame = frame.assign(floor_held=frame["floor_held"].astype(bool), within_budget=frame["within_budget"].astype(bool))
    frame = frame.assign(both=frame["floor_held"] & frame["within_budget"])
    averaged = ["alerts_per_day", "precision", "recall", "train_alert_rate", "train_precision"] + \
        (["expected_cost"] if "expected_cost" in frame else [])
    grouped = frame.groupby(["model", "strategy", "shift", "dataset"], sort=True)
    per_dataset = grouped[averaged].mean().join(grouped["floor_held"].all().rename("every_fold_floor"))
    rows = []
    for (model, strategy, s), part in per_dataset.groupby(level=["model", "strategy", "shift"]):
        row: dict[str, object] = {"model": model, "strategy": strategy, "shift": s, "datasets": len(part),
                                  "budget_per_day": result.budget.alerts_per_day}
        for name in ("alerts_per_day", "precision", "recall"):
            row[name] = part[name].mean()
            row[f"{name}_ci_low"], row[f"{name}_ci_high"] = bootstrap_interval(part[name])
        row["keeps_floor"] = int(part["every_fold_floor"].sum())
        row["train_precision"] = part["train_precision"].mean()
        if "expected_cost" in part:
            row["expected_cost"] = part["expected_cost"].mean()
        statuses = frame[(frame["model"] == model) & (frame["strategy"] == strategy) & (frame["shift"] == s)]
        row["folds"] = len(statuses)
        row["share_within_budget"] = float(statuses["within_budget"].mean())
        row["share_floor"] = float(statuses["floor_held"].mean())
        row["share_budget_and_floor"] = float(statuses["both"].mean())
        counts = statuses["status"].value_counts()
        for status in ("on budget", "floor", "best precision", "over budget"):
            row[f"folds_{status.replace(' ', '_')}"] = int(counts.get(status, 0))
        rows.append(row)
    return pd.DataFrame(rows)


def plot_budget(source: BudgetResult | str | Path, **options: object) -> Figure:
    """Realized alerts per day and precision vs prior shift, per strategy, against the budget and floor
    (recall is not drawn: under label shift it does not change, being a share of the positives)."""
    from imbench.analysis.shift_outputs import colors_for, legend_outside, panel_grid, shift_axis

    result = as_budget_result(source, **options)
    table = budget_table(result)
    if table.empty:
        fig, axes = panel_grid(1, 1, width=7.0, height=1.4)
        axes[0, 0].set_axis_off()
        axes[0, 0].text(0.0, 0.5, "No alert budget: this store has no training-fold out-of-fold predictions.\n"
                        "Add `inner_folds = 3` under [cv] in the grid and run it into a new results folder.",
                        va="center", fontsize=10, transform=axes[0, 0].transAxes)
        return fig
    models = sorted(table["model"].unique())
    colors = colors_for(result.labels)
    fig, axes = panel_grid(len(models), 2, width=4.6, height=3.3)
    panels = (("alerts_per_day", "realized alerts per day (log scale)", result.budget.alerts_per_day, "budget", "--"),
              ("precision", "precision", result.budget.min_precision, "precision floor", ":"))
    for i, model in enumerate(models):
        part = table[table["model"] == model]
        for j, (metric, label, line, line_label, style) in enumerate(panels):
            ax = axes[i, j]
            for strategy, rows in part.groupby("strategy", sort=True):
                color = colors.get(strategy)
                ax.plot(rows["shift"], rows[metric], marker="o", ms=4, lw=1.6, color=color, label=strategy)
                ax.fill_between(rows["shift"], rows[f"{metric}_ci_low"], rows[f"{metric}_ci_high"], color=color,
                                alpha=0.12, lw=0)
            ax.axhline(line, color="black", ls=style, lw=1.2, label=line_label)
            if metric == "alerts_per_day":
                ax.set_yscale("log")
                ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
                ax.yaxis.set_minor_formatter(NullFormatter())
            shift_axis(ax, result.shifts)
            ax.set_title(f"{model} — {label}", fontsize=9)
            ax.set_xlabel("prior shift s (π' = s·π)")
    legend_outside(fig, axes)
    b = result.budget
    fig.suptitle(f"Alert budget {b.alerts_per_day:g}/day of {b.population_per_day:g} ({b.alert_rate:.2%}), precision "
                 f"floor {b.min_precision:g}\nthreshold from training out-of-fold predictions, realized on the test "
                 "fold (mean over datasets, 95 % bootstrap band)", fontsize=10, x=0.01, ha="left")
    fig.tight_layout()
    return fig

