"""Metric disagreement: mean rank by PR AUC against mean rank by ECE and by F1, per model × strategy.
Points off the diagonal are strategies whose verdict depends on the metric (e.g. resampling ranks
well by PR AUC but badly by calibration). Ranks come from the per-model boards (a strategy ranked
among its own model's), so Spearman's ρ is given per model; with --pool-models, from the pooled
board. A strategy is drawn when both boards rank it (a threshold step has F1 but no PR AUC)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy.stats import spearmanr

from imbench.analysis.figures.context import FigureContext
from imbench.analysis.figures.labels import numbered_labels
from imbench.analysis.figures.pr_curves import no_data_figure
from imbench.foundation.metrics import short_name

N_LABELLED = 6


def f1_metric(columns: set[str]) -> str | None:
    """F1 at the deployed threshold (every label has it: 0.5 without a threshold step), else at 0.5."""
    for name in ("f1@deployed", "f1@0.5"):
        if name in columns:
            return name
    return None


def mean_ranks(ctx: FigureContext, metric: str) -> pd.Series:
    """(model, label) → mean rank on its board, over the boards shown (per model, or pooled)."""
    parts = [board.ranks.mean() for board in ctx.boards(metric) if len(board.ranks)]
    return pd.concat(parts) if parts else pd.Series(dtype=float)


def _rho(x: pd.Series, y: pd.Series) -> str:
    if len(x) < 3:
        return "n/a (< 3 strategies)"
    return f"{spearmanr(x, y).statistic:.2f}"


def draw(ctx: FigureContext) -> list[tuple[str, Figure]]:
    columns = set(ctx.results.columns)
    base = "ap" if "ap" in columns else ctx.metric
    others = [m for m in ("ece", f1_metric(columns)) if m and m in columns]
    if not others:
        return [("disagreement", no_data_figure("No disagreement plot: neither ECE nor F1 is stored"))]
    x_all = mean_ranks(ctx, base)
    fig, axes = plt.subplots(1, len(others), figsize=(6 * len(others) + 2.5, 5.8), squeeze=False, layout="constrained")
    for ax, metric in zip(axes[0], others):
        y_all = mean_ranks(ctx, metric)
        both = x_all.index.intersection(y_all.index)
        x, y = x_all.reindex(both), y_all.reindex(both)
        if x.empty:
            ax.set_axis_off()
            ax.set_title(f"{short_name(base)} vs {short_name(metric)}: no strategy ranked by both", fontsize=9, loc="left")
            continue
        for (model, label), rx, ry in zip(x.index, x.to_numpy(), y.to_numpy()):
            ax.scatter(rx, ry, color=ctx.colors[label], marker=ctx.styles[model][0], s=34, alpha=0.85,
                       edgecolor="black" if label == ctx.baseline_label else "none")
        low, high = 1, max(float(np.nanmax(x)), float(np.nanmax(y))) + 0.5
        ax.plot([low, high], [low, high], color="grey", ls=":", lw=1)
        gap = (y - x).abs().sort_values(ascending=False)
        numbered_labels(ax, [(x[c], y[c], f"{c[0]}/{c[1]}") for c in gap.index[:N_LABELLED]],
                        title="largest disagreements:")
        rho = ", ".join(f"{model} {_rho(x[model], y[model])}" for model in sorted(set(x.index.get_level_values(0))))
        ax.set_xlabel(f"mean rank by {short_name(base)} (1 = best)")
        ax.set_ylabel(f"mean rank by {short_name(metric)} (1 = best)")
        ax.set_title(f"{short_name(base)} vs {short_name(metric)}: Spearman ρ {rho}", fontsize=9, loc="left", wrap=True)
        ax.grid(alpha=0.3)
    labels = sorted({label for _, label in x_all.index})
    handles = [Line2D([], [], marker="o", ls="", color=ctx.colors[s], label=s) for s in labels]
    handles += [Line2D([], [], marker=ctx.styles[m][0], ls="", color="grey", label=f"model: {m}") for m in ctx.models]
    fig.legend(handles=handles, fontsize=7, loc="outside right upper", ncol=1 if len(handles) <= 32 else 2)
    fig.suptitle("Metric disagreement — the same strategies ranked by different metrics (diagonal = agreement)",
                 fontsize=10, x=0.01, ha="left")
    return [("disagreement", fig)]
