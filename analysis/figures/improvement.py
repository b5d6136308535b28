"""Improvement over the baseline: per strategy, the difference to `none` on the same model on each
dataset (box + points), zero marked — does a strategy help on most datasets or only on average?"""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from analysis.figures.context import FigureContext
from benchmarks.metrics import metric_direction, short_name


def deltas(ctx: FigureContext, metric: str) -> pd.DataFrame:
    """Long table (dataset, model, strategy, delta): metric minus the same model's baseline, per dataset,
    on datasets where both have results."""
    values = ctx.board(metric).values
    rows = []
    for model, label in values.columns:
        base = ctx.board(metric).baseline
        if label == base or (model, base) not in values.columns:
            continue
        delta = (values[(model, label)] - values[(model, base)]).dropna()
        rows.append(pd.DataFrame({"dataset": delta.index, "model": model, "strategy": label, "delta": delta.values}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["dataset", "model", "strategy", "delta"])


def draw(ctx: FigureContext) -> list[tuple[str, Figure]]:
    metric = ctx.metric
    data = deltas(ctx, metric)
    better = "right" if metric_direction(metric) == "higher" else "left"
    if data.empty:
        fig, ax = plt.subplots(figsize=(7, 2))
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"No improvement plot: no strategy shares datasets with the `{ctx.board(metric).baseline}` "
                          "baseline on the same model", ha="center", va="center", fontsize=9)
        return [(f"improvement_{metric}", fig)]
    sign = 1 if better == "right" else -1
    order = (data.groupby("strategy")["delta"].median() * sign).sort_values(ascending=False).index.tolist()
    models = [m for m in ctx.models if m in set(data["model"])]
    fig, axes = plt.subplots(1, len(models), figsize=(3.6 * len(models) + 1.5, 0.3 * len(order) + 1.6),
                             sharey=True, squeeze=False)
    for ax, model in zip(axes[0], models):
        part = data[data["model"] == model]
        sns.boxplot(part, x="delta", y="strategy", order=order, hue="strategy", palette=ctx.colors, ax=ax,
                    showfliers=False, width=0.6, linewidth=0.8, boxprops={"alpha": 0.55}, legend=False)
        sns.stripplot(part, x="delta", y="strategy", order=order, color="black", size=2, alpha=0.45, ax=ax, jitter=0.2)
        ax.axvline(0, color="black", lw=1, ls="--")
        ax.set_title(model, fontsize=10)
        ax.set_xlabel(f"Δ {short_name(metric)} vs none ({better} = better)", fontsize=8)
        ax.set_ylabel("")
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Improvement over the `none` baseline per dataset ({short_name(metric)}; one point per dataset, "
                 "same model)", fontsize=10, x=0.01, ha="left")
    fig.tight_layout()
    return [(f"improvement_{metric}", fig)]
