"""What post-hoc steps cost, measured side by side in one run (issue "fit once, evaluate many").

1. `benchmarks/posthoc.toml` (seven post-hoc steps) against the same grid with `posthoc = ["none"]` and
   the same inner folds, each run end to end as a user does (`imbench run`, which prints the
   leaderboard): the ratio of wall times (goal ≤ 1.3). Rounds alternate, each into a fresh folder.
2. Adding one post-hoc step to a finished store that has inner folds (`benchmarks/shift.toml`, run
   first if `--shift-store` does not exist yet): `imbench run` of the grid with the extra step, which
   derives it from the stored predictions without a fit (goal: a few seconds).

Usage: python perf/posthoc_speed.py [--rounds 1] [--jobs 2] [--shift-store results/shift]
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMBENCH = Path(sys.executable).with_name("imbench")


def timed_run(grid: Path, results: Path, jobs: int) -> float:
    start = time.perf_counter()
    done = subprocess.run([str(IMBENCH), "run", str(grid), "-j", str(jobs), "--results", str(results),
                           "--no-progress"], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"imbench run {grid} failed: {done.stderr.strip().splitlines()[-1:]}")
    return seconds


def without_steps(text: str) -> str:
    """The same grid with posthoc = ["none"] and the inner folds the steps implied."""
    text = re.sub(r"posthoc = \[.*?\]\n", 'posthoc = ["none"]\n', text, flags=re.S)
    return text.replace("[cv]\n", "[cv]\ninner_folds = 3\n", 1)


def posthoc_ratio(rounds: int, jobs: int, work: Path) -> None:
    with_steps = ROOT / "benchmarks" / "posthoc.toml"
    plain = work / "posthoc_none.toml"
    plain.write_text(without_steps(with_steps.read_text()))
    times: dict[str, list[float]] = {"steps": [], "none": []}
    for i in range(rounds):
        order = [("steps", with_steps), ("none", plain)]
        for name, grid in order if i % 2 == 0 else order[::-1]:
            folder = work / f"{name}-{i}"
            times[name].append(timed_run(grid, folder, jobs))
            print(f"  round {i + 1}: {name:5s} {times[name][-1]:7.1f} s", flush=True)
            shutil.rmtree(folder)
    steps, none = statistics.median(times["steps"]), statistics.median(times["none"])
    print(f"posthoc.toml with 7 post-hoc steps: {steps:.1f} s; same grid, posthoc = [\"none\"], same inner "
          f"folds: {none:.1f} s; ratio {steps / none:.2f} (goal ≤ 1.3)")


def added_step(shift_store: Path, jobs: int, work: Path) -> None:
    grid = ROOT / "benchmarks" / "shift.toml"
    if not shift_store.exists():
        print(f"running {grid.name} into {shift_store} first (inner folds, no post-hoc step) ...", flush=True)
        print(f"  {timed_run(grid, shift_store, jobs):.1f} s")
    copy = work / "shift-copy"
    shutil.copytree(shift_store, copy)
    extended = work / "shift_plus.toml"
    extended.write_text(grid.read_text().replace("[cv]\n", 'posthoc = ["none", "threshold:precision>=0.8"]\n\n[cv]\n',
                                                 1))
    seconds = timed_run(extended, copy, jobs)
    print(f"adding threshold:precision>=0.8 to a finished shift.toml store: {seconds:.1f} s "
          "(derived from stored predictions, no fit; includes printing the leaderboard)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--shift-store", type=Path, default=ROOT / "results" / "shift")
    parser.add_argument("--skip-ratio", action="store_true", help="Only time adding a step.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="imbench-posthoc-speed-") as tmp:
        work = Path(tmp)
        if not args.skip_ratio:
            posthoc_ratio(args.rounds, args.jobs, work)
        added_step(args.shift_store, args.jobs, work)


if __name__ == "__main__":
    main()
