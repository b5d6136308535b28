"""Figures of the prior-shift stress test (drawn from a StressResult, nothing recomputed)."""
from __future__ import annotations

import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from imbench.analysis.shift_outputs import colors_for, legend_outside, panel_grid, shift_axis
from imbench.analysis.stress import CORRECTIONS, StressResult, prior_estimates, stress_table, survival_table

TITLES = {"ap": "Average precision", "roc_auc": "ROC AUC", "brier": "Brier score", "ece": "ECE (equal-mass bins)",
          "log_loss": "Log loss", "precision": "Precision at the deployed threshold",
          "recall": "Recall at the deployed threshold", "alert_rate": "Alert rate at the deployed threshold"}
#: Ranking metrics do not change under a monotone prior correction: one column is enough.
CORRECTION_INVARIANT = ("ap", "roc_auc")


def metric_vs_shift(result: StressResult, metric: str) -> Figure:
    """Mean over datasets (fold means first) with its 95 % bootstrap interval as a band, one line per
    strategy; rows: models, columns: prior corrections. The band is the interval of `stress_table`."""
    table = stress_table(result)
    corrections = ["none"] if metric in CORRECTION_INVARIANT else list(CORRECTIONS)
    models = sorted(table["model"].unique())
    colors = colors_for(result.labels)
    fig, axes = panel_grid(len(models), len(corrections), sharey="row")
    for i, model in enumerate(models):
        for j, correction in enumerate(corrections):
            ax = axes[i, j]
            part = table[(table["model"] == model) & (table["correction"] == correction)].dropna(subset=[metric])
            if part.empty:
                ax.text(0.5, 0.5, "no values: no threshold available\n(store training-fold predictions)",
                        ha="center", va="center", transform=ax.transAxes, fontsize=9)
            for strategy, line in part.groupby("strategy", sort=True):
                color = colors.get(strategy)
                ax.plot(line["shift"], line[metric], marker="o", ms=4, lw=1.6, color=color, label=strategy)
                ax.fill_between(line["shift"], line[f"{metric}_ci_low"], line[f"{metric}_ci_high"], color=color,
                                alpha=0.12, lw=0)
            if metric == "precision":
                ax.axhline(result.target_precision, color="black", ls="--", lw=1, label="target")
            shift_axis(ax, result.shifts)
            ax.set_title(f"{model} — correction: {correction}", fontsize=9)
            ax.set_xlabel("prior shift s (π' = s·π)")
            ax.set_ylabel(TITLES.get(metric, metric) if j == 0 else "")
    legend_outside(fig, axes)
    note = "\n(prior correction is monotone, so ranking metrics do not change with it)" \
        if metric in CORRECTION_INVARIANT else ""
    fig.suptitle(f"{TITLES.get(metric, metric)} under prior shift — mean over datasets, band: 95 % bootstrap "
                 f"interval{note}", fontsize=11, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def precision_survival(result: StressResult) -> Figure:
    """Share of datasets whose fold-mean precision still meets the target, per shift."""
    table = survival_table(result)
    table = table[table["with_threshold"] > 0]
    models = sorted(result.folds["model"].unique())
    colors = colors_for(result.labels)
    fig, axes = panel_grid(len(models), len(CORRECTIONS), sharey=True)
    for i, model in enumerate(models):
        for j, correction in enumerate(CORRECTIONS):
            ax = axes[i, j]
            part = table[(table["model"] == model) & (table["correction"] == correction)]
            if part.empty:
                ax.text(0.5, 0.5, "no thresholds: store training-fold\npredictions (inner_folds = 3)",
                        ha="center", va="center", transform=ax.transAxes, fontsize=9)
            else:
                sns.lineplot(part, x="shift", y="share", hue="strategy", palette=colors, marker="o", markersize=4,
                             ax=ax)
            shift_axis(ax, result.shifts)
            ax.set_ylim(-0.03, 1.03)
            ax.set_title(f"{model} — correction: {correction}", fontsize=9)
            ax.set_xlabel("prior shift s (π' = s·π)")
            ax.set_ylabel("share of datasets keeping the target" if j == 0 else "")
    legend_outside(fig, axes)
    fig.suptitle(f"Does precision ≥ {result.target_precision:g} survive the shift? (threshold chosen at the "
                 "training prior)", fontsize=11, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def estimated_vs_true_prior(result: StressResult) -> Figure:
    """EM estimate of the shifted prior against the true one (per dataset and shift, fold means)."""
    data = prior_estimates(result)
    models = sorted(data["model"].unique())
    colors = colors_for(result.labels)
    fig, axes = panel_grid(1, len(models), width=4.6, height=4.2, sharex=True, sharey=True)
    low = max(min(data["shifted_prior"].min(), data["em_estimate"].min()) / 1.5, 1e-4)
    high = min(max(data["shifted_prior"].max(), data["em_estimate"].max()) * 1.5, 1.0)
    for ax, model in zip(axes[0], models):
        part = data[data["model"] == model]
        sns.scatterplot(part, x="shifted_prior", y="em_estimate", hue="strategy", palette=colors, s=18, alpha=0.7,
                        linewidth=0, ax=ax)
        ax.plot([low, high], [low, high], color="black", lw=1, ls="--", label="estimate = truth")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(low, high)
        ax.set_ylim(low, high)
        ax.set_aspect("equal")
        error = np.median(part["relative_error"])
        ax.set_title(f"{model} — median |π̂ − π'| / π' = {error:.0%}", fontsize=9)
        ax.set_xlabel("true shifted prior π'")
        ax.set_ylabel("EM estimate π̂ (unlabelled test fold)")
    legend_outside(fig, axes)
    fig.suptitle("Saerens–Latinne–Decaestecker EM: estimated vs true positive prior (per dataset and shift)",
                 fontsize=11, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def all_figures(result: StressResult) -> dict[str, Figure]:
    """stem → figure, everything `imbench stress` writes."""
    figures = {f"stress_{metric}": metric_vs_shift(result, metric)
               for metric in ("ap", "brier", "ece", "log_loss", "precision", "alert_rate")}
    figures["stress_precision_survival"] = precision_survival(result)
    figures["stress_prior_estimates"] = estimated_vs_true_prior(result)
    return figures

