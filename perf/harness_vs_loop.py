"""Harness overhead and parallel speed-up, measured side by side in one run (a benchmark script, not a test).

1. imbench at -j 2 (runner, metrics, store, progress hooks) vs a minimal hand-written joblib loop
   doing the same fits at -j 2 (same datasets, folds, pipelines; it computes only AP and stores nothing).
   Goal: the median over rounds of the wall-time ratio imbench / loop ≤ 1.0.
2. imbench at -j 1 vs -j 2: the parallel speed-up on this machine. Goal: ≥ 1.85 on a quiet 2-core machine.

Each round runs loop -j 2, imbench -j 2 and imbench -j 1 one after the other, so load from other
processes affects every side alike; the medians over the rounds (at least 3) are the figures. The
loop's code is frozen here: it must not get faster or slower when the harness changes (it uses its own
dataset cache and calls only the strategies' `build`, which both sides share).

Usage: python perf/harness_vs_loop.py [GRID] [--rounds N] [--skip-j1]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.metrics import average_precision_score
from sklearn.base import clone
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_limits

from imbench.benchmarks.spec.cells import enumerate_cells
from imbench.foundation.hashing import derive_seed
from imbench.benchmarks.spec.grid import GridSpec, load_grid
from imbench.benchmarks.runner import run_grid
from imbench.datasets import load_dataset
from imbench.strategies import TrainingContext, get_model, get_strategy

ROOT = Path(__file__).resolve().parents[1]


def _loaded(name: str):
    """Each loop worker loads a dataset once. (This script is pickled by value to the workers, so the
    cache lives on a module the workers import.)"""
    import imbench.datasets as datasets

    cache = datasets.__dict__.setdefault("_hand_written_loop_cache", {})
    if name not in cache:
        cache[name] = load_dataset(name)
    return cache[name]


def hand_written_fit(dataset: str, model: str, options: dict, strategy: str, params: dict, train: np.ndarray,
                     test: np.ndarray, seed: int, inner_folds: int) -> float:
    """What a careful notebook does per fold: build, fit on train, score the test fold (and, when the grid
    asks for inner folds, out-of-fold predictions on the training fold)."""
    data = _loaded(dataset)
    spec, strat = get_model(model).with_options(options), get_strategy(strategy)
    params = strat.resolve_params(params)
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
                    jobs.append(delayed(hand_written_fit)(name, model.name, model.options, strategy.name,
                                                          strategy.params, train, test,
                                                          derive_seed(name, model.label, strategy.label, i),
                                                          grid.inner_folds))
    Parallel(n_jobs=n_jobs, backend="loky")(jobs)
    return len(jobs)


def _burn(n: int = 20_000_000) -> None:
    total = 0
    for i in range(n):
        total += i


def machine_parallelism() -> float:
    """How much faster 2 CPU-bound processes finish 2 equal jobs than 1 process does them in turn (2.0 on
    a quiet 2-core machine; about 1.0 when other processes already use one core): the ceiling of the
    -j2 / -j1 speed-up measured next to it."""
    one = timed(lambda: Parallel(n_jobs=1)(delayed(_burn)() for _ in range(2)))[0]
    two = timed(lambda: Parallel(n_jobs=2, backend="loky")(delayed(_burn)() for _ in range(2)))[0]
    return one / two


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
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (at least 3 for the figures)")
    parser.add_argument("--skip-j1", action="store_true", help="skip the -j1 runs (halves the time)")
    args = parser.parse_args()
    grid = load_grid(args.grid)
    n_cells = len(enumerate_cells(grid).cells)
    print(f"grid {grid.name}: {n_cells} cells on {len(grid.datasets)} datasets, inner folds {grid.inner_folds}")
    # warm-up: import and load everything once so neither side pays first-import costs
    hand_written_loop(load_grid(ROOT / "benchmarks" / "smoke.toml"), 2)
    harness(load_grid(ROOT / "benchmarks" / "smoke.toml"), 2)
    print(f"machine check: 2 CPU-bound processes run {machine_parallelism():.2f}x as fast as 1 (2.00 when quiet)",
          flush=True)
    loops, harnesses, singles = [], [], []
    for round_ in range(args.rounds):
        loops.append(timed(hand_written_loop, grid, 2)[0])
        harnesses.append(timed(harness, grid, 2)[0])
        line = f"round {round_ + 1}: loop -j2 {loops[-1]:6.1f} s, imbench -j2 {harnesses[-1]:6.1f} s"
        if not args.skip_j1:
            singles.append(timed(harness, grid, 1)[0])
            line += f", imbench -j1 {singles[-1]:6.1f} s"
        print(line, flush=True)
    ratios = [h / loop for h, loop in zip(harnesses, loops)]
    t_loop, t_harness = statistics.median(loops), statistics.median(harnesses)
    print(f"hand-written loop -j2 : median {t_loop:7.1f} s  {n_cells / t_loop:6.2f} cells/s")
    print(f"imbench          -j2 : median {t_harness:7.1f} s  {n_cells / t_harness:6.2f} cells/s")
    print(f"ratio imbench / loop : median {statistics.median(ratios):.3f} of {', '.join(f'{r:.3f}' for r in ratios)}"
          "  (goal ≤ 1.0)")
    if singles:
        speedups = [one / two for one, two in zip(singles, harnesses)]
        t_single = statistics.median(singles)
        print(f"imbench          -j1 : median {t_single:7.1f} s  {n_cells / t_single:6.2f} cells/s")
        print(f"speed-up -j1 / -j2   : median {statistics.median(speedups):.2f}x of "
              f"{', '.join(f'{x:.2f}' for x in speedups)}  (goal ≥ 1.85 on a quiet machine)")
    print(f"machine check again: {machine_parallelism():.2f}x")


if __name__ == "__main__":
    main()
