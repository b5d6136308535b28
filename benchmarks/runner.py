"""Run a grid into a results folder: enumerate cells, skip finished ones, execute, store each at once.

Resuming does only what is missing: cells never fitted (or failed before) are fitted; finished cells
that lack the inner folds a grid now asks for fit only their inner models; and post-hoc steps a
grid adds are derived in this process from the stored predictions, without any fit.
"""
from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.cells import Cell, CellPlan, enumerate_cells
from benchmarks.cv import fold_indices
from benchmarks.derive import CellPredictions, derive
from benchmarks.environment import environment
from benchmarks.execution import check_backend, execute
from benchmarks.fit_cell import CellTask
from benchmarks.grid import GridSpec
from benchmarks.store import (FINAL_STATUSES, CellResult, Store, StoreError, read_cells, read_inner_predictions,
                              read_predictions, read_runs, store_path)
from datasets import Dataset, fingerprint, load_dataset

#: Parts of the spec that change what an already stored cell means; they must match to resume.
RESUME_INVARIANTS = ("seed", "cv", "metrics")

ProgressHook = Callable[[CellResult], None]


@dataclass
class RunSummary:
    results_dir: Path
    total: int
    already_done: int
    counts: Counter = field(default_factory=Counter)
    #: Post-hoc results derived from stored predictions in this run (no fit), by status.
    derived_from_store: Counter = field(default_factory=Counter)
    #: Stored cells that needed only their inner folds fitted.
    inner_only: int = 0
    #: Cells stored as `oom` under a memory limit at least as high as this run's: not retried.
    oom_kept: int = 0
    left_out: list[str] = field(default_factory=list)


def _cv_invariant(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (spec.get("cv") or {}).items() if k != "inner_folds"}


def check_resumable(results_dir: Path, grid: GridSpec, fingerprints: dict[str, str]) -> None:
    """Refuse (read-only) to mix cells of another seed, CV or metric configuration, inner folds of
    another k, or a dataset whose content changed since its cells were stored."""
    if not store_path(results_dir).is_file():
        return
    runs = read_runs(results_dir)
    if not runs:
        return
    previous, current = runs[0]["spec"], grid.to_dict()
    for key in RESUME_INVARIANTS:
        before, now = (_cv_invariant(previous), _cv_invariant(current)) if key == "cv" else (previous.get(key),
                                                                                              current.get(key))
        if before != now:
            raise StoreError(f"{results_dir}: holds a run with a different `{key}` ({before} vs {now}); "
                             "use --results with a new folder to keep both")
    stored_k = {int((run["spec"].get("cv") or {}).get("inner_folds", 0)) for run in runs} - {0}
    if grid.inner_folds and stored_k and grid.inner_folds not in stored_k:
        raise StoreError(f"{results_dir}: its cells have inner_folds = {min(stored_k)}, the grid asks for "
                         f"{grid.inner_folds}; keep {min(stored_k)} or use --results with a new folder")
    cells = read_cells(results_dir)
    stored = dict(zip(cells["dataset"], cells["fingerprint"])) if len(cells) else {}
    for name, value in fingerprints.items():
        if name in stored and stored[name] != value:
            raise StoreError(f"{results_dir}: dataset {name!r} changed since its cells were stored (content "
                             f"{stored[name][:12]} → {value[:12]}); restore it or run into a new folder (--results)")


def dataset_skip_reason(dataset: Dataset, grid: GridSpec) -> str:
    """Why no cell of this dataset can run (too few positives to stratify), or ''."""
    if dataset.n_pos < grid.n_splits:
        return (f"dataset has {dataset.n_pos} positives; stratified {grid.n_splits}-fold CV needs at least "
                f"{grid.n_splits}")
    return ""


def load_datasets(grid: GridSpec) -> dict[str, Dataset]:
    """Load (and so validate) every dataset before anything is written: a bad one stops the run early."""
    return {name: load_dataset(name) for name in grid.datasets}


@dataclass
class WorkPlan:
    """What a run into a store has to do."""

    cells: CellPlan
    tasks: list[CellTask]
    #: (cell, missing steps) of stored ok cells whose post-hoc steps can be derived now, without a fit.
    backfill: list[tuple[Cell, tuple[str, ...]]]
    inner_only: int = 0
    oom_kept: int = 0


