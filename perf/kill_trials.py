"""Kill a run mid-way, resume it, compare with an uninterrupted run — many times, two ways.

    python perf/kill_trials.py [--trials 10] [-j 2]

- *whole group*: `kill -9` of the run's process group (what a closed terminal or a node failure does);
- *main only*: `kill -9` of the imbench process alone (what an OOM killer or a supervisor does): its
  workers must notice and end by themselves (within 10 s), leaving no process behind.

Each trial starts `imbench run` of a small grid whose cells sleep briefly (tests/plugins_slow), kills
it once some cells are stored (a different moment each trial), resumes with the same command, and
compares cells, metrics and predictions with a reference run into a fresh folder. Prints one line per
trial and the counts the docs quote (docs/performance.md#reliability).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from perf.stores import same_results, stored_cells  # noqa: E402

GRID = """\
name = "kill-trials"
seed = 11
datasets = ["keel:glass1", "keel:yeast4"]
models = ["logreg"]
strategies = ["none", {name = "test-sleep", seconds = 0.1}, "smote"]
[cv]
n_splits = 3
n_repeats = 6
"""


def _start(grid: Path, results: Path, jobs: int) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("imbench")
    return subprocess.Popen([str(exe), "run", str(grid), "--results", str(results), "-j", str(jobs), "--plugins",
                             str(ROOT / "tests" / "plugins_slow"), "--no-progress"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _left_behind(pids: set[int], seconds: float = 10.0) -> int:
    """How many of `pids` are still alive after waiting up to `seconds` for them to end."""
    deadline = time.monotonic() + seconds
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if _running(pid)}
        time.sleep(0.1)
    return len(alive)


def _trial(grid: Path, results: Path, reference: Path, jobs: int, delay_cells: int, main_only: bool) -> tuple[bool, int]:
    run = _start(grid, results, jobs)
    while stored_cells(results) < delay_cells and run.poll() is None:
        time.sleep(0.02)
    children = {p.pid for p in psutil.Process(run.pid).children(recursive=True)} if run.poll() is None else set()
    if main_only:
        os.kill(run.pid, signal.SIGKILL)
    else:
        os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    left = _left_behind(children)
    if _start(grid, results, jobs).wait() != 0:
        return False, left
    return same_results(reference, results), left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10, help="trials of each kind")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="imbench-kill-"))
    grid = work / "grid.toml"
    grid.write_text(GRID)
    reference = work / "reference"
    if _start(grid, reference, args.jobs).wait() != 0:
        raise SystemExit("the reference run failed")
    total = stored_cells(reference)
    print(f"grid: {total} cells; {args.trials} trials of each kind, -j {args.jobs}", flush=True)
    for main_only in (False, True):
        kind = "main process only" if main_only else "whole group"
        survived = orphans = 0
        for trial in range(args.trials):
            at = max(1, (trial + 1) * total // (args.trials + 2))  # a different moment each trial
            results = work / f"{'main' if main_only else 'group'}{trial}"
            same, left = _trial(grid, results, reference, args.jobs, at, main_only)
            survived += same
            orphans += left
            print(f"  {kind}, killed after {at:3d} cells: resumed = uninterrupted: {same}; "
                  f"left after 10 s: {left}", flush=True)
            shutil.rmtree(results, ignore_errors=True)
        print(f"kill -9 ({kind}): {survived}/{args.trials} resumed to the uninterrupted store;\n"
              f"  processes left behind: {orphans}", flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
