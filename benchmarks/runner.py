"""Run a grid into a results folder: enumerate cells, skip finished ones, execute, store each at once."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.cells import Cell, enumerate_cells
from benchmarks.environment import environment
from benchmarks.execution import execute
from benchmarks.fit_cell import CellTask
from benchmarks.grid import GridSpec
from benchmarks.store import CellResult, Store, StoreError, read_meta, store_path
from datasets import Dataset, load_dataset

#: Parts of the spec that change what an already stored cell means; they must match to resume.
RESUME_INVARIANTS = ("seed", "cv", "metrics")

ProgressHook = Callable[[CellResult], None]


@dataclass
class RunSummary:
    results_dir: Path
    total: int
    already_done: int
    counts: Counter = field(default_factory=Counter)


def check_resumable(results_dir: Path, grid: GridSpec) -> None:
    """Refuse to mix cells produced under a different seed, CV or metric configuration (read-only)."""
    if not store_path(results_dir).is_file():
        return
    previous = read_meta(results_dir).get("spec")
    if previous is None:
        return
    current = grid.to_dict()
    for key in RESUME_INVARIANTS:
        if previous.get(key) != current.get(key):
            raise StoreError(
                f"{results_dir}: holds a run with a different `{key}` ({previous.get(key)} vs {current.get(key)}); "
                "use --results with a new folder to keep both")


def dataset_skip_reason(dataset: Dataset, grid: GridSpec) -> str:
    """Why no cell of this dataset can run (too few positives to stratify), or ''."""
    if dataset.n_pos < grid.n_splits:
        return (f"dataset has {dataset.n_pos} positives; stratified {grid.n_splits}-fold CV needs at least "
                f"{grid.n_splits}")
    return ""


def load_datasets(grid: GridSpec) -> dict[str, Dataset]:
    """Load (and so validate) every dataset before anything is written: a bad one stops the run early."""
    return {name: load_dataset(name) for name in grid.datasets}


def plan(grid: GridSpec, store: Store, datasets: dict[str, Dataset]) -> tuple[list[Cell], list[CellTask]]:
    """All cells of the grid and the tasks still to run (missing or failed before)."""
    reasons = {name: dataset_skip_reason(dataset, grid) for name, dataset in datasets.items()}
    for name, dataset in datasets.items():
        store.put_dataset(name, {**dataset.meta, "categorical": dataset.categorical})
    cells = enumerate_cells(grid)
    finished = store.finished_keys()
    tasks = [CellTask(cell, grid.metrics, reasons[cell.dataset], grid.inner_folds)
             for cell in cells if cell.key not in finished]
    return cells, tasks


def run_grid(grid: GridSpec, results_dir: str | Path, n_jobs: int = 1, backend: str = "loky",
             scheduler: str | None = None, timeout: float | None = None,
             on_start: Callable[[int, int], None] | None = None, on_result: ProgressHook | None = None) -> RunSummary:
    """Run every cell of `grid` not yet finished in `results_dir`; returns what happened.

    Everything that can fail on the user's input (datasets, an incompatible existing store) is checked
    before the results folder is created or written.
    """
    results_dir = Path(results_dir)
    datasets = load_datasets(grid)
    check_resumable(results_dir, grid)
    store = Store(results_dir)
    try:
        store.set_meta("spec", grid.to_dict())
        store.set_meta("environment", environment())
        cells, tasks = plan(grid, store, datasets)
        summary = RunSummary(results_dir, total=len(cells), already_done=len(cells) - len(tasks))
        if on_start:
            on_start(len(cells), summary.already_done)
        limit = timeout if timeout is not None else grid.cell_timeout
        for result in execute(tasks, n_jobs=n_jobs, backend=backend, scheduler=scheduler, timeout=limit):
            store.put(result)
            summary.counts[result.status] += 1
            if on_result:
                on_result(result)
        return summary
    finally:
        store.close()
