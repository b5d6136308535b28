"""What a run into a store has to do: every cell of the grid (or of a shard), and for each whether it
needs a fit (missing, or failed before; an `oom` cell only under a raised memory limit), only its inner
folds (stored ok, inner folds newly asked for), or post-hoc steps derived from stored predictions.
Tasks are ordered longest-expected first (benchmarks/planning/cost_model.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from imbench.benchmarks.execution.fit_cell import CellTask
from imbench.benchmarks.planning.cost_model import order_by_cost
from imbench.benchmarks.spec.cells import Cell, CellPlan, dataset_skip_reason, enumerate_cells
from imbench.benchmarks.spec.grid import GridSpec
from imbench.benchmarks.spec.parts import GridPart
from imbench.benchmarks.store.schema import FINAL_STATUSES
from imbench.benchmarks.store.writer import Store
from imbench.datasets import DatasetIdentity


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


def plan_work(grid: GridSpec, store: Store, identities: dict[str, DatasetIdentity],
              part: GridPart | None = None, memory_mb: float | None = None) -> WorkPlan:
    """Every cell of the grid (of the part's shard), and what each needs: a fit (missing or failed
    before; an `oom` cell only when the memory limit was raised), inner folds only (stored ok, inner
    folds newly asked for), or post-hoc steps derived from stored predictions."""
    reasons = {name: dataset_skip_reason(int(identity.meta.get("n_pos", 0)), grid)
               for name, identity in identities.items()}
    fingerprints = {name: identity.fingerprint for name, identity in identities.items()}
    cell_plan = enumerate_cells(grid)
    if part is not None and part.shard is not None:
        cell_plan = CellPlan(part.cells(cell_plan.cells), cell_plan.steps, cell_plan.left_out)
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
    tasks += _inner_only_tasks(store, need_inner)
    return WorkPlan(cell_plan, order_by_cost(tasks, {n: i.meta for n, i in identities.items()}), backfill,
                    len(need_inner), oom_kept)


def _inner_only_tasks(store: Store, tasks: list[CellTask]) -> list[CellTask]:
    """Attach the stored test predictions and priors the inner-only tasks derive their steps from."""
    if not tasks:
        return []
    keys = [t.cell.key for t in tasks]
    predictions = store.predictions(keys)
    by_key = {key: part["proba"].to_numpy() for key, part in predictions.groupby("key", sort=False)}
    priors = store.cell_priors(keys)
    out = []
    for task in tasks:
        prior = priors[task.cell.key][0]
        out.append(CellTask(task.cell, task.metrics, task.inner_folds, task.steps, task.skip_reason, task.fingerprint,
                            stored_test_proba=by_key[task.cell.key],
                            stored_model_prior=None if prior is None or prior != prior else float(prior)))
    return out
