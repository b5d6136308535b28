"""How good is `imbench plan`? Plan a sample of full.toml, run it, compare (goal: within ±30 %).

    python perf/plan_accuracy.py [--grid benchmarks/full.toml] [--shard 1/1000] [-j 2]
        [--probe 8] [--results DIR]

1. Plans the shard exactly as `imbench plan GRID --shard 1/1000 -j N` does: the shipped cost model
   (benchmarks/planning/cost_model.json, fitted with this shard left out: the model never saw these cells)
   scaled by a probe of a few real cells timed now.
2. Runs it as a user would (`imbench run GRID --shard 1/1000 -j N` in a new folder) and times the
   whole command.
3. Prints planned / measured wall time, the same for the summed cell seconds (overall and by the
   size of the training fold, n · d), and the cells that cost the most with what the model
   expected of them.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imbench.benchmarks.planning.cost_model import BUCKETS, shipped_model  # noqa: E402
from imbench.benchmarks.spec.grid import load_grid  # noqa: E402
from imbench.benchmarks.spec.parts import GridPart, parse_shard  # noqa: E402
from imbench.benchmarks.planning.plan import PROBE_CLAMP, Plan, make_plan, run_probe  # noqa: E402
from imbench.benchmarks.store.reader import store_reader


def by_size(plan: Plan, cells: pd.DataFrame) -> str:
    """Planned / measured seconds of the fits by the size of the training fold (n · d), in the
    buckets of the cost model's held-out checks: the probe times small cells, so the plan is only
    as good as the model's ratio between small and large ones."""
    share = (plan.grid.n_splits - 1) / plan.grid.n_splits
    size = {d.name: float(d.meta.get("n") or 0) * share * float(d.meta.get("d") or 0) for d in plan.datasets}
    planned = plan.cells.set_index("key")["fit_seconds"] * plan.speed
    frame = cells[cells["key"].isin(planned.index)]
    seconds = frame["fit_seconds"].fillna(0) + frame["predict_seconds"].fillna(0) + frame["inner_seconds"].fillna(0)
    frame = pd.DataFrame({"size": frame["dataset"].map(size).to_numpy(), "measured": seconds.to_numpy(),
                          "planned": planned.loc[frame["key"]].to_numpy()})
    parts = []
    for name, low, high in BUCKETS:
        part = frame[(frame["size"] >= low) & (frame["size"] < high)]
        if part["measured"].sum() > 0:
            parts.append(f"{name} {part['planned'].sum() / part['measured'].sum():.2f}")
    return "  the same by n·d of the training fold: " + ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", type=Path, default=ROOT / "benchmarks" / "full.toml")
    parser.add_argument("--shard", default="1/1000")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--probe", type=float, default=8.0, help="Probe seconds (as `imbench plan --probe`).")
    parser.add_argument("--results", type=Path, default=None, help="Folder for the run [default: a temporary one].")
    args = parser.parse_args()
    shard = parse_shard(args.shard)
    model = shipped_model()
    print(model.fitted_on.get("summary", "cost model: the built-in default"))
    print(f"  left out when fitting: {model.fitted_on.get('excluded_shard')}")
    if model.fitted_on.get("excluded_shard") != args.shard:
        print(f"warning: the shipped model did not leave out shard {args.shard}:\n  this is not a held-out test")

    started = time.perf_counter()
    plan = make_plan(load_grid(args.grid), GridPart(shard=shard))
    plan.probe = run_probe(plan, args.probe, args.jobs)
    planning = time.perf_counter() - started
    planned_wall = plan.wall_seconds(args.jobs)
    planned_cells = float(plan.cell_seconds().sum())
    print(f"plan: {len(plan.cells)} cells ({int(plan.to_run['skipped'].sum())} expected skips); planning "
          f"took {planning:.1f} s")
    print(f"  probe: {plan.probe.cells} cells in {plan.probe.seconds:.1f} s, speed ratio {plan.probe.ratio:.2f}"
          f"{' (at its clamp)' if plan.probe.ratio in PROBE_CLAMP else ''}")

    folder = args.results or Path(tempfile.mkdtemp(prefix="imbench-plan-accuracy-"))
    if args.results is not None and folder.exists():
        shutil.rmtree(folder)
    exe = Path(sys.executable).with_name("imbench")
    command = [str(exe), "run", str(args.grid), "--shard", args.shard, "-j", str(args.jobs), "--results",
               str(folder), "--no-progress"]
    print("running:", " ".join(command), flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    measured_wall = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stderr[-2000:])
        raise SystemExit(f"the run failed with exit code {done.returncode}")
    cells = store_reader(folder).cells()
    measured_fits = float((cells["fit_seconds"].fillna(0) + cells["predict_seconds"].fillna(0)
                           + cells["inner_seconds"].fillna(0)).sum())
    planned_fits = float((plan.to_run["fit_seconds"] * plan.speed).sum())

    expected = plan.cells.set_index("key")
    top = cells.assign(seconds=cells["fit_seconds"].fillna(0) + cells["predict_seconds"].fillna(0)
                       + cells["inner_seconds"].fillna(0)).nlargest(8, "seconds")
    print(f"\n{'dataset':24} {'model':13} {'strategy':20} {'measured':>9} {'planned':>8}")
    for row in top.itertuples(index=False):
        planned = expected.at[row.key, "fit_seconds"] * plan.speed if row.key in expected.index else float("nan")
        print(f"{row.dataset[:24]:24} {row.model[:13]:13} {row.label[:20]:20} {row.seconds:8.1f}s {planned:7.1f}s")
    ratio = planned_wall / measured_wall
    print(f"\nseconds of the fits: planned {planned_fits:.0f} s, measured {measured_fits:.0f} s "
          f"(ratio {planned_fits / measured_fits:.2f})")
    print(f"  planned cell time with overheads {planned_cells:.0f} s")
    print(by_size(plan, cells))
    print(f"wall time at -j {args.jobs}: planned {planned_wall:.0f} s, measured {measured_wall:.0f} s")
    print(f"planned / measured = {ratio:.2f} → {'within' if 0.7 <= ratio <= 1.3 else 'OUTSIDE'} ±30 %")
    if args.results is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
