"""Analysis speed on a large synthetic store (a benchmark script, not a test).

Writes a fake but well-formed store of 100 datasets × 25 strategies × 4 models × 10 folds = 100,000
cells (`fake_store.py`; not timed), then times, end to end through the console script as a user
runs them: `imbench leaderboard` and `imbench report` (every leaderboard, all figures as PNG and SVG,
the HTML page). Goal: leaderboard + all figures + report ≤ 30 s on 2 cores. The extra sections of
other analysis modules (stress, calibration, budget) are timed separately (`--no-extras` vs not).

Usage: python perf/analysis_speed.py [--store DIR] [--jobs 2] [--extras]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from perf.fake_store import write_fake_store

GOAL_SECONDS = 30.0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # includes reaped grandchildren (figure workers)
    return usage.ru_utime + usage.ru_stime


def timed(*args: str) -> tuple[float, float]:
    """Wall seconds and CPU seconds (all processes) of `imbench ARGS`."""
    exe = Path(sys.executable).with_name("imbench")
    cpu, start = children_cpu(), time.perf_counter()
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"imbench {' '.join(args)} failed:\n{done.stderr}")
    return seconds, children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None, help="Reuse (or create) the fake store here.")
    parser.add_argument("--jobs", type=int, default=2, help="Figure processes (-j of imbench report).")
    parser.add_argument("--extras", action="store_true", help="Also time the report with the extra sections.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or Path(tmp) / "fake100k"
        if not (store / "imbench.sqlite").is_file():
            start = time.perf_counter()
            write_fake_store(store)
            print(f"fake store: 100,000 cells written in {time.perf_counter() - start:.1f} s (not timed below)")
        load = os.getloadavg()[0]
        board, board_cpu = timed("leaderboard", str(store))
        report, report_cpu = timed("report", str(store), "--no-extras", "-j", str(args.jobs))
        total = board + report
        print(f"machine: {os.cpu_count()} cores, load average {load:.1f} before the run (other work slows the wall "
              "time; CPU time does not depend on it)")
        print(f"imbench leaderboard:                  {board:6.1f} s wall {board_cpu:6.1f} s CPU")
        print(f"imbench report --no-extras -j {args.jobs}:       {report:6.1f} s wall {report_cpu:6.1f} s CPU  "
              "(3 leaderboards + 8 figure kinds as PNG+SVG + HTML)")
        print(f"leaderboard + figures + report:       {total:6.1f} s wall {board_cpu + report_cpu:6.1f} s CPU  "
              f"(goal ≤ {GOAL_SECONDS:.0f} s wall: {'met' if total <= GOAL_SECONDS else 'NOT met'}, "
              f"{total / GOAL_SECONDS:.2f} of the goal)")
        if args.extras:
            full, full_cpu = timed("report", str(store), "-j", str(args.jobs))
            print(f"imbench report with extra sections:   {full:6.1f} s wall {full_cpu:6.1f} s CPU  (+{full - report:.1f} s "
                  "for the stress, calibration and budget sections of their modules)")


if __name__ == "__main__":
    main()
