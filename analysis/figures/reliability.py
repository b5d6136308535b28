"""Reliability diagrams on one dataset from pooled out-of-fold predictions: one panel per strategy,
one line per model, equal-mass bins (as the stored ECE), pooled ECE in the legend. Resampling and
weighting shift predicted probabilities away from the true prior; this shows by how much."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from sklearn.calibration import calibration_curve

from imbench.analysis.figures.context import FigureContext
from imbench.analysis.figures.pr_curves import no_data_figure
from imbench.foundation.metrics import expected_calibration_error


def draw(ctx: FigureContext) -> list[tuple[str, Figure]]:
    dataset = ctx.dataset
    preds = ctx.pooled_predictions(dataset) if dataset else None
    stem = "reliability"
    if preds is None or preds.empty:
        return [(stem, no_data_figure(f"No reliability diagrams: no stored predictions for dataset {dataset!r}"))]
    n_bins = int(ctx.run.meta.get("spec", {}).get("metrics", {}).get("ece_bins", 10))
    labels = sorted(set(preds["label"]), key=lambda s: (s != "none", s))
    cols = min(5, len(labels))
    rows = math.ceil(len(labels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols + 0.4, 3.0 * rows + 0.6), squeeze=False,
                             sharex=True, sharey=True, layout="constrained")
    for ax, label in zip(axes.flat, labels):
        part = preds[preds["label"] == label]
        eces: list[tuple[str, float]] = []
        for model, group in part.groupby("model"):
            y, p = group["y_true"].to_numpy(), group["proba"].to_numpy()
            frac_pos, mean_pred = calibration_curve(y, p, n_bins=n_bins, strategy="quantile")
            ece = expected_calibration_error(y, p, n_bins)
            marker, style = ctx.styles[model]
            ax.plot(mean_pred, frac_pos, marker=marker, ls=style, ms=3.5, lw=1.2, color=ctx.model_colors[model])
            eces.append((model, ece))
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        ax.set_title(label, fontsize=8.5)
        for spine in ax.spines.values():  # the frame carries the strategy's colour, lines the model's
            spine.set(color=ctx.colors[label], linewidth=2)
        ax.set(xlim=(0, 1), ylim=(0, 1))
        ax.tick_params(labelsize=7)
        # ECE per model as coloured text, one shared legend for the line styles (25 legends are slow)
        for row, (model, ece) in enumerate(eces):
            ax.text(0.03, 0.96 - 0.085 * row, f"{model} ECE {ece:.3f}", transform=ax.transAxes, fontsize=6.5,
                    color=ctx.model_colors[model], va="top")
        ax.grid(alpha=0.25)
    for ax in axes.flat[len(labels):]:
        ax.set_axis_off()
    for ax in axes[-1]:
        ax.set_xlabel("mean predicted probability", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("observed positive rate", fontsize=8)
    handles = [Line2D([], [], color=ctx.model_colors[m], marker=ctx.styles[m][0], ls=ctx.styles[m][1], label=m)
               for m in sorted(set(preds["model"]))]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, title="model")
    fig.suptitle(f"Reliability on {dataset} — pooled out-of-fold predictions, {n_bins} equal-mass bins; "
                 "diagonal = perfectly calibrated; frame colour = strategy", fontsize=10, x=0.01, ha="left")
    return [(stem, fig)]
