"""Rank heatmap: strategy × dataset, datasets ordered by imbalance ratio, one panel per model.
Shows at a glance whether a strategy's rank drifts as imbalance grows; × marks a failure."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from analysis.figures.context import FigureContext
from benchmarks.metrics import metric_direction, short_name


def dataset_label(name: str, ir: float) -> str:
    return f"{name} ({ir:.1f})" if ir < 10 else f"{name} ({ir:.0f})"


def draw(ctx: FigureContext) -> list[tuple[str, Figure]]:
    metric, models = ctx.metric, ctx.models
    ir = ctx.run.datasets["ir"].astype(float)
    boards = {m: ctx.board(metric, m) for m in models}
    n_rows = max(len(b.table) for b in boards.values())
    n_cols = max(len(b.ranks) for b in boards.values())
    width = max(8.0, 0.14 * n_cols + 4)
    heights = [0.24 * len(boards[m].table) + 0.6 for m in models]
    fig, axes = plt.subplots(len(models), 1, figsize=(width, sum(heights) + 1.6 + 0.05 * n_cols), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for i, (ax, model) in enumerate(zip(axes[:, 0], models)):
        board = boards[model]
        order = board.table["strategy"].tolist()
        datasets = sorted(board.ranks.index, key=lambda d: (ir.get(d, np.nan), d))
        ranks = board.ranks.loc[datasets]
        ranks.columns = [label for _, label in ranks.columns]
        grid = ranks[order].T
        failed = board.values.loc[datasets].isna()
        failed.columns = ranks.columns
        sns.heatmap(grid, ax=ax, cmap="RdYlGn_r", vmin=1, vmax=max(len(order), 2), linewidths=0.2, linecolor="white",
                    cbar_kws={"label": "rank (1 = best)", "pad": 0.01, "fraction": 0.03},
                    xticklabels=[dataset_label(d, ir.get(d, np.nan)) for d in datasets] if i == len(models) - 1
                    else False, yticklabels=order)
        ax.collections[0].set_rasterized(True)  # 10⁴ cells: keep the SVG small and fast to write
        rows, cols = np.nonzero(failed[order].T.to_numpy())
        ax.scatter(cols + 0.5, rows + 0.5, marker="x", color="black", s=12, linewidths=0.8)
        ax.tick_params(axis="y", labelsize=7)
        ax.tick_params(axis="x", labelsize=6 if n_cols > 40 else 8)
        ax.set_ylabel("")
        ax.set_xlabel("")
        ax.set_title(f"{model}: rank by {short_name(metric)} ({metric_direction(metric)} is better); strategies by "
                     f"mean rank, × = failed ({board.policy})", fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("dataset (imbalance ratio), ordered by IR →", fontsize=9)
    fig.tight_layout()
    return [(f"heatmap_{metric}", fig)]
