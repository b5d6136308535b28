"""Metric disagreement: mean rank by PR AUC against mean rank by ECE and by F1, per model × strategy.
Points off the diagonal are strategies whose verdict depends on the metric (e.g. resampling ranks
well by PR AUC but badly by calibration)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy.stats import spearmanr

from analysis.figures.context import FigureContext
from analysis.figures.labels import numbered_labels
from analysis.figures.pr_curves import no_data_figure
from foundation.metrics import short_name

N_LABELLED = 6


def f1_metric(columns: set[str]) -> str | None:
    """F1 at the deployed threshold when strategies chose one, else at 0.5."""
    for name in ("f1@deployed", "f1@0.5"):
        if name in columns:
            return name
    return None


def draw(ctx: FigureContext) -> list[tuple[str, Figure]]:
    columns = set(ctx.cells.columns)
    base = "ap" if "ap" in columns else ctx.metric
    others = [m for m in ("ece", f1_metric(columns)) if m and m in columns]
    if not others:
        return [("disagreement", no_data_figure("No disagreement plot: neither ECE nor F1 is stored"))]
    x = ctx.board(base).table.set_index(["model", "strategy"])["mean_rank"]
    fig, axes = plt.subplots(1, len(others), figsize=(6 * len(others) + 2.5, 5.8), squeeze=False, layout="constrained")
    for ax, metric in zip(axes[0], others):
        y = ctx.board(metric).table.set_index(["model", "strategy"])["mean_rank"].reindex(x.index)
        for (model, label), rx, ry in zip(x.index, x.to_numpy(), y.to_numpy()):
            ax.scatter(rx, ry, color=ctx.colors[label], marker=ctx.styles[model][0], s=34, alpha=0.85,
                       edgecolor="black" if label == "none" else "none")
        low, high = 1, max(float(np.nanmax(x)), float(np.nanmax(y))) + 0.5
        ax.plot([low, high], [low, high], color="grey", ls=":", lw=1)
        gap = (y - x).abs().sort_values(ascending=False)
        numbered_labels(ax, [(x[c], y[c], f"{c[0]}/{c[1]}") for c in gap.index[:N_LABELLED]],
                        title="largest disagreements:")
        rho = spearmanr(x, y, nan_policy="omit").statistic
        ax.set_xlabel(f"mean rank by {short_name(base)} (1 = best)")
        ax.set_ylabel(f"mean rank by {short_name(metric)} (1 = best)")
        ax.set_title(f"{short_name(base)} vs {short_name(metric)}: Spearman ρ = {rho:.2f}", fontsize=9, loc="left")
        ax.grid(alpha=0.3)
    labels = sorted({label for _, label in x.index})
    handles = [Line2D([], [], marker="o", ls="", color=ctx.colors[s], label=s) for s in labels]
    handles += [Line2D([], [], marker=ctx.styles[m][0], ls="", color="grey", label=f"model: {m}") for m in ctx.models]
    fig.legend(handles=handles, fontsize=7, loc="outside right upper", ncol=1 if len(handles) <= 32 else 2)
    fig.suptitle("Metric disagreement — the same strategies ranked by different metrics (diagonal = agreement)",
                 fontsize=10, x=0.01, ha="left")
    return [("disagreement", fig)]
