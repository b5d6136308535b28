"""A plan before a run (`imbench plan GRID`, `imbench run GRID --dry-run`): what a grid (or a part
of it) will run, what it leaves out and why, which datasets need a download, and how long it will
take at `-j N`.

Nothing is written and nothing is downloaded. Dataset sizes come from the bundle's manifest, the
fingerprint cache, a source's catalogue, or loading a local dataset. A cell the strategy's own
`check` refuses on a training fold of that size is counted as a skip (it costs only the per-cell
overhead). The time is the cost model's (benchmarks/planning/cost_model.py), scaled by a short probe: a few
real cells of the plan run now on this machine through the same execution layer at the same `-j`,
and the ratio of their measured seconds to the model's says how fast this machine is today. The
wall time is a longest-first list schedule of the cells on N workers, plus start-up and the probe.
"""
from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imbench.benchmarks.spec.cells import Cell, dataset_skip_reason, enumerate_cells
from imbench.benchmarks.planning.cost_model import CostModel, shipped_model
from imbench.benchmarks.execution.dispatch import execute
from imbench.benchmarks.execution.fit_cell import CellTask
from imbench.benchmarks.spec.grid import GridSpec
from imbench.benchmarks.spec.parts import GridPart, select_part
from imbench.benchmarks.store.reader import store_reader
from imbench.benchmarks.store.schema import store_path
from imbench.datasets.cleaning import quiet_notices
from imbench.datasets.fingerprint import known_identity, source_files
from imbench.datasets.registry import SOURCE_SPECS, dataset_meta, load_dataset, scheme_of
from imbench.strategies import TrainingContext, get_model, get_strategy

#: Seconds of worker time the probe aims at (spread over -j workers), unless --probe says otherwise.
DEFAULT_PROBE_SECONDS = 8.0
#: A probe's speed ratio is trusted within these bounds (a probe of a few cells can be unlucky).
PROBE_CLAMP = (0.25, 4.0)
#: Start-up of a run before its first cell: imports, dataset identities, the worker pool.
STARTUP_SECONDS = 4.0


@dataclass
class DatasetPlan:
    name: str
    meta: dict[str, Any]
    #: "bundled", "local" (a file or generated), "cached" (downloaded before) or "download".
    availability: str


@dataclass
class Probe:
    cells: int
    seconds: float
    measured: float
    predicted: float

    @property
    def ratio(self) -> float:
        """Measured / modelled seconds of the probe's cells (clamped)."""
        if self.predicted <= 0 or self.measured <= 0:
            return 1.0
        return float(np.clip(self.measured / self.predicted, *PROBE_CLAMP))


@dataclass
class Plan:
    """The cells a run would have, their expected costs, and what surrounds them."""

    grid: GridSpec
    part: GridPart
    cells: pd.DataFrame
    grid_cells: int
    left_out: list[str]
    datasets: list[DatasetPlan]
    stored: int = 0
    model: CostModel = field(default_factory=shipped_model)
    probe: Probe | None = None
    timeout: float | None = None

    @property
    def to_run(self) -> pd.DataFrame:
        return self.cells[~self.cells["stored"]]

    @property
    def speed(self) -> float:
        return self.probe.ratio if self.probe is not None else 1.0

    def cell_seconds(self) -> np.ndarray:
        """Expected seconds of each cell still to run, on this machine (probe ratio), capped at the limit.
        The overhead (metrics, derived steps, storing) is CPU work on the same machine: it scales too."""
        frame = self.to_run
        overhead = self.model.overhead_seconds + self.model.overhead_per_step * frame["steps"].to_numpy()
        seconds = (frame["fit_seconds"].to_numpy() + overhead) * self.speed
        if self.timeout is not None:
            seconds = np.minimum(seconds, self.timeout)
        return seconds

    def wall_seconds(self, n_jobs: int) -> float:
        """The run's wall time: a longest-first schedule of its cells on `n_jobs` workers (as the
        runner orders them), plus start-up. The probe's own seconds are spent by `plan`, not the run."""
        seconds = np.sort(self.cell_seconds())[::-1]
        workers = [0.0] * max(1, n_jobs)
        for value in seconds:
            heapq.heapreplace(workers, workers[0] + float(value))
        return (max(workers) if len(seconds) else 0.0) + STARTUP_SECONDS

    def summary(self, by: str) -> pd.DataFrame:
        """Cells, fits, skips and expected CPU seconds (of cells still to run) by dataset, model or strategy."""
        frame = self.to_run.assign(cpu=self.cell_seconds())
        table = frame.groupby(by, sort=False).agg(cells=("key", "size"), fits=("fits", "sum"),
                                                  skips=("skipped", "sum"), cpu=("cpu", "sum"))
        return table.sort_values("cpu", ascending=False).reset_index()


