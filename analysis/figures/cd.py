"""Critical-difference diagrams (Demšar 2006) per headline metric: one panel per board — per model by
default, one pooled panel with --pool-models — strategies placed at their mean rank, bars joining
those the Nemenyi test cannot tell apart (scikit-posthocs). Only the strategies the board ranks
appear (those carrying the metric, with every fold on the compared datasets)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import scikit_posthocs as sp
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from imbench.analysis.figures.context import FigureContext
from imbench.analysis.leaderboard import Leaderboard
from imbench.analysis.statistics import p_text
from imbench.foundation.metrics import metric_direction, short_name


def draw(ctx: FigureContext) -> list[tuple[str, Figure]]:
    return [(f"cd_{metric}", _diagram(ctx, metric)) for metric in ctx.headline()]


def _diagram(ctx: FigureContext, metric: str) -> Figure:
    boards = ctx.boards(metric)
    n_labels = max(max(len(b.ranks.columns) for b in boards), 1)
    panel_height = 1.0 + 0.22 * (n_labels + 1) / 2 + 0.5
    fig, axes = plt.subplots(len(boards), 1, figsize=(10, panel_height * len(boards)), squeeze=False,
                             layout="constrained")
    for ax, board in zip(axes[:, 0], boards):
        test = board.friedman
        scope = board.model or "all models pooled"
        title = (f"{scope} — {short_name(metric)} ({metric_direction(metric)} is better), {board.n_datasets} of "
                 f"{board.datasets_total} datasets")
        if not test.applicable or board.nemenyi is None:
            ax.set_axis_off()
            ax.set_title(title, fontsize=10, loc="left")
            ax.text(0.5, 0.5, f"No CD diagram: {test.reason}", ha="center", va="center", transform=ax.transAxes,
                    fontsize=9, wrap=True)
            continue
        names = [_name(board, column) for column in board.ranks.columns]
        ranks = board.ranks.mean().set_axis(names)
        sig = board.nemenyi.copy()
        sig.index = sig.columns = names
        colours = {_name(board, c): ctx.colors[c[1]] for c in board.ranks.columns}
        drawn = sp.critical_difference_diagram(ranks, sig, alpha=ctx.alpha, ax=ax, color_palette=colours,
                                       label_fmt_left="{label} ({rank:.2f})", label_fmt_right="({rank:.2f}) {label}",
                                       label_props={"fontsize": 8}, text_h_margin=0.3)
        for text in drawn["labels"]:  # light palette colours are hard to read as text: darken them
            text.set_color(_darker(text.get_color()))
        _cd_bar(ax, float(ranks.min()), test.critical_difference)
        verdict = "differ" if test.significant else "do not differ significantly"
        ax.set_title(f"{title}\nFriedman/Iman–Davenport {p_text(test.iman_davenport_p)}: strategies {verdict}; bars "
                     f"join strategies Nemenyi cannot tell apart (α={ctx.alpha:g}, CD={test.critical_difference:.2f})",
                     fontsize=8.5, loc="left", wrap=True)
    fig.suptitle(f"Critical difference diagram — mean rank by {short_name(metric)} (1 = best)", fontsize=11,
                 x=0.01, ha="left")
    return fig


def _name(board: Leaderboard, column: tuple[str, str]) -> str:
    return f"{column[0]}/{column[1]}" if board.pooled else column[1]


def _darker(colour: object, amount: float = 0.45) -> tuple[float, float, float]:
    r, g, b = to_rgb(colour)
    return (r * (1 - amount), g * (1 - amount), b * (1 - amount))


def _cd_bar(ax: plt.Axes, start: float, cd: float) -> None:
    """The critical difference as a bar above the rank axis, clear of its tick labels."""
    bottom, top = ax.get_ylim()
    y = top + 1.2
    ax.plot([start, start + cd], [y, y], color="black", lw=1.5)
    for x in (start, start + cd):
        ax.plot([x, x], [y - 0.15, y + 0.15], color="black", lw=1.5)
    ax.text(start + cd / 2, y + 0.25, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=8)
    ax.set_ylim(bottom, y + 1.0)
    ax.tick_params(axis="x", labelsize=8)
