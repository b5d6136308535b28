"""DataFrames as rich tables for the terminal (numbers rounded for reading, not for storing)."""
from __future__ import annotations

import math

import pandas as pd
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table


def make_console(stderr: bool = False) -> Console:
    """A console that does not truncate tables when output goes to a file or a pipe."""
    probe = Console(stderr=stderr)
    return Console(stderr=stderr, width=None if probe.is_terminal else 200)


def _cell(value: object, digits: int) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.{digits}f}"
    return escape(str(value))  # names such as `sklearn:digits[positive=0]` are not rich markup


def rich_table(frame: pd.DataFrame, title: str | None = None, digits: int = 3, caption: str | None = None,
               compact: bool = False) -> Table:
    """`compact`: no frame, two spaces between columns, so a leaderboard fits 80 columns."""
    style = dict(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True) if compact else {}
    table = Table(title=title, caption=caption, header_style="bold", **style)
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(str(column), justify="right" if numeric else "left", no_wrap=True)
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v, digits) for v in row))
    return table