# --- datasets --------------------------------------------------------------------------------------

def _availability(name: str) -> str:
    spec = SOURCE_SPECS.get(scheme_of(name))
    if spec is None:
        return "bundled"
    if not spec.downloads:
        return "local"
    files = source_files(name)
    return "cached" if files and all(path.is_file() for path in files) else "download"


def plan_datasets(names: list[str]) -> list[DatasetPlan]:
    """Each dataset's size and whether it is here; never downloads (an uncached dataset's size comes
    from its source's catalogue when it has one)."""
    out = []
    for name in names:
        availability = _availability(name)
        known = known_identity(name)
        if known is not None:
            meta = known.meta
        else:
            meta = dataset_meta(name, load=False)
            if meta.get("n") is None and availability != "download":
                with quiet_notices():
                    meta = load_dataset(name).meta
        out.append(DatasetPlan(name, dict(meta), availability))
    return out


# --- cells -----------------------------------------------------------------------------------------

def _context(meta: dict[str, Any], n_splits: int) -> TrainingContext:
    share = (n_splits - 1) / n_splits
    n = int(round(float(meta.get("n") or 0) * share))
    n_pos = int(round(float(meta.get("n_pos") or 0) * share))
    d = int(meta.get("d") or 0)
    n_cat = min(int(meta.get("n_categorical") or 0), d)
    categorical = tuple(meta.get("categorical") or [f"c{i}" for i in range(n_cat)])[:n_cat]
    return TrainingContext(n_train=n, n_pos=n_pos, numeric_columns=tuple(f"x{i}" for i in range(d - n_cat)),
                           categorical_columns=categorical)


def _skips(cell: Cell, meta: dict[str, Any], grid: GridSpec) -> bool:
    """Whether the cell will be stored as skipped without a fit, as far as its dataset's size says."""
    if meta.get("n_pos") is None:
        return False
    if dataset_skip_reason(int(meta["n_pos"]), grid):
        return True
    strategy = get_strategy(cell.strategy.name)
    model = get_model(cell.model_config.name).with_options(cell.model_config.options)
    ctx = _context(meta, grid.n_splits)
    try:
        used, _ = strategy.adapt(model, cell.strategy.params, ctx)
        ok, _ = strategy.check(model, used, ctx)
    except Exception:  # noqa: BLE001 - a check that needs the real data decides at run time
        return False
    return not ok


def _stored_keys(results_dir: Path | None) -> set[str]:
    if results_dir is None or not store_path(results_dir).is_file():
        return set()
    return store_reader(results_dir).final_keys()


