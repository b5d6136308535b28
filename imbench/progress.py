"""A rich progress bar for a run: cells done of total, errors and skips so far, elapsed and ETA."""
from __future__ import annotations

from collections import Counter
from types import TracebackType

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from benchmarks.store import CellResult


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