def _memory_raised(stored_mb: float | None, now_mb: float | None) -> bool:
    """Whether an `oom` cell stored under `stored_mb` may be retried under `now_mb` (None: no limit)."""
    return now_mb is None or stored_mb is None or now_mb > stored_mb


def plan_work(grid: GridSpec, store: Store, datasets: dict[str, Dataset], fingerprints: dict[str, str],
              memory_mb: float | None = None) -> WorkPlan:
    """Every cell of the grid, and what each needs: a fit (missing or failed before; an `oom` cell only
    when the memory limit was raised), inner folds only (stored ok, inner folds newly asked for), or
    post-hoc steps derived from stored predictions."""
    reasons = {name: dataset_skip_reason(dataset, grid) for name, dataset in datasets.items()}
    cell_plan = enumerate_cells(grid)
    states = store.cell_states()
    derived = store.derived_states()
    oom_limits = store.oom_limits()
    k = grid.inner_folds
    tasks, backfill, need_inner = [], [], []
    oom_kept = 0
    for cell in cell_plan.cells:
        steps = cell_plan.steps.get(cell.label, ())
        task = CellTask(cell, grid.metrics, k, steps, reasons[cell.dataset], fingerprints[cell.dataset])
        status, stored_k, inner_status = states.get(cell.key, ("missing", 0, ""))
        if status == "oom" and not _memory_raised(oom_limits.get(cell.key), memory_mb):
            oom_kept += 1
        elif status not in FINAL_STATUSES:
            tasks.append(task)
        elif status == "ok":
            if k > 1 and stored_k == 0 and inner_status not in ("skipped", "ok"):
                need_inner.append(task)
                continue
            missing = tuple(s for s in steps if derived.get((cell.key, s)) not in FINAL_STATUSES)
            if missing:
                backfill.append((cell, missing))
    tasks += _inner_only_tasks(store.dir, need_inner)
    return WorkPlan(cell_plan, tasks, backfill, len(need_inner), oom_kept)


def _inner_only_tasks(results_dir: Path, tasks: list[CellTask]) -> list[CellTask]:
    """Attach the stored test predictions and priors the inner-only tasks derive their steps from."""
    if not tasks:
        return []
    keys = [t.cell.key for t in tasks]
    predictions = read_predictions(results_dir, keys)
    by_key = {key: part["proba"].to_numpy() for key, part in predictions.groupby("key", sort=False)}
    cells = read_cells(results_dir).set_index("key")
    out = []
    for task in tasks:
        prior = cells.at[task.cell.key, "training_prior"]
        out.append(CellTask(task.cell, task.metrics, task.inner_folds, task.steps, task.skip_reason, task.fingerprint,
                            stored_test_proba=by_key[task.cell.key],
                            stored_model_prior=None if prior != prior else float(prior)))
    return out


def run_grid(grid: GridSpec, results_dir: str | Path, n_jobs: int = 1, backend: str = "local",
             scheduler: str | None = None, timeout: float | None = None, memory_mb: float | None = None,
             on_start: Callable[[int, int], None] | None = None, on_result: ProgressHook | None = None) -> RunSummary:
    """Run every cell of `grid` not yet finished in `results_dir`; returns what happened.

    Everything that can fail on the user's input (datasets, an incompatible existing store) is checked
    before the results folder is created or written. `timeout` (seconds) and `memory_mb` (MiB) per cell
    override the grid's [limits].
    """
    check_backend(backend, scheduler)
    results_dir = Path(results_dir)
    datasets = load_datasets(grid)
    fingerprints = {name: fingerprint(dataset) for name, dataset in datasets.items()}
    check_resumable(results_dir, grid, fingerprints)
    store = Store(results_dir)
    try:
        run_id = store.begin_run(grid.to_dict(), environment(), socket.gethostname(), os.getpid())
        for name in datasets:  # no loop variable left holding a dataset: the local backend swaps them
            meta = {**datasets[name].meta, "categorical": datasets[name].categorical}
            store.put_dataset(name, fingerprints[name], meta)
        memory_limit = memory_mb if memory_mb is not None else grid.cell_memory
        work = plan_work(grid, store, datasets, fingerprints, memory_limit)
        total = len(work.cells.cells)
        _record_plan(store, work.cells, total)
        summary = RunSummary(results_dir, total=total, already_done=total - len(work.tasks),
                             inner_only=work.inner_only, oom_kept=work.oom_kept,
                             left_out=work.cells.left_out_summary())
        if on_start:
            on_start(total, total - len(work.tasks))
        limit = timeout if timeout is not None else grid.cell_timeout
        inner_only = {t.cell.key for t in work.tasks if t.inner_only}
        results = execute(work.tasks, n_jobs=n_jobs, backend=backend, scheduler=scheduler, timeout=limit,
                          memory_mb=memory_limit, datasets=datasets)
        with closing(results):  # stops the workers as soon as anything (Ctrl-C, SIGTERM) interrupts
            for result in results:
                if result.key in inner_only:
                    _store_inner(store, result)
                else:
                    store.put(result, run_id)
                summary.counts[result.status] += 1
                if on_result:
                    on_result(result)
        summary.derived_from_store = _backfill(store, results_dir, work.backfill, datasets, grid)
        store.finish_run(run_id)
        return summary
    finally:
        store.close()


