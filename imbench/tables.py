"""DataFrames as rich tables for the terminal (numbers rounded for reading, not for storing)."""
from __future__ import annotations

import math
import os
import textwrap

import pandas as pd
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table


#: Columns of names that may wrap in a compact table (numbers and short codes never do).
NAME_COLUMNS = ("strategy", "model", "step", "dataset", "name")
#: Width used when output goes to a file or a pipe and COLUMNS does not say otherwise.
PIPE_WIDTH = 200


class _Console(Console):
    """rich's Console, but a reader that goes away (`imbench leaderboard | head`) is left to the
    entry point (imbench/cli.py, exit code 141), like any other write to the closed pipe, instead of
    rich's own exit with 1, which imbench keeps for internal errors."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def make_console(stderr: bool = False) -> Console:
    """A console as wide as the terminal; when output goes to a file or a pipe, as wide as COLUMNS says
    (default PIPE_WIDTH, so tables are not truncated)."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return _Console(stderr=stderr)
    try:
        width = int(os.environ.get("COLUMNS", PIPE_WIDTH))
    except ValueError:
        width = PIPE_WIDTH
    return _Console(stderr=stderr, width=max(width, 40))


def text_width(frame: pd.DataFrame, digits: int = 3) -> int:
    """Characters a compact table of `frame` takes: every column at its widest cell or header, two
    spaces between columns (as `rich_table(compact=True)` draws it)."""
    widths = [max([len(str(column)), *(len(_plain(v, digits)) for v in frame[column])]) for column in frame.columns]
    return sum(widths) + 2 * max(len(widths) - 1, 0)


def fit_width(frame: pd.DataFrame, width: int, drop_order: tuple[str, ...], digits: int = 3
              ) -> tuple[pd.DataFrame, list[str]]:
    """`frame` without the columns of `drop_order` (first named, first dropped) it needs to fit
    `width` characters, and the names dropped; the other columns always stay (a long name column
    then wraps)."""
    dropped = []
    for column in drop_order:
        if text_width(frame, digits) <= width:
            break
        if column in frame.columns:
            frame = frame.drop(columns=[column])
            dropped.append(column)
    return frame, dropped


def wrapped(line: str, width: int, indent: str = "  ") -> str:
    """A note wrapped at the terminal width with a hanging indent (names are never split)."""
    return textwrap.fill(line, width=max(width, 40), initial_indent=indent, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False)


def _plain(value: object, digits: int) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


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
        # in a compact table, names may wrap when nothing else is left to drop; numbers never do
        # names may wrap (in a compact table only the name columns; in a framed one every text column)
        wraps = not numeric and (column in NAME_COLUMNS or not compact)
        table.add_column(str(column), justify="right" if numeric else "left", no_wrap=not wraps,
                         overflow="fold", min_width=min(len(str(column)), 12) if wraps else None)
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v, digits) for v in row))
    return table


def short_label(label: str) -> str:
    from imbench.analysis.outputs import short_label as shorten  # the one list of abbreviations

    return shorten(label)


def print_fitted(console: Console, frame: pd.DataFrame, title: str, notes: list[str] = (),  # type: ignore[assignment]
                 drop_order: tuple[str, ...] = (), wide: bool = False, caption: str | None = None,
                 all_columns: str = "--wide shows every column; the files have them all") -> None:
    """A compact table that fits the console (dropping columns of `drop_order` first, and saying so,
    with `all_columns`: where to see them; `wide`: every column however wide), then its notes wrapped
    at the console width."""
    width = console.width
    dropped: list[str] = []
    if not wide:
        frame = frame.copy()
        for column in ("strategy", "step"):
            if column in frame.columns and not pd.api.types.is_numeric_dtype(frame[column]):
                frame[column] = frame[column].map(lambda v: short_label(v) if isinstance(v, str) else v)
        frame, dropped = fit_width(frame, width, drop_order)
    table = rich_table(frame, title=title, compact=True, caption=caption)
    if wide and text_width(frame) > width:
        _Console(file=console.file, width=text_width(frame) + 2).print(table)
    else:
        console.print(table)
    notes = list(notes)
    if dropped:
        notes.append(f"left out to fit {width} columns: {', '.join(dropped)} ({all_columns}).")
    for line in notes:
        console.print(wrapped(line, width), soft_wrap=True, highlight=False, markup=False)
    console.print()
