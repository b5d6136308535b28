"""The Python API for scripts and notebooks: `imbench.run`, `load`, `leaderboard`, `compare`.

Each returns pandas objects (or a small result with `.table` frames) and is what the commands call:
`imbench leaderboard` prints what `leaderboard` returns, `imbench compare` what `compare` returns.
Errors are the same one-line exceptions the CLI shows (`imbench.errors.user_errors()`).
Everything heavy is imported inside the functions, so `import imbench` stays cheap.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover - types only
    from imbench.analysis.compare import Comparison
    from imbench.analysis.leaderboard import Leaderboard
    from imbench.analysis.loading import RunResults
    from imbench.benchmarks.runner import RunSummary


@dataclass
class Run:
    """A grid run into a store: where, what happened, and the stored results frame."""

    results_dir: Path
    summary: "RunSummary"

    @property
    def table(self) -> pd.DataFrame:
        """The results frame of the store (one row per cell and post-hoc step, a column per metric)."""
        return load(self.results_dir).results


def run(grid: str | Path, results: str | Path | None = None, jobs: int = 1, *, backend: str = "local",
        scheduler: str | None = None, timeout: float | None = None, memory: str | float | None = None,
        shard: str | None = None, plugins: Iterable[str | Path] = (),
        on_start: Callable[[int, int], None] | None = None, on_result: Callable[[Any], None] | None = None) -> Run:
    """Run a grid file into `results` (default `results/<grid name>`), resuming what is stored; `jobs`
    -1 uses every core; `memory` per cell ("2GB", or MiB) and `shard` ("I/N") as on the command line.
    Returns a `Run` (`.summary`: counts per status; `.table`: the results frame)."""
    from imbench.benchmarks.spec.grid import load_grid
    from imbench.benchmarks.spec.limits import parse_memory
    from imbench.benchmarks.spec.parts import GridPart, parse_shard
    from imbench.benchmarks.runner import run_grid
    from imbench.options import all_cores
    from imbench.plugin_options import load_plugins

    load_plugins(tuple(Path(p) for p in plugins))
    spec = load_grid(grid)
    results_dir = Path(results) if results is not None else Path("results") / spec.name
    memory_mb = None if memory is None else parse_memory(memory)
    part = GridPart(shard=parse_shard(shard)) if shard is not None else None
    summary = run_grid(spec, results_dir, n_jobs=all_cores() if jobs == -1 else jobs, backend=backend,
                       scheduler=scheduler, timeout=timeout, memory_mb=memory_mb, on_start=on_start,
                       on_result=on_result, part=part)
    return Run(results_dir, summary)


def load(results: str | Path, *, include_anti_patterns: bool = False, model: str | None = None) -> "RunResults":
    """A store, read once: `.results` (the results frame), `.datasets`, `.meta`, `.models`, `.labels`.
    An empty store or an unknown `model` is a one-line error."""
    from imbench.analysis.loading import RunResults
    from imbench.foundation.names import UnknownNameError, unknown_name_message
    from imbench.errors import UserError

    results_dir = Path(results)
    run_results = RunResults.load(results_dir, include_anti_patterns)
    if run_results.results.empty:
        raise UserError(f"{results_dir}: the store holds no cells yet; run a grid into it first (imbench run GRID)")
    if model is not None and model not in run_results.models:
        raise UnknownNameError(unknown_name_message("model in this store", model, run_results.models))
    return run_results


@dataclass
class Boards:
    """Leaderboards of a store: `.boards` (one per model, pooled or per group), `.table` (every board's
    rows in one frame, with `board` and `group` columns: the CSV file), `.notes` (per board)."""

    boards: list["Leaderboard"]
    metric: str
    run: "RunResults"
    notes: list[list[str]] = field(default_factory=list)

    @property
    def table(self) -> pd.DataFrame:
        frames = [b.table.assign(board=b.model or "pooled", **({"group": b.group} if b.group else {}))
                  for b in self.boards]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.boards)

    def __len__(self) -> int:
        return len(self.boards)


def leaderboard(store: "str | Path | RunResults", metric: str = "ap", *, model: str | None = None,
                by: str | None = None, baseline: str = "none", pool_models: bool = False, failed: str = "drop",
                alpha: float = 0.05, rope: float | None = None, costs: tuple[float, float] | None = None,
                include_anti_patterns: bool = False) -> Boards:
    """The leaderboards `imbench leaderboard` prints: one per model (or pooled, or per dataset group
    with `by` = "ir", "size" or "source"), chance rows below, Wilcoxon–Holm and Bayesian comparisons
    with the baseline; `costs=(fp, fn)` adds the expected-cost metrics (`analysis.costs`)."""
    from imbench.analysis.baseline import parse_baseline
    from imbench.analysis.bayes import rope_for
    from imbench.analysis.costs import COST_COLUMNS, Costs, with_costs
    from imbench.analysis.folds import load_folds
    from imbench.analysis.board_notes import board_notes
    from imbench.analysis.leaderboard import (CoverageCache, check_metric, dataset_groups, grouped_leaderboards,
                                      leaderboards)
    from imbench.analysis.loading import RunResults
    from imbench.foundation.metrics import HEADLINE

    run_results = store if isinstance(store, RunResults) else load(store, include_anti_patterns=include_anti_patterns,
                                                                   model=model)
    if model is not None and model not in run_results.models:
        load(run_results.results_dir, model=model)  # the one-line "did you mean" error
    headline = HEADLINE
    if costs is not None:
        run_results = replace(run_results, results=with_costs(run_results.results, load_folds(run_results.results_dir),
                                                              Costs(*costs)))
        headline = HEADLINE + COST_COLUMNS
    check_metric(run_results.results, metric)
    rope = rope_for(metric, rope)
    chosen = parse_baseline(baseline, run_results.models, run_results.labels)  # checked once, against every label
    options = {"failed": failed, "alpha": alpha, "baseline": chosen, "completeness": run_results.completeness,
               "pool_models": pool_models and model is None, "models": [model] if model else None, "rope": rope,
               "headline": headline}
    if by:
        boards = grouped_leaderboards(run_results.results, dataset_groups(run_results.datasets, by), metric,
                                      planned_folds=run_results.planned_folds, **options)
    else:
        boards = leaderboards(run_results.results, metric, cache=CoverageCache(run_results.results,
                                                                               run_results.planned_folds), **options)
    extra = [run_results.anti_pattern_note()] if run_results.anti_patterns else []
    if costs is not None:
        extra.append(f"costs {Costs(*costs).describe()}: the Bayes threshold of cost@bayes is "
                     f"fp/(fp+fn) = {Costs(*costs).threshold:.3g}.")
    return Boards(boards, metric, run_results, [board_notes(b) + extra for b in boards])


def compare(a: str | Path, b: str | Path, metric: str = "ap", *, alpha: float = 0.05, rope: float | None = None,
            include_anti_patterns: bool = False, seed: int = 0) -> "Comparison":
    """Two stores of compatible grids (same seed and CV) compared label by label, paired by dataset
    means where both have every fold: `.table` (difference B − A with a 95 % CI, Wilcoxon, Bayesian
    signed-rank), `.unmatched` (labels and datasets in one store only), `.notes`."""
    from imbench.analysis.compare import compare_runs

    first = load(a, include_anti_patterns=include_anti_patterns)
    second = load(b, include_anti_patterns=include_anti_patterns)
    return compare_runs(first, second, metric, alpha=alpha, rope=rope, seed=seed)
