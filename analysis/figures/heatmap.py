"""Rank heatmap: strategy × dataset, datasets ordered by imbalance ratio, one panel per board (per
model by default, one pooled panel with --pool-models). Shows at a glance whether a strategy's rank
drifts as imbalance grows; × marks a failure ranked last (`--failed rank-last`). Only the board's
compared datasets appear: the notes of `imbench leaderboard` say which were left out and why."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from imbench.analysis.figures.context import FigureContext
from imbench.foundation.metrics import metric_direction, short_name

CMAP = "RdYlGn_r"  # rank 1 green, last red


def dataset_label(name: str, ir: float) -> str:
    return f"{name} ({ir:.1f})" if ir < 10 else f"{name} ({ir:.0f})"


def draw(ctx: FigureContext) -> list[tuple[str, Figure]]:
    metric = ctx.metric
    ir = ctx.run.datasets["ir"].astype(float)
    boards = ctx.boards(metric)
    n_cols = max(max(len(b.ranks) for b in boards), 1)
    width = max(8.0, 0.14 * n_cols + 4)
    heights = [0.24 * max(len(b.ranks.columns), 1) + 0.7 for b in boards]
    fig, axes = plt.subplots(len(boards), 1, figsize=(width, sum(heights) + 1.6 + 0.05 * n_cols), squeeze=False,
                             gridspec_kw={"height_ratios": heights}, layout="constrained")
    for i, (ax, board) in enumerate(zip(axes[:, 0], boards)):
        columns = list(board.ranks.mean().sort_values(kind="stable").index)
        order = [f"{m}/{lab}" if board.pooled else lab for m, lab in columns]
        datasets = sorted(board.ranks.index, key=lambda d: (ir.get(d, np.nan), d))
        if not datasets or not columns:
            ax.set_axis_off()
            ax.set_title(f"{board.model or 'all models pooled'}: no dataset where every strategy has all its folds",
                         fontsize=9, loc="left")
            continue
        grid = board.ranks.loc[datasets, columns].T.to_numpy()
        failed = board.values.loc[datasets, columns].T.isna().to_numpy()
        # one image, not a mesh of 10⁴ patches: fast to draw and small in SVG (seaborn's heatmap
        # redraws the whole figure to test label overlap, which costs seconds at this size)
        image = ax.imshow(grid, aspect="auto", cmap=CMAP, vmin=1, vmax=max(len(order), 2), interpolation="nearest")
        rows, cols = np.nonzero(failed)
        ax.scatter(cols, rows, marker="x", color="black", s=12, linewidths=0.8)
        ax.set_yticks(range(len(order)), order, fontsize=7)
        if i == len(boards) - 1:
            ax.set_xticks(range(len(datasets)), [dataset_label(d, ir.get(d, np.nan)) for d in datasets],
                          rotation=90, fontsize=6 if n_cols > 40 else 8)
            ax.set_xlabel("dataset (imbalance ratio), ordered by IR →", fontsize=9)
        else:
            ax.set_xticks([])
        # cell borders as two line collections (minor ticks would create hundreds of Tick artists)
        ax.vlines(np.arange(0.5, len(datasets) - 1), -0.5, len(order) - 0.5, colors="white", linewidth=0.4)
        ax.hlines(np.arange(0.5, len(order) - 1), -0.5, len(datasets) - 0.5, colors="white", linewidth=0.4)
        fig.colorbar(image, ax=ax, label="rank (1 = best)", pad=0.01, fraction=0.03)
        ax.set_title(f"{board.model or 'all models pooled'}: rank by {short_name(metric)} ({metric_direction(metric)} "
                     f"is better) on {board.n_datasets} of {board.datasets_total} datasets; strategies by mean rank, "
                     f"× = failed ({board.policy})", fontsize=9, loc="left")
    return [(f"heatmap_{metric}", fig)]
