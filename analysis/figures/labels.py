"""Numbered point labels: a small number beside each point and the names listed under the axes,
because long strategy names next to crowded points overlap and become unreadable."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt


def numbered_labels(ax: plt.Axes, points: Sequence[tuple[float, float, str]], title: str = "") -> None:
    """Mark each (x, y, text) with its number; list 'n text' under the axes (two columns when long)."""
    if not points:
        return
    for i, (x, y, _) in enumerate(points, start=1):
        ax.annotate(str(i), (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8, fontweight="bold",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "0.5", "lw": 0.5, "alpha": 0.85})
    entries = [f"{i}  {text}" for i, (_, _, text) in enumerate(points, start=1)]
    half = (len(entries) + 1) // 2 if len(entries) > 4 else len(entries)
    width = max(len(e) for e in entries[:half]) + 4
    rows = [entries[i].ljust(width) + (entries[i + half] if i + half < len(entries) else "") for i in range(half)]
    ax.text(0.0, -0.14, "\n".join(([title] if title else []) + rows), transform=ax.transAxes, ha="left", va="top",
            fontsize=7.5, family="monospace", clip_on=False)
