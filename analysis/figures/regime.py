"""Regime plot: Δ PR AUC against the baseline versus the imbalance ratio (log x), one panel per
strategy family, a LOWESS trend per strategy (statsmodels): where in the imbalance range does a
family start or stop helping? Points are dataset × model from each model's board (its compared
datasets), so every Δ is paired within one model."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from imbench.analysis.figures.context import FigureContext
from imbench.analysis.figures.pr_curves import no_data_figure
from imbench.foundation.families import family_order
from imbench.foundation.metrics import metric_direction, short_name

REGIME_METRIC = "ap"
PLAIN = FuncFormatter(lambda value, _: f"{value:g}")  # 10, 100 rather than 10¹
#: minor ticks labelled at 2× and 5× a power of ten only, so they do not run into each other
SPARSE = FuncFormatter(lambda value, _: f"{value:g}" if f"{value:e}"[0] in "25" else "")
MIN_TREND_POINTS = 8


def draw(ctx: FigureContext) -> list[tuple[str, Figure]]:
    metric = REGIME_METRIC if REGIME_METRIC in ctx.results.columns else ctx.metric
    from statsmodels.nonparametric.smoothers_lowess import lowess  # only this figure needs statsmodels

    data = ctx.deltas(metric)
    if data.empty:
        return [("regime", no_data_figure("No regime plot: no strategy shares datasets with the baseline"))]
    data["ir"] = data["dataset"].map(ctx.run.datasets["ir"].astype(float))
    data["family"] = data["strategy"].map(ctx.families).fillna("unknown")
    data = data.dropna(subset=["ir"])
    families = sorted(data["family"].unique(), key=family_order)
    cols = min(2 if len(families) <= 4 else 3, len(families))
    rows = math.ceil(len(families) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols + 2.2, 3.8 * rows + 0.6), squeeze=False, sharey=True,
                             layout="constrained")
    for ax, family in zip(axes.flat, families):
        part = data[data["family"] == family]
        for label, group in part.groupby("strategy"):
            colour = ctx.colors[label]
            ax.scatter(group["ir"], group["delta"], s=9, color=colour, alpha=0.45, linewidths=0)
            if group["ir"].nunique() >= MIN_TREND_POINTS:
                trend = lowess(group["delta"], np.log10(group["ir"]), frac=0.6, return_sorted=True)
                ax.plot(10 ** trend[:, 0], trend[:, 1], color=colour, lw=1.8, label=label)
            else:
                ax.plot([], [], color=colour, lw=1.8, label=label)
        ax.axhline(0, color="black", lw=1, ls="--")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(PLAIN)
        ax.xaxis.set_minor_formatter(SPARSE)
        ax.tick_params(axis="x", which="minor", labelsize=7)
        n = part["strategy"].nunique()
        ax.set_title(f"{family} ({n} {'strategy' if n == 1 else 'strategies'})", fontsize=10)
        ax.set_xlabel("imbalance ratio (negatives per positive, log scale)", fontsize=8)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6.5, loc="best", ncol=1 if part["strategy"].nunique() <= 6 else 2, framealpha=0.8)
    for ax in axes.flat[len(families):]:
        ax.set_axis_off()
    better = "higher" if metric_direction(metric) == "higher" else "lower"
    for ax in axes[:, 0]:
        ax.set_ylabel(f"Δ {short_name(metric)} vs {ctx.baseline} ({better} = better)", fontsize=8)
    fig.suptitle(f"Regime: Δ {short_name(metric)} against `{ctx.baseline}` vs imbalance ratio — one point per "
                 "dataset × model, LOWESS trend per strategy", fontsize=10, x=0.01, ha="left")
    return [("regime", fig)]
