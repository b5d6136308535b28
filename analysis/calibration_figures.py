"""Figures of the calibration analysis: reliability diagrams as trained and prior-corrected side by
side, and each strategy's calibration metrics before → after the correction."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator

from imbench.analysis.calibration import BASELINE, CalibrationResult, calibration_table
from imbench.analysis.shift_outputs import colors_for, legend_outside, panel_grid

RELIABILITY_BINS = 15
TICKS = (0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 1)
LABELS = {"ece": "ECE (equal-mass bins)", "brier": "Brier score", "log_loss": "log loss",
          "calibration_intercept": "calibration intercept (ideal 0)", "calibration_slope": "calibration slope (ideal 1)"}


def reliability_points(y: np.ndarray, p: np.ndarray, n_bins: int = RELIABILITY_BINS) -> tuple[np.ndarray, np.ndarray]:
    """(mean predicted, observed frequency) per equal-mass bin of the pooled predictions."""
    order = np.argsort(p, kind="stable")
    groups = [g for g in np.array_split(order, min(n_bins, len(order))) if len(g)]
    return np.array([p[g].mean() for g in groups]), np.array([y[g].mean() for g in groups])


def _sqrt_axes(ax: object) -> None:
    """Square-root axes: rare positives put most predictions near 0, where a linear axis crowds them."""
    for axis, setter in ((ax.xaxis, ax.set_xscale), (ax.yaxis, ax.set_yscale)):  # type: ignore[attr-defined]
        setter("function", functions=(np.sqrt, np.square))
        axis.set_major_locator(FixedLocator(TICKS))
    ax.set_xlim(0, 1)  # type: ignore[attr-defined]
    ax.set_ylim(0, 1)  # type: ignore[attr-defined]


def reliability(result: CalibrationResult) -> Figure:
    """Rows: models; columns: as trained, prior-corrected. Predictions pooled over datasets and folds,
    15 equal-mass bins per strategy; the diagonal is perfect calibration."""
    pooled = result.pooled
    models = sorted(pooled["model"].unique())
    colors = colors_for(result.labels)
    fig, axes = panel_grid(len(models), 2, width=4.4, height=4.2)
    for i, model in enumerate(models):
        part = pooled[pooled["model"] == model]
        for j, variant in enumerate(("raw", "corrected")):
            ax = axes[i, j]
            ax.plot([0, 1], [0, 1], color="black", ls="--", lw=1, label="perfect calibration")
            for strategy, rows in part.groupby("strategy", sort=True):
                mean_p, freq = reliability_points(rows["y"].to_numpy(), rows[variant].to_numpy())
                ax.plot(mean_p, freq, marker="o", ms=3.5, lw=1.4, color=colors.get(strategy), label=strategy)
            _sqrt_axes(ax)
            title = "as trained" if variant == "raw" else "prior-corrected to the training prevalence"
            ax.set_title(f"{model} — {title}", fontsize=9)
            ax.set_xlabel("mean predicted probability (√ scale)")
            ax.set_ylabel("observed positive frequency" if j == 0 else "")
    legend_outside(fig, axes)
    fig.suptitle("Reliability: resampling/weighting inflates probabilities; the prior correction undoes it\n"
                 f"(pooled out-of-fold predictions, {RELIABILITY_BINS} equal-mass bins per strategy)", fontsize=11,
                 x=0.01, ha="left")
    fig.tight_layout()
    return fig


def correction_effect(result: CalibrationResult, metric: str = "ece",
                      metrics: tuple[str, ...] = ("ece", "brier", "log_loss", "calibration_intercept")) -> Figure:
    """Per model and metric: each strategy's mean over datasets as trained (open circle) → after prior
    correction (filled), the `none` baseline as a vertical line. `metric` is drawn first."""
    table = calibration_table(result)
    ordered = (metric, *[m for m in metrics if m != metric])
    models = sorted(table["model"].unique())
    colors = colors_for(result.labels)
    strategies = sorted(table["strategy"].unique(), key=lambda s: (s != BASELINE, s))
    fig, axes = panel_grid(len(models), len(ordered), width=3.6, height=0.45 * len(strategies) + 1.4, sharey=True)
    for i, model in enumerate(models):
        part = table[table["model"] == model].set_index(["strategy", "variant"])
        for j, name in enumerate(ordered):
            ax = axes[i, j]
            for y, strategy in enumerate(strategies):
                if (strategy, "raw") not in part.index:
                    continue
                raw, corrected = part.loc[(strategy, "raw"), name], part.loc[(strategy, "corrected"), name]
                color = colors.get(strategy)
                ax.annotate("", xy=(corrected, y), xytext=(raw, y),
                            arrowprops={"arrowstyle": "->", "color": color, "lw": 1.2})
                ax.plot(raw, y, "o", mfc="white", mec=color, ms=6)
                ax.plot(corrected, y, "o", color=color, ms=6, label=strategy if j == 0 else None)
            if (BASELINE, "raw") in part.index:
                ax.axvline(part.loc[(BASELINE, "raw"), name], color="0.6", lw=0.8, ls=":")
            ax.set_yticks(range(len(strategies)))
            ax.set_yticklabels(strategies, fontsize=8)
            ax.set_ylim(len(strategies) - 0.5, -0.5)
            ax.set_xlabel(LABELS.get(name, name), fontsize=9)
            ax.set_title(model if j == 0 else "", fontsize=9, loc="left")
    fig.suptitle("Calibration as trained (○) → prior-corrected (●) over datasets (mean; median for the intercept); "
                 "dotted: `none` as trained",
                 fontsize=11, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def all_figures(result: CalibrationResult) -> dict[str, Figure]:
    return {"calibration_reliability": reliability(result), "calibration_effect": correction_effect(result)}

