"""Memory of a run on a large dataset: the peak of the summed proportional set size (PSS) of every
process of the run, against the dataset's in-memory size (a benchmark script, not a test).

The dataset: 1,000,000 rows × 50 float64 features (400 MB) and a 0/1 target, written once as a Parquet
file dataset; the grid: LightGBM with `none` and `random-under`, 2-fold CV, run by `imbench run -j 2` in a
subprocess. A sampler reads /proc/<pid>/smaps_rollup of the run's process and all its descendants
(client, fork server, workers, resource tracker) as often as it can (at least ten times a second is
the goal; the rate is printed) and keeps the peak of the sum. PSS counts a page shared by k processes
as 1/k in each, so the sum is the memory the run really holds.
Goal: peak summed PSS ≤ 3 × the dataset's in-memory size.

Usage: python benchmarks/perf/memory.py [--rows 1000000] [--features 50] [--jobs 2] [--keep DIR]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

MiB = 2**20


def write_dataset(path: Path, rows: int, features: int) -> int:
    """A float64 Parquet file with a 5 % positive target; returns the features' and target's bytes."""
    rng = np.random.default_rng(0)
    y = (rng.random(rows) < 0.05).astype(np.int8)
    X = rng.normal(size=(rows, features))
    X[:, :5] += 0.8 * y[:, None]  # some signal in five columns
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(features)])
    frame["y"] = y
    frame.to_parquet(path, index=False)
    return X.nbytes + y.nbytes


def pss(pid: int) -> int:
    """Proportional set size of one process in bytes (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Sum the PSS of a process tree, as often as possible, keeping the peak and its breakdown."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(root)
        self.stop = threading.Event()
        self.samples = 0
        self.peak = 0
        self.peak_parts: dict[str, int] = {}
        self.started = time.monotonic()
        self.ended = self.started

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                tree = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            parts = {}
            for process in tree:
                try:
                    name = " ".join(process.cmdline())[-60:]
                except psutil.Error:
                    name = "?"
                parts[f"{process.pid} {name}"] = pss(process.pid)
            total = sum(parts.values())
            self.samples += 1
            if total > self.peak:
                self.peak, self.peak_parts = total, parts
            self.stop.wait(0.02)
        self.ended = time.monotonic()

    @property
    def rate(self) -> float:
        return self.samples / max(self.ended - self.started, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="folder for the data and the results (kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        data = folder / "large.parquet"
        size = write_dataset(data, args.rows, args.features)
        grid = folder / "memory.toml"
        grid.write_text(f'name = "memory"\ndatasets = ["file:{data}[target=y]"]\nmodels = ["lightgbm"]\n'
                        'strategies = ["none", "random-under"]\n[cv]\nn_splits = 2\nn_repeats = 1\n')
        results = folder / "results"
        exe = Path(sys.executable).with_name("imbench")
        command = [str(exe), "run", str(grid), "-j", str(args.jobs), "--results", str(results), "--no-progress"]
        print(f"dataset: {args.rows:,} × {args.features} float64 + int8 target = {size / MiB:,.0f} MiB in memory")
        print("command:", " ".join(command))
        start = time.monotonic()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        sampler = Sampler(proc.pid)
        sampler.start()
        _, stderr = proc.communicate()
        sampler.stop.set()
        sampler.join()
        wall = time.monotonic() - start
        if proc.returncode != 0:
            sys.exit(f"the run failed ({proc.returncode}):\n{stderr}")
        print(stderr.strip().splitlines()[-1][:200])
        print(f"wall time {wall:.1f} s; {sampler.samples} samples, {sampler.rate:.1f} per second")
        print("processes at the peak (PSS):")
        for name, value in sorted(sampler.peak_parts.items(), key=lambda kv: -kv[1]):
            print(f"  {value / MiB:8,.0f} MiB  {name}")
        print(f"peak summed PSS {sampler.peak / MiB:,.0f} MiB = {sampler.peak / size:.2f} × the dataset (goal ≤ 3)")


if __name__ == "__main__":
    main()
