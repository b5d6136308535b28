"""Cost curves (`--costs fp=A,fn=B`): per model, each label's normalised expected cost at the Bayes
threshold fp/(fp + fn) of its probabilities, over cost ratios fn/fp (log axis), the chosen ratio
marked. Below 1 a label beats the better trivial policy (flag nothing or everything) at that ratio
(`analysis.costs`). Threshold steps are left out: they share their strategy's probabilities, so
their curve is their strategy's."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from imbench.analysis.costs import CURVE_RATIOS, cost_curve
from imbench.analysis.figures.context import FigureContext
from imbench.analysis.leaderboard import ranked_models


def draw(ctx: FigureContext) -> list[tuple[str, Figure]]:
    if ctx.costs is None:
        return []  # drawn only when costs are given
    curve = cost_curve(ctx.stored_folds(), tuple(sorted({*CURVE_RATIOS, ctx.costs.ratio})))
    curve = curve[~curve["label"].str.contains("+threshold:", regex=False)]
    references = curve[curve["model"].isin(set(curve["model"]) - set(ranked_models(ctx.results)))]
    models = [m for m in ctx.models if m in set(ranked_models(ctx.results)) and m in set(curve["model"])]
    size = (max(4.4 * len(models) + 2.2, 8.0), 3.4 + 0.09 * curve["label"].nunique())  # legend below
    fig, axes = plt.subplots(1, max(len(models), 1), figsize=size, sharey=True, squeeze=False, layout="constrained")
    for ax, model in zip(axes[0], models):
        part = curve[curve["model"] == model]
        for label, rows in part.groupby("label", sort=True):
            ax.plot(rows["ratio"], rows["normalised_cost"], lw=1.5, color=ctx.colors.get(label), label=label)
        for (ref_model, label), rows in references.groupby(["model", "label"], sort=True):
            ax.plot(rows["ratio"], rows["normalised_cost"], lw=1.2, ls=":", color="grey",
                    label=f"{ref_model} (chance)")
        ax.axvline(ctx.costs.ratio, color="black", lw=1, ls="--", label=f"fn/fp = {ctx.costs.ratio:g}")
        ax.axhline(1, color="black", lw=0.8, alpha=0.5)
        ax.set_xscale("log")
        ax.set_title(model, fontsize=10)
        ax.set_xlabel("cost ratio fn/fp (log)", fontsize=8)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    axes[0, 0].set_ylabel("expected cost / best trivial policy", fontsize=8)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    fig.legend(unique.values(), unique.keys(), loc="outside lower center", ncols=2, fontsize=7, frameon=False)
    fig.suptitle(f"Cost curves at the Bayes threshold fp/(fp+fn) (mean over datasets); {ctx.costs.describe()}",
                 fontsize=10, x=0.01, ha="left")
    return [("expected_cost", fig)]
