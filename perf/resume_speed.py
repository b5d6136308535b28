"""Resuming a finished `default.toml` (nothing to run, leaderboard printed): goal ≤ 1.5 s.

    python perf/resume_speed.py [--store results/default] [--rounds 5] [--baseline REF]

Times `imbench run benchmarks/default.toml --results STORE` on a finished store, as a user runs it,
in alternating rounds with the same command of another commit (`--baseline`, default the commit
this work started from, checked out into a temporary git worktree and run with this environment's
packages, on a copy of the store), so a busy machine slows both alike. Prints each round, the
median wall and CPU seconds, and the ratio. Also times the first resume after the code or an input
changed (the full checks, which then store the receipt the next resumes use).
A missing store is made first (`imbench run benchmarks/default.toml -j 2`, a few minutes).
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT / "benchmarks" / "default.toml"
BASELINE = "5165a3c"


def _timed(command: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process and its children, stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=ROOT / "results" / "default")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", default=BASELINE, help="Commit to compare with ('' for none).")
    args = parser.parse_args()
    exe = str(Path(sys.executable).with_name("imbench"))
    if not (args.store / "imbench.sqlite").is_file():
        print(f"making {args.store} (a few minutes) ...", flush=True)
        subprocess.run([exe, "run", str(GRID), "-j", "2", "--results", str(args.store), "--no-progress"], check=True,
                       capture_output=True)
    ours = [exe, "run", str(GRID), "--results", str(args.store), "--no-progress"]
    wall, cpu, err = _timed(ours)
    print(f"first resume after a change (full checks): {wall:.2f} s wall, {cpu:.2f} s CPU — {err.splitlines()[0]}")

    work = Path(tempfile.mkdtemp(prefix="imbench-resume-"))
    theirs = None
    if args.baseline:
        tree = work / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.baseline], cwd=ROOT, check=True,
                       capture_output=True)
        shutil.copytree(args.store, work / "store")
        env = {**os.environ, "PYTHONPATH": str(tree)}
        theirs = ([sys.executable, "-m", "imbench.cli", "run", str(tree / "benchmarks" / "default.toml"), "--results",
                   str(work / "store"), "--no-progress"], env, tree)
        _timed(*theirs)  # warm the baseline's bytecode cache
    try:
        rows: dict[str, list[tuple[float, float]]] = {"this commit": [], f"baseline {args.baseline}": []}
        for i in range(args.rounds):
            rows["this commit"].append(_timed(ours)[:2])
            if theirs is not None:
                rows[f"baseline {args.baseline}"].append(_timed(*theirs)[:2])
            shown = "  ".join(f"{name}: {values[-1][0]:.2f} s" for name, values in rows.items() if values)
            print(f"round {i + 1}: {shown}", flush=True)
        medians = {name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
                   for name, values in rows.items() if values}
        for name, (wall, cpu) in medians.items():
            print(f"{name:>20}: median {wall:.2f} s wall, {cpu:.2f} s CPU")
        if theirs is not None:
            (ours_wall, ours_cpu), (base_wall, base_cpu) = medians.values()
            print(f"resume this commit / baseline: {ours_wall / base_wall:.2f} wall, {ours_cpu / base_cpu:.2f} CPU")
        print(f"goal: ≤ 1.5 s wall → {'met' if medians['this commit'][0] <= 1.5 else 'not met'} on this machine")
    finally:
        if theirs is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(work / "baseline")], cwd=ROOT,
                           capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
