"""Improvement over the baseline: per strategy, the difference to the baseline (`--baseline`, default
`none` on the same model) on each compared dataset of its board (box + points), zero marked, one
panel per model — does a strategy help on most datasets or only on average?"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from imbench.analysis.figures.context import FigureContext
from imbench.foundation.metrics import metric_direction, short_name


def draw(ctx: FigureContext) -> list[tuple[str, Figure]]:
    metric = ctx.metric
    data = ctx.deltas(metric)
    better = "right" if metric_direction(metric) == "higher" else "left"
    if data.empty:
        fig, ax = plt.subplots(figsize=(7, 2), layout="constrained")
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"No improvement plot: no strategy shares datasets with the baseline `{ctx.baseline}`",
                ha="center", va="center", fontsize=9)
        return [(f"improvement_{metric}", fig)]
    sign = 1 if better == "right" else -1
    order = (data.groupby("strategy")["delta"].median() * sign).sort_values(ascending=False).index.tolist()
    models = [m for m in ctx.models if m in set(data["model"])]
    fig, axes = plt.subplots(1, len(models), figsize=(3.6 * len(models) + 1.5, 0.3 * len(order) + 1.6),
                             sharey=True, squeeze=False, layout="constrained")
    rng = np.random.default_rng(0)  # jitter only; fixed so the figure is reproducible
    positions = np.arange(len(order))[::-1]  # best median at the top
    for ax, model in zip(axes[0], models):
        part = data[data["model"] == model]
        groups = [part.loc[part["strategy"] == label, "delta"].to_numpy() for label in order]
        present = [i for i, g in enumerate(groups) if len(g)]
        boxes = ax.boxplot([groups[i] for i in present], positions=positions[present], orientation="horizontal",
                           widths=0.6, showfliers=False, patch_artist=True,
                           medianprops={"color": "black", "linewidth": 1}, whiskerprops={"linewidth": 0.8},
                           capprops={"linewidth": 0.8}, boxprops={"linewidth": 0.8})
        for patch, i in zip(boxes["boxes"], present):
            patch.set(facecolor=ctx.colors[order[i]], alpha=0.6)
        for i in present:
            jitter = rng.uniform(-0.2, 0.2, len(groups[i]))
            ax.scatter(groups[i], positions[i] + jitter, s=4, color="black", alpha=0.45, linewidths=0)
        ax.axvline(0, color="black", lw=1, ls="--")
        ax.set_yticks(positions, order)
        ax.set_ylim(-0.7, len(order) - 0.3)
        ax.set_title(model, fontsize=10)
        ax.set_xlabel(f"Δ {short_name(metric)} vs {ctx.baseline} ({better} = better)", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    against = f"`{ctx.baseline}`" if "/" in ctx.baseline else f"`{ctx.baseline}` on the same model"
    fig.suptitle(f"Improvement over {against} per dataset ({short_name(metric)}; one point per compared dataset)",
                 fontsize=10, x=0.01, ha="left")
    return [(f"improvement_{metric}", fig)]
