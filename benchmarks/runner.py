"""Run a grid into a results folder: enumerate cells, skip finished ones, execute, store each at once.

Resuming does only what is missing: cells never fitted (or failed before) are fitted; finished cells
that lack the inner folds a grid now asks for fit only their inner models; and post-hoc steps a
grid adds are derived in this process from the stored predictions, without any fit.

Order of a run, so that a mistake changes nothing stored and two runs never share a store: every
input is checked first (grid, part options, the results path, each dataset's identity — from the
fingerprint cache when its files are unchanged, else by loading it); only then is the folder
created and its lock taken (benchmarks/store/lock.py), the existing store checked cheaply and for
resumability, and the run recorded. Datasets are loaded in this process only when something needs
them (backfilled post-hoc steps); workers load their own. Cells run longest-expected first
(benchmarks/planning/cost_model.py), so the end of a run is not one long cell on one core.
"""
from __future__ import annotations

import json
import os
import socket
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imbench.benchmarks.spec.cells import Cell, CellPlan, count_plan
from imbench.benchmarks.planning.work import plan_work
from imbench.benchmarks.spec.cv import fold_indices
from imbench.benchmarks.execution.derive import CellPredictions, derive
from imbench.benchmarks.store.environment import environment
from imbench.benchmarks.execution.backends import check_backend
from imbench.benchmarks.execution.dispatch import execute
from imbench.benchmarks.execution.fit_cell import CellTask
from imbench.benchmarks.spec.grid import GridSpec, grid_from_spec
from imbench.benchmarks.store.lock import RunLock
from imbench.benchmarks.spec.parts import GridPart, select_part
from imbench.benchmarks.store.receipt import RECEIPT_META, make_receipt
from imbench.benchmarks.store.reader import forget_reader, store_reader
from imbench.benchmarks.store.results import CellResult, DerivedResult
from imbench.benchmarks.store.schema import StoreError, store_path
from imbench.benchmarks.store.writer import Store, checkpoint_seconds
from imbench.datasets import Dataset, DatasetIdentity, dataset_identities, load_dataset
from imbench.datasets.fingerprint import source_files
from imbench.foundation.names import UnknownNameError
from imbench.foundation.paths import check_writable_dir, prepare_dir

