"""Colours per strategy and markers per model, fixed for a whole run so every figure agrees."""
from __future__ import annotations

from collections.abc import Iterable

import seaborn as sns
from matplotlib.colors import to_hex

BASELINE_COLOR = "#3a3a3a"
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 3)))


def strategy_colors(labels: Iterable[str], baseline: str = "none") -> dict[str, str]:
    """label → hex colour, assigned in sorted label order (so the same run always gets the same colours);
    the baseline is dark grey. Qualitative palettes: tab10 up to 10, tab20 up to 20, then tab20+tab20b+tab20c."""
    others = sorted(set(labels) - {baseline})
    if len(others) <= 10:
        colours = sns.color_palette("tab10", 10)
    elif len(others) <= 20:
        colours = sns.color_palette("tab20", 20)
    else:
        colours = sns.color_palette("tab20", 20) + sns.color_palette("tab20b", 20) + sns.color_palette("tab20c", 20)
    out = {label: to_hex(colours[i % len(colours)]) for i, label in enumerate(others)}
    out[baseline] = BASELINE_COLOR
    return out


def model_colors(models: Iterable[str]) -> dict[str, str]:
    """model → hex colour (Dark2), for figures whose panels are strategies and lines are models."""
    colours = sns.color_palette("Dark2", 8)
    return {model: to_hex(colours[i % len(colours)]) for i, model in enumerate(sorted(set(models)))}


def model_styles(models: Iterable[str]) -> dict[str, tuple[str, object]]:
    """model → (marker, linestyle), in sorted model order."""
    return {model: (MARKERS[i % len(MARKERS)], LINESTYLES[i % len(LINESTYLES)])
            for i, model in enumerate(sorted(set(models)))}
