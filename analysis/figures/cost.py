"""Cost vs benefit: mean fit time against mean rank per model × strategy, the Pareto front (nothing
both faster and better ranked) highlighted and labelled — what a strategy's gain costs in compute.

Always drawn from the pooled board (every model × strategy ranked together on the datasets where all
have every fold), whatever `--pool-models` says: per-model ranks (1..k within each model) cannot be
set against each other on one axis, and the cheaper model is exactly the trade-off this figure shows."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from imbench.analysis.figures.context import FigureContext
from imbench.analysis.figures.labels import numbered_labels
from imbench.foundation.metrics import short_name


def pareto_front(cost: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Boolean mask of points no other point beats on both (lower cost and lower rank, one strictly)."""
    order = np.lexsort((rank, cost))
    front = np.zeros(len(cost), dtype=bool)
    best = np.inf
    for i in order:
        if rank[i] < best:
            front[i] = True
            best = rank[i]
    return front


def draw(ctx: FigureContext) -> list[tuple[str, Figure]]:
    board = ctx.pooled_board()
    ok = ctx.results[ctx.results["status"] == "ok"]
    fit = ok.groupby(["model", "label"])["fit_seconds"].mean()
    table = board.table[board.table["role"] == "ranked"].set_index(["model", "strategy"])
    data = pd.DataFrame({"rank": table["mean_rank"], "fit": fit.reindex(table.index)}).dropna().reset_index()
    fig, ax = plt.subplots(figsize=(10, 6.2), layout="constrained")
    front = pareto_front(data["fit"].to_numpy(), data["rank"].to_numpy())
    for (model, label, rank, seconds), on_front in zip(data[["model", "strategy", "rank", "fit"]].itertuples(index=False),
                                                      front):
        ax.scatter(seconds, rank, color=ctx.colors[label], marker=ctx.styles[model][0], s=70 if on_front else 30,
                   edgecolor="black" if on_front else "none", linewidth=1.2, alpha=1 if on_front else 0.7, zorder=3)
    pts = data[front].sort_values("fit")
    ax.step(pts["fit"], pts["rank"], where="post", color="black", lw=1, ls="--", zorder=2, label="Pareto front")
    numbered_labels(ax, [(r.fit, r.rank, f"{r.model}/{r.strategy}") for r in pts.itertuples(index=False)],
                    title="Pareto front (numbered):")
    ax.set_xscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(plain)
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("mean fit time per cell (s, log scale)")
    ax.set_ylabel(f"mean rank by {short_name(board.metric)} among all model×strategy (1 = best, top)")
    ax.grid(alpha=0.3, which="both")
    model_handles = [Line2D([], [], marker=ctx.styles[m][0], ls="", color="grey", label=m) for m in ctx.models]
    front_handle = [Line2D([], [], ls="--", color="black", label="Pareto front (outlined)")]
    legend = ax.legend(handles=model_handles + front_handle, fontsize=8, loc="lower right", title="model")
    ax.add_artist(legend)
    labels = sorted(set(data["strategy"]))
    strategy_handles = [Line2D([], [], marker="o", ls="", color=ctx.colors[s], label=s) for s in labels]
    fig.legend(handles=strategy_handles, fontsize=7, loc="outside right upper", title="strategy (colour)",
               ncol=1 if len(labels) <= 30 else 2)
    ax.set_title(f"Cost vs benefit — {len(data)} model×strategy ranked together (pooled), {board.n_datasets} of "
                 f"{board.datasets_total} datasets", fontsize=10, loc="left")
    return [("cost_benefit", fig)]
