"""Rich progress bars: a run's (cells done of total, errors and skips so far, elapsed and ETA) and the
analysis commands' (each stage they report through foundation/progress.py, with its ETA)."""
from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from imbench.foundation.progress import listening

if TYPE_CHECKING:
    from imbench.benchmarks.store.results import CellResult

F = TypeVar("F", bound=Callable[..., Any])


class RunProgress:
    """Use as a context manager; pass `start` and `update` as the runner's hooks."""

    def __init__(self, console: Console, label: str, enabled: bool = True) -> None:
        self.counts: Counter = Counter()
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("[red]{task.fields[errors]} failed[/] · [yellow]{task.fields[skipped]} skipped[/]"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, disable=not enabled, transient=False)
        self.task = self.progress.add_task(label, total=None, errors=0, skipped=0)

    def __enter__(self) -> "RunProgress":
        return self  # the bar appears in `start`, once the run is planned and nothing can fail early

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.progress.live.is_started:
            self.progress.stop()

    def start(self, total: int, already_done: int) -> None:
        self.progress.start()
        self.progress.update(self.task, total=total, completed=already_done)

    def update(self, result: CellResult) -> None:
        self.counts[result.status] += 1
        failed = sum(self.counts[s] for s in ("error", "timeout", "crashed"))
        self.progress.update(self.task, advance=1, errors=failed, skipped=self.counts["skipped"])


class AnalysisProgress:
    """One bar per stage an analysis reports: a stage of known length shows its steps and ETA, one of
    unknown length a pulsing bar. Transient: the bars are gone when the command prints its result,
    and nothing is drawn when the console is not a terminal (logs, pipes)."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=True,
            disable=not console.is_terminal)
        self.task: Any = None

    def begin(self, label: str, total: int | None) -> None:
        if self.task is not None:  # the stage before is over: shown full
            done = self.progress.tasks[-1].completed or 1
            self.progress.update(self.task, total=done, completed=done)
        self.task = self.progress.add_task(label, total=total)

    def advance(self, steps: int = 1) -> None:
        if self.task is not None:
            self.progress.advance(self.task, steps)

    @contextmanager
    def shown(self) -> Iterator["AnalysisProgress"]:
        self.progress.start()
        try:
            with listening(self):
                yield self
        finally:
            self.progress.stop()


def with_analysis_progress(console: Console) -> Callable[[F], F]:
    """Decorate an analysis command so the stages it reports show as bars on `console` (stderr)."""
    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with AnalysisProgress(console).shown():
                return command(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorate
