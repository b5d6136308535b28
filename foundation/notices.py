"""Notices about datasets (a dropped constant column, a text column read as categorical): printed
once per process on the main process, held back while a command checks its inputs (a failing
command prints only its one-line error), quiet while listing.

Here in the ground floor, not in `datasets`, so the CLI can hold notices around every command
without importing the dataset sources (and scikit-learn) for commands that never load a dataset.
"""
from __future__ import annotations

import logging
import multiprocessing
import shutil
import sys
import textwrap
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


class _StderrHandler(logging.Handler):
    """Plain lines on the current sys.stderr (libraries such as openml configure the root logger's
    format), wrapped at the terminal's width (a long list of dropped columns must not run off it)."""

    def emit(self, record: logging.LogRecord) -> None:
        width = shutil.get_terminal_size((80, 24)).columns
        print(textwrap.fill(self.format(record), width=max(width, 40), subsequent_indent="  ",
                            break_on_hyphens=False), file=sys.stderr)


logger = logging.getLogger("imbench.datasets")
if not logger.handlers:
    logger.addHandler(_StderrHandler())
    logger.propagate = False
_emitted: set[tuple[str, str]] = set()
_quiet = False
_held: list[str] | None = None


@contextmanager
def hold_notices() -> Iterator[None]:
    """Hold notices back until `release_notices()` or a normal exit; drop them if an exception ends the
    block, so a failing command prints only its one-line error (imbench/cli.py wraps every command)."""
    global _held
    previous, _held = _held, []
    try:
        yield
        release_notices()
    finally:
        _held = previous


def release_notices() -> None:
    """Print the notices held so far (e.g. once a run has passed its checks and starts)."""
    global _held
    if _held:
        for message in _held:
            logger.warning(message)
        _held = []


@contextmanager
def quiet_notices() -> Iterator[None]:
    """Keep notices in the metadata but do not log them (e.g. while listing many datasets)."""
    global _quiet
    previous, _quiet = _quiet, True
    try:
        yield
    finally:
        _quiet = previous


def emit_notices(name: str, notices: Iterable[str]) -> None:
    """Log each notice once per process, on the main process only (workers stay quiet)."""
    if _quiet or multiprocessing.current_process().name != "MainProcess":
        return
    for notice in notices:
        if (name, notice) not in _emitted:
            _emitted.add((name, notice))
            message = f"imbench: notice: dataset {name!r}: {notice}"
            if _held is not None:
                _held.append(message)
            else:
                logger.warning(message)
