"""Dask overhead: the same grid on a 2-worker LocalCluster and on the local backend with -j 2, side by side
in one run (a benchmark script, not a test).

The cluster is started once (its start-up is printed, not counted); each round runs the grid into a
new store on both backends, alternating, so load from other processes affects both alike. The Dask
side has per-cell time limits on (the grid's `[limits] cell_timeout`), so its twice-a-second poll of
the workers is counted. Printed: each round, the medians and the overhead (Dask / local).

Usage: python perf/dask_overhead.py [GRID] [--rounds 3]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import distributed

from imbench.benchmarks.spec.grid import load_grid
from imbench.benchmarks.runner import run_grid

ROOT = Path(__file__).resolve().parents[1]


def timed_run(grid_path: str, backend: str, scheduler: str | None) -> float:
    grid = load_grid(grid_path)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        summary = run_grid(grid, Path(tmp) / "run", n_jobs=2, backend=backend, scheduler=scheduler)
        elapsed = time.perf_counter() - start
    assert summary.counts.get("ok", 0) > 0, summary.counts
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("grid", nargs="?", default=str(ROOT / "benchmarks" / "smoke.toml"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        print(f"LocalCluster with 2 workers started in {time.perf_counter() - start:.1f} s (not counted)")
        timed_run(args.grid, "dask", cluster.scheduler_address)  # warm-up: workers import the fitting code
        timed_run(args.grid, "local", None)
        local, dask = [], []
        for round_ in range(args.rounds):
            local.append(timed_run(args.grid, "local", None))
            dask.append(timed_run(args.grid, "dask", cluster.scheduler_address))
            print(f"round {round_ + 1}: local -j2 {local[-1]:6.2f} s, dask {dask[-1]:6.2f} s, "
                  f"ratio {dask[-1] / local[-1]:.2f}", flush=True)
    ratios = [d / loc for d, loc in zip(dask, local)]
    print(f"local backend -j2 : median {statistics.median(local):6.2f} s")
    print(f"dask, 2 workers   : median {statistics.median(dask):6.2f} s")
    print(f"overhead dask / local: median {statistics.median(ratios):.2f}x of {', '.join(f'{r:.2f}' for r in ratios)}")


if __name__ == "__main__":
    main()
