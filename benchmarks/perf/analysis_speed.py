"""Analysis speed on a large synthetic store (a benchmark script, not a test).

Writes a fake but well-formed store of 100 datasets × 25 strategies × 4 models × 10 folds = 100,000
cells (`fake_store.py`; not timed), then times, end to end through the console script as a user
runs them: `imbench leaderboard` and `imbench report` (every leaderboard, all figures as PNG and SVG,
the HTML page). Goal: leaderboard + all figures + report ≤ 30 s on 2 cores. The extra sections of
other analysis modules (stress, calibration, budget) are timed separately (`--no-extras` vs not).

Usage: python benchmarks/perf/analysis_speed.py [--store DIR] [--jobs 2] [--extras]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.perf.fake_store import write_fake_store

GOAL_SECONDS = 30.0


def timed(*args: str) -> float:
    exe = Path(sys.executable).with_name("imbench")
    start = time.perf_counter()
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"imbench {' '.join(args)} failed:\n{done.stderr}")
    return seconds


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
        board = timed("leaderboard", str(store))
        report = timed("report", str(store), "--no-extras", "-j", str(args.jobs))
        total = board + report
        print(f"machine: {os.cpu_count()} cores, load average {load:.1f} before the run")
        print(f"imbench leaderboard:                   {board:6.1f} s")
        print(f"imbench report --no-extras -j {args.jobs}:        {report:6.1f} s  "
              "(3 leaderboards + 8 figure kinds as PNG+SVG + HTML)")
        print(f"leaderboard + figures + report:        {total:6.1f} s  (goal ≤ {GOAL_SECONDS:.0f} s: "
              f"{'met' if total <= GOAL_SECONDS else 'NOT met'}; ratio {total / GOAL_SECONDS:.2f} of the goal)")
        if args.extras:
            full = timed("report", str(store), "-j", str(args.jobs))
            print(f"imbench report with extra sections:    {full:6.1f} s  (+{full - report:.1f} s for stress, "
                  "calibration and budget, when those modules are installed)")


if __name__ == "__main__":
    main()