def _record_plan(store: Store, plan: CellPlan, total: int) -> None:
    """What analysis needs to know about the plan without the registry: which post-hoc steps each
    strategy label derives (kept across runs into the store) and how many cells the grid has."""
    steps = {label: list(values) for label, values in (store.get_meta("steps") or {}).items()}
    for label, values in plan.steps.items():
        steps[label] = list(dict.fromkeys([*steps.get(label, []), *values]))
    store.set_meta("steps", {label: values for label, values in steps.items() if values})
    store.set_meta("expected_cells", total)
    store.set_meta("expected_results", total + plan.derived_count())  # rows of the results frame


def _store_inner(store: Store, result: CellResult) -> None:
    """An inner-only task's result: keep the stored fit, add what the inner folds gave."""
    stored_degenerate = store.conn.execute("SELECT degenerate FROM cells WHERE key = ?", (result.key,)).fetchone()
    degenerate = (stored_degenerate[0] if stored_degenerate else "") or result.degenerate
    if result.status != "ok":  # the worker was lost (timeout, crash): the inner folds are retried next run
        store.put_inner(result.key, None, result.status, None, degenerate, [])
        return
    store.put_inner(result.key, result.inner, result.inner_status, result.inner_seconds, degenerate, result.derived)


def _backfill(store: Store, results_dir: Path, backfill: list[tuple[Cell, tuple[str, ...]]],
              datasets: dict[str, Dataset], grid: GridSpec) -> Counter:
    """Derive post-hoc steps of stored ok cells from their stored predictions (no fit)."""
    counts: Counter = Counter()
    if not backfill:
        return counts
    keys = [cell.key for cell, _ in backfill]
    test = {key: (part["y_true"].to_numpy(), part["proba"].to_numpy())
            for key, part in read_predictions(results_dir, keys).groupby("key", sort=False)}
    inner = read_inner_predictions(results_dir, keys)
    cells = read_cells(results_dir).set_index("key")
    for cell, steps in backfill:
        y_test, proba = test[cell.key]
        data = datasets[cell.dataset]
        _, test_rows = fold_indices(data.y, cell.n_splits, cell.n_repeats, cell.run_seed, cell.dataset, cell.repeat,
                                    cell.fold)
        train_prior = float((data.y.sum() - data.y[test_rows].sum()) / (len(data.y) - len(test_rows)))
        row = cells.loc[cell.key]
        model_prior = None if row["training_prior"] != row["training_prior"] else float(row["training_prior"])
        inner_status = row["inner_status"] or ("skipped" if grid.inner_folds < 2 else "")
        message = "" if cell.key in inner else (_extra_message(row["extra"]) or
                                                 f"the grid stores no inner folds (inner_folds = {grid.inner_folds})")
        results = derive(CellPredictions(cell.key, y_test, proba, inner.get(cell.key), inner_status, message,
                                         train_prior, model_prior), steps, grid.metrics)
        store.put_derived(results)
        counts.update(r.status for r in results)
    return counts


def _extra_message(extra: str) -> str:
    import json

    try:
        return str(json.loads(extra).get("inner_message", ""))
    except (ValueError, AttributeError):
        return ""
