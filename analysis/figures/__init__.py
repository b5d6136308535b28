"""The comparison figures: each module draws one kind from a `FigureContext` (stored results only).

`render(ctx, only, out_dir)` writes every requested figure as PNG and SVG and returns the paths.
Colours are fixed per strategy for the whole run (`palette.strategy_colors`), markers per model.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never open a window

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from analysis.figures.context import FigureContext  # noqa: E402

#: name for `--only` → (module, what it shows). Order is the report's order.
FIGURES: dict[str, tuple[str, str]] = {
    "cd": ("cd", "Critical-difference diagram per headline metric (Friedman + Nemenyi)"),
    "heatmap": ("heatmap", "Rank of each strategy on each dataset, datasets ordered by imbalance ratio"),
    "improvement": ("improvement", "Difference to the `none` baseline per dataset"),
    "pr": ("pr_curves", "Precision–recall curves on one dataset, pooled out-of-fold predictions"),
    "reliability": ("reliability", "Reliability diagrams on one dataset, pooled out-of-fold predictions"),
    "cost": ("cost", "Mean fit time vs mean rank, Pareto front highlighted"),
    "regime": ("regime", "Difference to baseline vs imbalance ratio, one panel per strategy family"),
    "disagreement": ("disagreement", "Rank by PR AUC vs rank by ECE and by F1"),
}
FORMATS = ("png", "svg")


def drawer(name: str) -> Callable[[FigureContext], list[tuple[str, Figure]]]:
    return importlib.import_module(f"analysis.figures.{FIGURES[name][0]}").draw


def render(ctx: FigureContext, only: list[str] | None, out_dir: Path,
           formats: tuple[str, ...] = FORMATS) -> dict[str, list[Path]]:
    """Draw the chosen figures (all by default) into `out_dir`; figure name → files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Path]] = {}
    for name in only or list(FIGURES):
        for stem, fig in drawer(name)(ctx):
            paths = []
            for fmt in formats:
                path = out_dir / f"{stem}.{fmt}"
                fig.savefig(path, dpi=110 if fmt == "png" else None, bbox_inches="tight")
                paths.append(path)
            plt.close(fig)
            written[stem] = paths
    return written
