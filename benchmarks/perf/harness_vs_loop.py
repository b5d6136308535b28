"""Harness overhead, measured side by side in one run (a benchmark script, not a test).

1. imbench at -j 2 (runner, metrics, store, progress hooks) vs a minimal hand-written joblib loop
   doing the same fits at -j 2 (same datasets, folds, pipelines; it computes only AP and stores nothing).
   Goal: wall-time ratio ≤ 1.10.
2. imbench at -j 1 vs -j 2: the parallel speed-up on this machine.

Side-by-side runs alternate (loop, imbench, loop, imbench, ...) so that load from other processes
affects both sides alike; the ratio of the summed times is printed.

Usage: python benchmarks/perf/harness_vs_loop.py [GRID] [--rounds N] [--skip-j1]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.metrics import average_precision_score
from sklearn.base import clone
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_limits

from benchmarks.cells import enumerate_cells
from foundation.hashing import derive_seed
from benchmarks.grid import GridSpec, load_grid
from benchmarks.runner import run_grid
from benchmarks.fit_cell import cached_dataset
from datasets import load_dataset
from strategies import TrainingContext, get_model, get_strategy

ROOT = Path(__file__).resolve().parents[2]


def hand_written_fit(dataset: str, model: str, strategy: str, params: dict, train: np.ndarray,
                     test: np.ndarray, seed: int, inner_folds: int) -> float:
    """What a careful notebook does per fold: build, fit on train, score the test fold (and, when the grid
    asks for inner folds, out-of-fold predictions on the training fold)."""
    data = cached_dataset(dataset)  # the same per-process lru_cache of load_dataset the harness uses
    spec, strat = get_model(model), get_strategy(strategy)
    ctx = TrainingContext(len(train), int(data.y[train].sum()), tuple(data.numeric), tuple(data.categorical))
    if not strat.check(spec, params, ctx)[0]:
        return float("nan")
    with threadpool_limits(1):
        est = strat.build(spec, params, ctx, seed).fit(data.X.iloc[train], data.y[train])
        proba = est.predict_proba(data.X.iloc[test])[:, 1]
        if inner_folds > 1:
            inner = StratifiedKFold(inner_folds, shuffle=True, random_state=seed)
            cross_val_predict(clone(est), data.X.iloc[train], data.y[train], cv=inner, method="predict_proba")
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
                                                          derive_seed(name, model, strategy.label, i),
                                                          grid.inner_folds))
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
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of loop and imbench")
    parser.add_argument("--skip-j1", action="store_true", help="skip the -j1 run (halves the time)")
    args = parser.parse_args()
    grid = load_grid(args.grid)
    n_cells = len(enumerate_cells(grid))
    print(f"grid {grid.name}: {n_cells} cells on {len(grid.datasets)} datasets, inner folds {grid.inner_folds}")
    # warm-up: import and load everything once so neither side pays first-import costs
    hand_written_loop(load_grid(ROOT / "benchmarks" / "smoke.toml"), 2)
    loops, harnesses = [], []
    for round_ in range(args.rounds):
        loops.append(timed(hand_written_loop, grid, 2)[0])
        harnesses.append(timed(harness, grid, 2)[0])
        print(f"round {round_ + 1}: loop {loops[-1]:6.1f} s, imbench {harnesses[-1]:6.1f} s, "
              f"ratio {harnesses[-1] / loops[-1]:.3f}")
    t_loop, t_harness = sum(loops) / len(loops), sum(harnesses) / len(harnesses)
    print(f"hand-written loop -j2 : {t_loop:7.1f} s  {n_cells / t_loop:6.2f} cells/s")
    print(f"imbench          -j2 : {t_harness:7.1f} s  {n_cells / t_harness:6.2f} cells/s")
    print(f"ratio imbench / loop : {t_harness / t_loop:.3f}  (goal ≤ 1.10)")
    if not args.skip_j1:
        t_j1, _ = timed(harness, grid, 1)
        print(f"imbench          -j1 : {t_j1:7.1f} s  {n_cells / t_j1:6.2f} cells/s")
        print(f"speed-up -j1 / -j2   : {t_j1 / t_harness:.2f}x")


if __name__ == "__main__":
    main()
