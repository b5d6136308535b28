"""Bayesian comparison with the baseline: per model, each strategy's posterior probabilities of
being better than, practically equivalent to (within the ROPE) or worse than the baseline, as one
stacked bar (`analysis.bayes`), the 0.95 mark drawn."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from imbench.analysis.bayes import MIN_PAIRS
from imbench.analysis.figures.context import FigureContext
from imbench.foundation.metrics import short_name

COLORS = {"p_better": "#2a9d8f", "p_equivalent": "#bdbdbd", "p_worse": "#e76f51"}
NAMES = {"p_better": "better", "p_equivalent": "equivalent (ROPE)", "p_worse": "worse"}


def _why_none(boards: list, baseline: str) -> str:  # type: ignore[type-arg]
    """Why no board has a comparison: the boards' own reason, too few datasets, or no shared ones."""
    problems = [b.baseline_problem for b in boards if b.baseline_problem]
    if problems:
        return problems[0]
    most = max((b.n_datasets for b in boards), default=0)
    if most < MIN_PAIRS:
        return (f"{most} dataset{'' if most == 1 else 's'} ranked; the test pairs datasets and needs at least "
                f"{MIN_PAIRS}")
    return f"no strategy shares datasets with the baseline `{baseline}`"


def draw(ctx: FigureContext) -> list[tuple[str, Figure]]:
    metric = ctx.metric
    every = ctx.boards(metric, full=True)
    boards = [b for b in every if "p_better" in b.table and b.table["p_better"].notna().any()]
    if not boards:
        fig, ax = plt.subplots(figsize=(7, 2), layout="constrained")
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"No Bayesian comparison: {_why_none(every, ctx.baseline)}", ha="center", va="center",
                fontsize=9, wrap=True)
        return [(f"bayes_{metric}", fig)]
    height = max(len(b.table[b.table["p_better"].notna()]) for b in boards)
    fig, axes = plt.subplots(1, len(boards), figsize=(4.2 * len(boards) + 1.5, 0.32 * height + 1.6), squeeze=False,
                             layout="constrained")
    for ax, board in zip(axes[0], boards):
        rows = board.table[board.table["p_better"].notna()].sort_values("p_better")
        names = [f"{m}/{s}" if board.pooled else s for m, s in zip(rows["model"], rows["strategy"])]
        y = np.arange(len(rows))
        left = np.zeros(len(rows))
        for column, color in COLORS.items():
            ax.barh(y, rows[column], left=left, color=color, label=NAMES[column], height=0.7)
            left += rows[column].to_numpy()
        ax.axvline(0.95, color="black", lw=0.8, ls="--")
        ax.set_yticks(y, names, fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_title(board.model or "all models pooled", fontsize=10)
        ax.set_xlabel(f"posterior probability (ROPE ±{board.rope:g} {short_name(metric)})", fontsize=8)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    fig.suptitle(f"Bayesian signed-rank test vs `{ctx.baseline}` by {short_name(metric)} (baycomp; 0.95 marked)",
                 fontsize=10, x=0.01, ha="left")
    return [(f"bayes_{metric}", fig)]