#: Derived results written per transaction when steps are added to a finished store (each batch is
#: complete: a kill loses at most the batch in flight, which the next run derives again).
BACKFILL_BATCH = 500
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
    another k, a dataset whose content changed since its cells were stored, or a file dataset whose
    content is stored under another path (a moved or copied project)."""
    if not store_path(results_dir).is_file():
        return
    reader = store_reader(results_dir)
    runs = reader.runs()
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
    stored = reader.cell_fingerprints()
    for name, value in fingerprints.items():
        if name in stored and stored[name] != value:
            raise StoreError(f"{results_dir}: dataset {name!r} changed since its cells were stored (content "
                             f"{stored[name][:12]} → {value[:12]}); restore it or run into a new folder (--results)")
        moved = [other for other, content in stored.items() if content == value and other != name
                 and other.startswith("file:") and name.startswith("file:")]
        if name not in stored and moved:  # the same data twice would count twice in every board and test
            raise StoreError(f"{results_dir}: dataset {name!r} has the content of {moved[0]!r}, already stored (a "
                             "file dataset is named by its absolute path); read it from that path, or run into a "
                             "new folder (--results)")


def identify_datasets(grid: GridSpec) -> dict[str, DatasetIdentity]:
    """Fingerprint and metadata of every dataset before anything is written (loading, and so
    validating, those the fingerprint cache does not know): a bad one stops the run early."""
    return dataset_identities(list(grid.datasets))


def run_grid(grid: GridSpec, results_dir: str | Path, n_jobs: int = 1, backend: str = "local",
             scheduler: str | None = None, timeout: float | None = None, memory_mb: float | None = None,
             on_start: Callable[[int, int], None] | None = None, on_result: ProgressHook | None = None,
             part: GridPart | None = None, receipt_key: str | None = None) -> RunSummary:
    """Run every cell of `grid` (or of its `part`) not yet finished in `results_dir`; returns what happened.

    Everything that can fail on the user's input (the part options, the results path, datasets, an
    incompatible or damaged existing store, another run holding the folder) is checked before the
    store is written; the folder itself is created only after the inputs passed. With `receipt_key`
    (the command's inputs, benchmarks/store/receipt.py), a run that leaves nothing to do stores a receipt
    so the same command resumes at once next time. `timeout` (seconds) and `memory_mb` (MiB) per cell
    override the grid's [limits].
    """
    backend = check_backend(backend, scheduler)
    if backend == "dask" and scheduler is not None:
        from imbench.benchmarks.execution.dask_backend import check_scheduler

        check_scheduler(scheduler)
    results_dir = Path(results_dir)
    part = part or GridPart()
    chosen = select_part(grid, part)
    check_writable_dir(results_dir, "--results")
    identities = identify_datasets(chosen)
    prepare_dir(results_dir, "--results")
    with RunLock(results_dir):
        if store_path(results_dir).is_file():
            store_reader(results_dir)
        check_resumable(results_dir, grid, {name: identity.fingerprint for name, identity in identities.items()})
        forget_reader(results_dir)  # it read the store at rest; from here on the writer reads what it writes
        store = Store(results_dir, checkpoint_every=checkpoint_seconds())
        try:
            limits = (timeout if timeout is not None else grid.cell_timeout,
                      memory_mb if memory_mb is not None else grid.cell_memory)
            summary = _run(grid, chosen, part, store, identities, n_jobs, backend, scheduler, limits, on_start,
                           on_result)
            if receipt_key is not None:
                _write_receipt(store, chosen, part, identities, receipt_key, summary)
            return summary
        finally:
            store.close()


def _run(grid: GridSpec, chosen: GridSpec, part: GridPart, store: Store, identities: dict[str, DatasetIdentity],
         n_jobs: int, backend: str, scheduler: str | None, limits: tuple[float | None, float | None],
         on_start: Callable[[int, int], None] | None, on_result: ProgressHook | None) -> RunSummary:
    """The run itself, with the folder locked and the store open; `limits` are (seconds, MiB) per cell."""
    timeout, memory_mb = limits
    spec = {**grid.to_dict(), **({"part": part.describe()} if not part.whole else {})}
    # how the run was executed (the cost model learns the per-cell overhead from it)
    env = {**environment(), "run": {"n_jobs": n_jobs, "backend": backend}}
    store.set_meta(RECEIPT_META, None)  # the store changes: an earlier receipt no longer holds
    run_id = store.begin_run(spec, env, socket.gethostname(), os.getpid())
    for name, identity in identities.items():
        store.put_dataset(name, identity.fingerprint, identity.meta)
    work = plan_work(chosen, store, identities, part, memory_mb)
    total = len(work.cells.cells)
    _record_plan(store, work.cells, grid)
    summary = RunSummary(store.dir, total=total, already_done=total - len(work.tasks),
                         inner_only=work.inner_only, oom_kept=work.oom_kept, left_out=work.cells.left_out_summary())
    if on_start:
        on_start(total, total - len(work.tasks))
    inner_only = {t.cell.key for t in work.tasks if t.inner_only}
    results = execute(work.tasks, n_jobs=n_jobs, backend=backend, scheduler=scheduler, timeout=timeout,
                      memory_mb=memory_mb, datasets=_large_datasets(work.tasks, identities, backend))
    with closing(results):  # stops the workers as soon as anything (Ctrl-C, SIGTERM) interrupts
        for result in results:
            if result.key in inner_only:
                _store_inner(store, result)
            else:
                store.put(result, run_id)
            summary.counts[result.status] += 1
            if on_result:
                on_result(result)
    summary.derived_from_store = _backfill(store, work.backfill, chosen)
    store.finish_run(run_id)
    return summary


def _large_datasets(tasks: list[CellTask], identities: dict[str, DatasetIdentity], backend: str) -> dict[str, Dataset]:
    """The datasets the local backend shares memory-mapped with its workers (benchmarks/execution/shared_data.py):
    those the tasks fit on that are large enough to be worth a file, loaded here once. Small ones are
    loaded by each worker by name."""
    if backend != "local":  # already the checked name (`loky` became `local`)
        return {}
    from imbench.benchmarks.execution.shared_data import SHARE_ABOVE_BYTES

    wanted = dict.fromkeys(t.cell.dataset for t in tasks if not t.skip_reason)
    # 8 bytes per value is the size of a numeric frame; the share step measures the loaded data exactly
    large = [name for name in wanted
             if 8 * int(identities[name].meta.get("n", 0)) * (int(identities[name].meta.get("d", 0)) + 1)
             >= SHARE_ABOVE_BYTES]
    return {name: load_dataset(name) for name in large}


def _write_receipt(store: Store, chosen: GridSpec, part: GridPart, identities: dict[str, DatasetIdentity], key: str,
                   summary: RunSummary) -> None:
    """Store the receipt when nothing is left to do and every dataset's content comes from files."""
    left = plan_work(chosen, store, identities, part)
    if left.tasks or left.backfill:
        return
    files = [source_files(name) for name in chosen.datasets]
    if any(not found for found in files):
        return  # a generated dataset is fingerprinted by loading it: no shortcut
    store.set_meta(RECEIPT_META, make_receipt(store.conn, key, [path for found in files for path in found],
                                              {"name": chosen.name, "total": summary.total,
                                               "left_out": summary.left_out}))


def _record_plan(store: Store, plan: CellPlan, grid: GridSpec) -> None:
    """What analysis needs to know about the plan without the registry: which post-hoc steps each
    strategy label derives (kept across runs into the store) and how many cells and results the union
    of every run's grid plans (a part or a shard of a grid leaves the store incomplete until the
    other parts ran)."""
    steps = {label: list(values) for label, values in (store.get_meta("steps") or {}).items()}
    for label, values in plan.steps.items():
        steps[label] = list(dict.fromkeys([*steps.get(label, []), *values]))
    store.set_meta("steps", {label: values for label, values in steps.items() if values})
    try:
        planned = grid_from_spec(store.union_spec() or grid.to_dict())
    except (UnknownNameError, KeyError, ValueError):
        planned = grid  # a strategy of an earlier run is not registered now (a plugin not loaded)
    cells, derived = count_plan(planned)
    store.set_meta("expected_cells", cells)
    store.set_meta("expected_results", cells + derived)  # rows of the results frame


def _store_inner(store: Store, result: CellResult) -> None:
    """An inner-only task's result: keep the stored fit, add what the inner folds gave."""
    degenerate = store.degenerate_of(result.key) or result.degenerate
    if result.status != "ok":  # the worker was lost (timeout, crash): the inner folds are retried next run
        store.put_inner(result.key, None, result.status, None, degenerate, [])
        return
    store.put_inner(result.key, result.inner, result.inner_status, result.inner_seconds, degenerate, result.derived)


def _backfill(store: Store, backfill: list[tuple[Cell, tuple[str, ...]]],
              grid: GridSpec) -> Counter:
    """Derive post-hoc steps of stored ok cells from their stored predictions (no fit; the datasets
    concerned are loaded here for their folds' training priors)."""
    counts: Counter = Counter()
    if not backfill:
        return counts
    datasets = {name: load_dataset(name) for name in dict.fromkeys(cell.dataset for cell, _ in backfill)}
    keys = [cell.key for cell, _ in backfill]
    test = {key: (part["y_true"].to_numpy(), part["proba"].to_numpy())
            for key, part in store.predictions(keys).groupby("key", sort=False)}
    inner = store.inner_predictions(keys)
    stored = store.cell_priors(keys)
    pending: list[DerivedResult] = []
    for cell, steps in backfill:
        y_test, proba = test[cell.key]
        data = datasets[cell.dataset]
        _, test_rows = fold_indices(data.y, cell.n_splits, cell.n_repeats, cell.run_seed, cell.dataset, cell.repeat,
                                    cell.fold)
        train_prior = float((data.y.sum() - data.y[test_rows].sum()) / (len(data.y) - len(test_rows)))
        prior, inner_status, extra = stored[cell.key]
        model_prior = None if prior is None or prior != prior else float(prior)
        inner_status = inner_status or ("skipped" if grid.inner_folds < 2 else "")
        message = "" if cell.key in inner else (_extra_message(extra) or
                                                 f"the grid stores no inner folds (inner_folds = {grid.inner_folds})")
        results = derive(CellPredictions(cell.key, y_test, proba, inner.get(cell.key), inner_status, message,
                                         train_prior, model_prior), steps, grid.metrics)
        pending += results
        if len(pending) >= BACKFILL_BATCH:
            store.put_derived(pending)
            pending = []
        counts.update(r.status for r in results)
    store.put_derived(pending)
    return counts


def _extra_message(extra: str) -> str:
    try:
        return str(json.loads(extra).get("inner_message", ""))
    except (ValueError, AttributeError):
        return ""