def cell_table(cells: list[Cell], grid: GridSpec, metas: dict[str, dict[str, Any]], model: CostModel,
               stored: set[str], steps: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """One row per cell: what it is, whether it is stored or will skip, its fits and modelled seconds
    (without the per-cell overhead); costs computed once per dataset × model × strategy point."""
    memo: dict[tuple[str, str, str], tuple[bool, float]] = {}
    rows = []
    k = grid.inner_folds
    for cell in cells:
        group = (cell.dataset, cell.model, cell.label)
        if group not in memo:
            meta = metas[cell.dataset]
            skipped = _skips(cell, meta, grid)
            cost = 0.0 if skipped else model.cell_seconds(cell, meta, k) - model.overhead(0)
            memo[group] = (skipped, cost)
        skipped, cost = memo[group]
        inner = k if k > 1 and not cell.strategy.anti_pattern else 0
        rows.append((cell.key, cell.dataset, cell.model, cell.label, skipped, 0 if skipped else 1 + inner, cost,
                     0 if skipped else len(steps.get(cell.label, ())), cell.key in stored))
    return pd.DataFrame(rows, columns=["key", "dataset", "model", "strategy", "skipped", "fits", "fit_seconds",
                                       "steps", "stored"])


def make_plan(grid: GridSpec, part: GridPart | None = None, results_dir: Path | None = None,
              model: CostModel | None = None, timeout: float | None = None) -> Plan:
    """Everything but the probe: cells of the grid's part, their costs, stored cells, datasets."""
    from imbench.benchmarks.spec.cells import count_plan

    part = part or GridPart()
    model = model or shipped_model()
    chosen = select_part(grid, part)
    datasets = plan_datasets(list(chosen.datasets))
    metas = {d.name: d.meta for d in datasets}
    plan = enumerate_cells(chosen)
    cells = part.cells(plan.cells)
    table = cell_table(cells, chosen, metas, model, _stored_keys(results_dir), plan.steps)
    return Plan(chosen, part, table, count_plan(grid)[0], plan.left_out_summary(), datasets,
                stored=int(table["stored"].sum()), model=model,
                timeout=timeout if timeout is not None else grid.cell_timeout)


def _probe_cells(plan: Plan, budget: float) -> list[str]:
    """Keys of cells to probe: systematic sampling over the cumulative modelled cost of the runnable
    cells that each fit well within the budget, so the probe covers the plan's mix of cells."""
    available = {d.name for d in plan.datasets if d.availability != "download"}
    frame = plan.to_run
    frame = frame[~frame["skipped"] & frame["dataset"].isin(available) & (frame["fit_seconds"] < budget / 3)]
    if frame.empty or budget <= 0:
        return []
    frame = frame.sort_values("key")  # a fixed order: the same plan probes the same cells
    cumulative = frame["fit_seconds"].cumsum().to_numpy()
    total = cumulative[-1]
    count = max(2, min(24, int(budget / max(total / len(frame), 1e-3))))
    targets = (np.arange(count) + 0.5) * total / count
    picks = np.unique(np.searchsorted(cumulative, targets))
    keys, spent = [], 0.0
    seconds = frame["fit_seconds"].to_numpy()
    for index in picks:
        if spent + seconds[index] > budget and keys:
            break
        keys.append(frame["key"].iloc[index])
        spent += seconds[index]
    return keys


def run_probe(plan: Plan, budget: float, n_jobs: int, on_result: Callable[[Any], None] | None = None) -> Probe:
    """Run a few of the plan's cells now (nothing stored) and compare their seconds with the model's."""
    keys = set(_probe_cells(plan, budget * max(1, n_jobs)))
    start = time.perf_counter()
    if not keys:
        return Probe(0, 0.0, 0.0, 0.0)
    cells = {c.key: c for c in enumerate_cells(plan.grid).cells if c.key in keys}
    predicted = dict(zip(plan.cells["key"], plan.cells["fit_seconds"]))
    k = plan.grid.inner_folds
    tasks = [CellTask(cell, plan.grid.metrics, k, ()) for cell in cells.values()]
    measured = modelled = 0.0
    count = 0
    for result in execute(tasks, n_jobs=n_jobs, timeout=max(budget * 3, 30.0)):
        if on_result:
            on_result(result)
        if result.status != "ok":
            continue
        count += 1
        measured += (result.fit_seconds or 0) + (result.predict_seconds or 0) + (result.inner_seconds or 0)
        modelled += predicted[result.key]
    return Probe(count, time.perf_counter() - start, measured, modelled)
