"""Files and styling shared by the stress, calibration and budget outputs: tables as CSV + Markdown
(with the notes that say how they were computed), figures as PNG + SVG, one colour per strategy."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never open a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FixedLocator, NullLocator  # noqa: E402

from imbench.analysis.figures.palette import strategy_colors  # noqa: E402

FIGURE_FORMATS = ("png", "svg")


def colors_for(labels: Iterable[str]) -> dict[str, str]:
    """The run-wide strategy colours (the same as every other imbench figure)."""
    return strategy_colors(labels)


def save_figure(fig: Figure, out_dir: Path, stem: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in FIGURE_FORMATS:
        path = out_dir / f"{stem}.{fmt}"
        fig.savefig(path, dpi=110 if fmt == "png" else None, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def write_table(frame: pd.DataFrame, out_dir: Path, stem: str, title: str, notes: Iterable[str] = ()) -> list[Path]:
    """`<stem>.csv` (every column, full precision) and `<stem>.md` (rounded, with title and notes)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.md"
    frame.to_csv(csv_path, index=False)
    lines = [f"## {title}", "", frame.to_markdown(index=False, floatfmt=".3f"), ""]
    lines += [f"- {note}" for note in notes]
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [csv_path, md_path]


def shift_axis(ax: plt.Axes, shifts: Iterable[float]) -> None:
    """Shifts on a log axis (halving and doubling equally far from 1), ticked at the shifts used."""
    shifts = sorted(shifts)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(shifts))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([f"{s:g}" for s in shifts])
    ax.axvline(1.0, color="0.75", lw=0.8, zorder=0)
    ax.set_xlim(min(shifts) / 1.1, max(shifts) * 1.1)


def panel_grid(n_rows: int, n_cols: int, width: float = 4.2, height: float = 3.2, **options: object
               ) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(width * n_cols + 1.8, height * n_rows), squeeze=False,
                             **options)  # type: ignore[arg-type]
    return fig, axes


def legend_outside(fig: Figure, axes: np.ndarray, title: str = "strategy") -> None:
    """One legend for the whole figure, right of the panels: every distinct entry of every panel."""
    entries: dict[str, object] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if not label.startswith("_"):
                entries.setdefault(label, handle)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    if entries:
        fig.legend(list(entries.values()), list(entries), title=title, loc="center left", bbox_to_anchor=(1.0, 0.5),
                   frameon=False, fontsize=8, title_fontsize=9)
