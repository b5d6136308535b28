"""Rank heatmap: strategy × dataset, datasets ordered by imbalance ratio, one panel per model.
Shows at a glance whether a strategy's rank drifts as imbalance grows; × marks a failure."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from analysis.figures.context import FigureContext
from foundation.metrics import metric_direction, short_name

CMAP = "RdYlGn_r"  # rank 1 green, last red


def dataset_label(name: str, ir: float) -> str:
    return f"{name} ({ir:.1f})" if ir < 10 else f"{name} ({ir:.0f})"


def draw(ctx: FigureContext) -> list[tuple[str, Figure]]:
    metric, models = ctx.metric, ctx.models
    ir = ctx.run.datasets["ir"].astype(float)
    boards = {m: ctx.board(metric, m) for m in models}
    n_cols = max(len(b.ranks) for b in boards.values())
    width = max(8.0, 0.14 * n_cols + 4)
    heights = [0.24 * len(boards[m].table) + 0.7 for m in models]
    fig, axes = plt.subplots(len(models), 1, figsize=(width, sum(heights) + 1.6 + 0.05 * n_cols), squeeze=False,
                             gridspec_kw={"height_ratios": heights}, layout="constrained")
    for i, (ax, model) in enumerate(zip(axes[:, 0], models)):
        board = boards[model]
        order = board.table["strategy"].tolist()
        datasets = sorted(board.ranks.index, key=lambda d: (ir.get(d, np.nan), d))
        columns = [next(c for c in board.ranks.columns if c[1] == label) for label in order]
        grid = board.ranks.loc[datasets, columns].T.to_numpy()
        failed = board.values.loc[datasets, columns].T.isna().to_numpy()
        # one image, not a mesh of 10⁴ patches: fast to draw and small in SVG (seaborn's heatmap
        # redraws the whole figure to test label overlap, which costs seconds at this size)
        image = ax.imshow(grid, aspect="auto", cmap=CMAP, vmin=1, vmax=max(len(order), 2), interpolation="nearest")
        rows, cols = np.nonzero(failed)
        ax.scatter(cols, rows, marker="x", color="black", s=12, linewidths=0.8)
        ax.set_yticks(range(len(order)), order, fontsize=7)
        if i == len(models) - 1:
            ax.set_xticks(range(len(datasets)), [dataset_label(d, ir.get(d, np.nan)) for d in datasets],
                          rotation=90, fontsize=6 if n_cols > 40 else 8)
            ax.set_xlabel("dataset (imbalance ratio), ordered by IR →", fontsize=9)
        else:
            ax.set_xticks([])
        # cell borders as two line collections (minor ticks would create hundreds of Tick artists)
        ax.vlines(np.arange(0.5, len(datasets) - 1), -0.5, len(order) - 0.5, colors="white", linewidth=0.4)
        ax.hlines(np.arange(0.5, len(order) - 1), -0.5, len(datasets) - 0.5, colors="white", linewidth=0.4)
        fig.colorbar(image, ax=ax, label="rank (1 = best)", pad=0.01, fraction=0.03)
        ax.set_title(f"{model}: rank by {short_name(metric)} ({metric_direction(metric)} is better); strategies by "
                     f"mean rank, × = failed ({board.policy})", fontsize=9, loc="left")
    return [(f"heatmap_{metric}", fig)]
