"""Progress of long analysis work, told to whoever listens.

Analysis loops report what they do (`steps` over folds, `stage` for work of unknown length); they
never draw. The CLI listens with a progress bar (imbench/progress.py); the Python API and the tests
listen to nothing, and then reporting costs a context-variable lookup per call.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol, TypeVar

T = TypeVar("T")


class Listener(Protocol):
    def begin(self, label: str, total: int | None) -> None:
        """A new stage: `total` steps, or None when its length is unknown."""

    def advance(self, steps: int = 1) -> None:
        """Steps of the current stage are done."""


_LISTENER: ContextVar[Listener | None] = ContextVar("imbench_progress", default=None)
#: Steps between two reports (a report per fold of a 100,000-fold store would cost more than it tells).
EVERY = 50


def stage(label: str) -> None:
    """Work of unknown length begins (reading a store, drawing figures)."""
    listener = _LISTENER.get()
    if listener is not None:
        listener.begin(label, None)


def steps(items: Iterable[T], total: int, label: str) -> Iterator[T]:
    """The items, in order, each counted as a step of a stage of `total` steps."""
    listener = _LISTENER.get()
    if listener is None:
        yield from items
        return
    listener.begin(label, total)
    pending = 0
    for item in items:
        yield item
        pending += 1
        if pending == EVERY:
            listener.advance(pending)
            pending = 0
    if pending:
        listener.advance(pending)


@contextmanager
def listening(listener: Listener) -> Iterator[Listener]:
    """Report progress to `listener` while the block runs (in this thread and context)."""
    token = _LISTENER.set(listener)
    try:
        yield listener
    finally:
        _LISTENER.reset(token)
