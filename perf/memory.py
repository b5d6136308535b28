"""Memory of a run on a large dataset: the peak of the summed proportional set size (PSS) of every
process of the run, against the dataset's in-memory size (a benchmark script, not a test).

The dataset: 1,000,000 rows × 50 float64 features (400 MB) and a 0/1 target, written once as a Parquet
file dataset; the grid: LightGBM with `none` and `random-under`, 2-fold CV, run by `imbench run -j 2` in a
subprocess. A sampler reads /proc/<pid>/smaps_rollup of the run's process and all its descendants
(client, fork server, workers, resource tracker) as often as it can (at least ten times a second is
the goal; the rate is printed) and keeps the peak of the sum. PSS counts a page shared by k processes
as 1/k in each, so the sum is the memory the run really holds.
Goal: peak summed PSS ≤ 3 × the dataset's in-memory size.

Usage: python perf/memory.py [--rows 1000000] [--features 50] [--jobs 2] [--keep DIR]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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


#: The parts of a process's PSS that smaps_rollup reports, besides the total.
PSS_PARTS = ("Pss_Anon", "Pss_File", "Pss_Shmem")


def pss(pid: int) -> tuple[int, dict[str, int]]:
    """Proportional set size of one process in bytes and its parts (0 and {} if it is gone)."""
    total, parts = 0, {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                key = line.split(":", 1)[0]
                if key == "Pss":
                    total = int(line.split()[1]) * 1024
                elif key in PSS_PARTS:
                    parts[key] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return total, parts


class Sampler(threading.Thread):
    """Sum the PSS of a process tree, as often as possible, keeping the peak and its breakdown.

    The tree is looked up again every TREE_SECONDS (listing children scans every process of the
    machine); each sample reads only the known processes' smaps_rollup."""

    TREE_SECONDS = 0.5

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(root)
        self.stop = threading.Event()
        self.samples = 0
        self.peak = 0
        self.peak_parts: dict[int, tuple[int, dict[str, int]]] = {}
        self.names: dict[int, str] = {}
        self.started = time.monotonic()
        self.ended = self.started
        self.pool = ThreadPoolExecutor(max_workers=8)

    def _tree(self) -> list[int]:
        processes = [self.root, *self.root.children(recursive=True)]
        for process in processes:
            if process.pid not in self.names:
                self.names[process.pid] = self._role(process)
        return [process.pid for process in processes]

    def _role(self, process: psutil.Process) -> str:
        if process.pid == self.root.pid:
            return "client (imbench run)"
        try:
            command, parent = " ".join(process.cmdline()), process.ppid()
        except psutil.Error:
            return "?"
        if "resource_tracker" in command:
            return "resource tracker"
        if "forkserver" in command:
            return "fork server" if parent == self.root.pid else "worker"
        return command[-60:]

    def run(self) -> None:
        pids: list[int] = []
        looked = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            if now - looked >= self.TREE_SECONDS:
                try:
                    pids, looked = self._tree(), now
                except psutil.NoSuchProcess:
                    break
            parts = dict(zip(pids, self.pool.map(pss, pids)))  # in parallel: each read walks page tables
            total = sum(value for value, _ in parts.values())
            self.samples += 1
            if total > self.peak:
                self.peak, self.peak_parts = total, parts
            self.stop.wait(0.01)
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
        print("processes at the peak (PSS; anonymous / file-backed / shared memory):")
        for pid, (value, parts) in sorted(sampler.peak_parts.items(), key=lambda kv: -kv[1][0]):
            split = " / ".join(f"{parts.get(key, 0) / MiB:,.0f}" for key in PSS_PARTS)
            print(f"  {value / MiB:6,.0f} MiB ({split})  {sampler.names.get(pid, '?')}")
        print(f"peak summed PSS {sampler.peak / MiB:,.0f} MiB = {sampler.peak / size:.2f} × the dataset (goal ≤ 3)")


if __name__ == "__main__":
    main()
