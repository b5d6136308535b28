"""Precision–recall curves on one dataset from pooled out-of-fold predictions (all folds and repeats
of a strategy concatenated), one line per strategy, one panel per model, prevalence marked: the
random scorer's precision and the floor every curve must beat. With many strategies a panel shows
the best by pooled AP plus the baseline, so the lines stay tellable apart."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from sklearn.metrics import average_precision_score, precision_recall_curve

from imbench.analysis.figures.context import FigureContext

MAX_LINES = 10


def no_data_figure(message: str) -> Figure:
    fig, ax = plt.subplots(figsize=(7, 1.6), layout="constrained")
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=9, wrap=True)
    return fig


def draw(ctx: FigureContext) -> list[tuple[str, Figure]]:
    dataset = ctx.dataset
    preds = ctx.pooled_predictions(dataset) if dataset else None
    stem = "pr_curves"
    if preds is None or preds.empty:
        return [(stem, no_data_figure(f"No precision–recall curves: no stored predictions for dataset {dataset!r}"))]
    models = [m for m in ctx.models if m in set(preds["model"])]
    cols = min(2, len(models))
    rows = math.ceil(len(models) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7.4 * cols, 4.4 * rows + 0.5), squeeze=False, layout="constrained")
    prevalence = float(preds.groupby("key")["y_true"].mean().mean())
    baseline = ctx.baseline_label
    shown_note = ""
    for ax, model in zip(axes.flat, models):
        part = preds[preds["model"] == model]
        curves = []
        for label, group in part.groupby("label"):
            precision, recall, _ = precision_recall_curve(group["y_true"], group["proba"])
            curves.append((average_precision_score(group["y_true"], group["proba"]), label, precision, recall))
        curves.sort(key=lambda c: -c[0])
        if len(curves) > MAX_LINES:
            kept = curves[: MAX_LINES - 1]
            kept += [c for c in curves[MAX_LINES - 1:] if c[1] == baseline]
            shown_note = f"; with many strategies: the {MAX_LINES - 1} best by pooled AP and `{baseline}`"
            curves = kept
        for ap, label, precision, recall in curves:
            ax.step(recall, precision, where="post", color=ctx.colors[label], lw=2.4 if label == baseline else 1.4,
                    label=f"{label} (AP {ap:.3f})")
        ax.axhline(prevalence, color="grey", ls="--", lw=1, label=f"prevalence {prevalence:.3f}")
        ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision", title=model)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), framealpha=0.9)
    for ax in axes.flat[len(models):]:
        ax.set_axis_off()
    fig.suptitle(f"Precision–recall on {dataset} — pooled out-of-fold predictions of all folds and repeats, "
                 f"AP of the pooled curve in the legend{shown_note}", fontsize=10, x=0.01, ha="left")
    return [(stem, fig)]
