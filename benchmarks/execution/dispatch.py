"""The execution layer: turns CellTasks into CellResults, in any order, on some backend.

Kept small and swappable on purpose (docs/protocol.md, "Faults"): the runner only needs an iterator of results,
and gets the same guarantees from every backend but `sequential` — a cell past its time limit is stored
as `timeout`, a cell that kills its worker as `crashed`, a cell past its memory limit as `oom`, and the
run goes on.

- `local` (default; `loky` is its former name): worker processes on this machine
  (benchmarks/execution/local_pool.py); large datasets are shared memory-mapped (benchmarks/execution/shared_data.py).
- `dask`: the same tasks on a Dask cluster with nanny-managed workers (benchmarks/execution/dask_backend.py);
  the client keeps writing the store and workers only compute.
- `sequential`: in this process, one cell after the other (for debugging: no time or memory limit,
  no crash isolation).
Tasks are submitted in the order the runner gives them.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from imbench.benchmarks.execution.backends import check_backend
from imbench.benchmarks.execution.fit_cell import CellTask, run_cell
from imbench.benchmarks.execution.local_pool import LocalPool
from imbench.benchmarks.execution.run_folder import CURRENT_CELL_ENV, make_run_folder
from imbench.benchmarks.execution import shared_data
from imbench.benchmarks.store.results import CellResult
from imbench.datasets import Dataset


def execute(tasks: Sequence[CellTask], n_jobs: int = 1, backend: str = "local", scheduler: str | None = None,
            timeout: float | None = None, memory_mb: float | None = None,
            datasets: dict[str, Dataset] | None = None) -> Iterator[CellResult]:
    """Yield one CellResult per task as each finishes.

    `datasets` are the client's loaded datasets: the local backend shares the large ones with its
    workers (swapping the client's copy for the shared one in this dict)."""
    name = check_backend(backend, scheduler)
    if name == "sequential":
        yield from _execute_sequential(tasks)
    elif name == "local":
        yield from _execute_local(tasks, n_jobs, timeout, memory_mb, datasets or {})
    else:
        from imbench.benchmarks.execution.dask_backend import DaskRunner

        yield from DaskRunner(scheduler, n_jobs, timeout, memory_mb).run(tasks)


def _execute_sequential(tasks: Sequence[CellTask]) -> Iterator[CellResult]:
    """In this process; when a parent process watches (imbench/sequential.py), note the cell being fitted
    in the file it gave, so a cell that kills this process can be named."""
    note = os.environ.get(CURRENT_CELL_ENV)
    for task in tasks:
        if note:
            cell = task.cell
            where = f"{cell.dataset} / {cell.model} / {cell.label}, repeat {cell.repeat} fold {cell.fold}"
            Path(note).write_text(where)
        result = run_cell(task)
        if note:
            Path(note).write_text("")
        yield result


def _execute_local(tasks: Sequence[CellTask], n_jobs: int, timeout: float | None, memory_mb: float | None,
                   datasets: dict[str, Dataset]) -> Iterator[CellResult]:
    if not tasks:
        return
    folder = make_run_folder()
    try:
        wanted = {task.cell.dataset for task in tasks if not task.skip_reason}
        subset = {name: datasets[name] for name in wanted if name in datasets}
        files = shared_data.share(subset, folder)
        if files:
            datasets.update(subset)
            del subset
            shared_data.release_memory()  # the copies the client loaded are gone: hand their memory back
        yield from LocalPool(n_jobs, timeout, memory_mb, files).run(tasks)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
