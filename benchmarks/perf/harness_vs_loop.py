"""Harness overhead, measured side by side in one run (a benchmark script, not a test).

1. imbench at -j 2 (runner, metrics, store, progress hooks) vs a minimal hand-written joblib loop
   doing the same fits at -j 2 (same datasets, folds, pipelines; it computes only AP and stores nothing).
   Goal: wall-time ratio ≤ 1.10.
2. imbench at -j 1 vs -j 2: the parallel speed-up on this machine.

Usage: python benchmarks/perf/harness_vs_loop.py [GRID] [--skip-j1]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.metrics import average_precision_score
from sklearn.model_selection import RepeatedStratifiedKFold
from threadpoolctl import threadpool_limits

from benchmarks.cells import derive_seed, enumerate_cells
from benchmarks.grid import GridSpec, load_grid
from benchmarks.runner import run_grid
from datasets import load_dataset
from strategies import TrainingContext, get_model, get_strategy

ROOT = Path(__file__).resolve().parents[2]


def hand_written_fit(dataset: str, model: str, strategy: str, params: dict, train: np.ndarray,
                     test: np.ndarray, seed: int) -> float:
    """What a careful notebook does per fold: build, fit on train, score the test fold."""
    data = load_dataset(dataset)
    spec, strat = get_model(model), get_strategy(strategy)
    ctx = TrainingContext(len(train), int(data.y[train].sum()), tuple(data.numeric), tuple(data.categorical))
    if not strat.check(spec, params, ctx)[0]:
        return float("nan")
    with threadpool_limits(1):
        est = strat.build(spec, params, ctx, seed).fit(data.X.iloc[train], data.y[train])
        proba = est.predict_proba(data.X.iloc[test])[:, 1]
    return float(average_precision_score(data.y[test], proba))


def hand_written_loop(grid: GridSpec, n_jobs: int) -> int:
    jobs = []
    for name in grid.datasets:
        y = load_dataset(name).y
        splitter = RepeatedStratifiedKFold(n_splits=grid.n_splits, n_repeats=grid.n_repeats,
                                           random_state=derive_seed("folds", grid.seed, name))
        for i, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y)):
            for model in grid.models:
                for strategy in grid.strategies:
                    jobs.append(delayed(hand_written_fit)(name, model, strategy.name, strategy.params, train, test,
                                                          derive_seed(name, model, strategy.label, i)))
    Parallel(n_jobs=n_jobs, backend="loky")(jobs)
    return len(jobs)


def timed(fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def harness(grid: GridSpec, n_jobs: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        summary = run_grid(grid, Path(tmp) / "run", n_jobs=n_jobs)
        return summary.total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("grid", nargs="?", default=str(ROOT / "benchmarks" / "default.toml"))
    parser.add_argument("--skip-j1", action="store_true", help="skip the -j1 run (halves the time)")
    args = parser.parse_args()
    grid = load_grid(args.grid)
    n_cells = len(enumerate_cells(grid))
    print(f"grid {grid.name}: {n_cells} cells on {len(grid.datasets)} datasets")
    # warm-up: import and load everything once so neither side pays first-import costs
    hand_written_loop(load_grid(ROOT / "benchmarks" / "smoke.toml"), 2)
    t_loop, _ = timed(hand_written_loop, grid, 2)
    t_harness, _ = timed(harness, grid, 2)
    print(f"hand-written loop -j2 : {t_loop:7.1f} s  {n_cells / t_loop:6.2f} cells/s")
    print(f"imbench          -j2 : {t_harness:7.1f} s  {n_cells / t_harness:6.2f} cells/s")
    print(f"ratio imbench / loop : {t_harness / t_loop:.3f}  (goal ≤ 1.10)")
    if not args.skip_j1:
        t_j1, _ = timed(harness, grid, 1)
        print(f"imbench          -j1 : {t_j1:7.1f} s  {n_cells / t_j1:6.2f} cells/s")
        print(f"speed-up -j1 / -j2   : {t_j1 / t_harness:.2f}x")


if __name__ == "__main__":
    main()
