"""Two `imbench run` of one grid into one folder, many times: the second must be refused every time,
the first must complete, and the store must equal a single run.

    python perf/concurrent_runs.py [--trials 10]

Each trial starts a run of a small grid whose cells sleep briefly (tests/plugins_slow), then a
second run of the same command once the first holds the folder, at a different delay each trial;
the refusal must be one line naming the first run's pid. A last run into a fresh folder is the
reference every trial's store is compared with (cells, metrics and predictions).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from perf.stores import same_results, stored_cells  # noqa: E402

GRID = """\
name = "concurrent"
seed = 5
datasets = ["keel:glass1"]
models = ["logreg"]
strategies = ["none", {name = "test-sleep", seconds = 0.2}]
[cv]
n_splits = 3
n_repeats = 10
"""


def _start(grid: Path, results: Path) -> subprocess.Popen[str]:
    exe = Path(sys.executable).with_name("imbench")
    return subprocess.Popen([str(exe), "run", str(grid), "--results", str(results), "--plugins",
                             str(ROOT / "tests" / "plugins_slow"), "--no-progress"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="imbench-concurrent-"))
    grid = work / "grid.toml"
    grid.write_text(GRID)
    reference = work / "reference"
    if _start(grid, reference).wait() != 0:
        raise SystemExit("the reference run failed")
    refused = completed = equal = tried = 0
    for trial in range(args.trials):
        results = work / f"trial{trial}"
        first = _start(grid, results)
        while stored_cells(results) < 1 and first.poll() is None:
            time.sleep(0.02)
        time.sleep(0.3 * (trial % 5))  # the second run arrives at a different moment each trial
        second = _start(grid, results)
        _, err = second.communicate()
        overlapped = first.poll() is None  # else the first had ended: not a concurrent trial
        one_line = err.count("\n") == 1 and f"pid {first.pid}," in err
        tried += overlapped
        refused += overlapped and second.returncode == 2 and one_line
        completed += first.wait() == 0
        same = same_results(reference, results)
        equal += same
        print(f"trial {trial + 1}: {'concurrent' if overlapped else 'not concurrent (first had ended)'}; second run "
              f"exit {second.returncode}{' (one line naming the first)' if one_line else ''}, first run exit "
              f"{first.returncode}, store equals a single run: {same}", flush=True)
    print(f"\nconcurrent runs refused: {refused}/{tried}; first runs completed: {completed}/{args.trials}; "
          f"stores equal to a single run: {equal}/{args.trials}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
