"""Fit the planner's cost model (benchmarks/planning/cost_model.py) on the cells of earlier stores and write
the coefficients shipped with the package (benchmarks/planning/cost_model.json).

    python perf/fit_cost_model.py STORE [STORE ...] [--out benchmarks/planning/cost_model.json]
        [--exclude-shard 1/1000] [--check STORE]

Every ok cell gives one timed fit (fit + predict seconds on its training fold) and, with inner folds,
their mean fit. Cells of the excluded shard of full.toml (by cell key, default 1/1000: the sample
`perf/plan_accuracy.py` judges the plan on) are dropped, so the model never sees them.
The per-cell overhead (metrics, derived steps, pickling, storing) is what a run's wall time leaves
unexplained by its cells' seconds: (wall × workers − Σ cell seconds − start-up) / cells, fitted as a
line in the post-hoc steps each cell derives, over runs that recorded their worker count (or were
given one: `--jobs STORE=N`), each divided by its run's speed (how much longer its fits took than
the shipped seconds: a busy machine slows the overhead as much as the fits). `--reference STORE`
ships the speed of that store's run (one timed with nothing else running), else the mean run's. `--check STORE` prints how well the fitted model sums the cells of
another store (a held-out run, every cell of it: the excluded shard is what it is for) overall and
by size (n · d of the training fold: small < 10⁴ ≤ medium < 10⁵ ≤ large), and keeps that check in
the coefficients file (`fitted_on.held_out`).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imbench.benchmarks.planning.cost_model import COEFFICIENTS_FILE, check_rows, fit_cost_model, fit_overhead, fit_rows  # noqa: E402
from imbench.benchmarks.spec.parts import in_shard, parse_shard  # noqa: E402
from imbench.benchmarks.planning.plan import STARTUP_SECONDS  # noqa: E402
from imbench.benchmarks.store.reader import store_reader


def store_rows(store: Path, exclude: tuple[int, int] | None, jobs: int | None = None
               ) -> tuple[pd.DataFrame, list[tuple[float, float]]]:
    """Timed fits of one store (minus the excluded shard) and its runs' (overhead, steps) per cell."""
    cells = store_reader(store).cells()
    if exclude is not None:
        cells = cells[~cells["key"].map(lambda key: in_shard(key, exclude))]
    runs = store_reader(store).runs()
    n_splits = int(runs[-1]["spec"]["cv"]["n_splits"])
    rows = fit_rows(cells, store_reader(store).datasets(), n_splits).assign(source=str(store))
    derived = store_reader(store).derived()
    overheads = []
    for run in runs:
        workers = (run["environment"].get("run") or {}).get("n_jobs") or jobs
        mine = cells[cells["run_id"] == run["id"]]
        if not workers or not run["finished_at"] or len(mine) < 20:
            continue
        wall = (pd.Timestamp(run["finished_at"]) - pd.Timestamp(run["started_at"])).total_seconds()
        seconds = (mine["fit_seconds"].fillna(0) + mine["predict_seconds"].fillna(0)
                   + mine["inner_seconds"].fillna(0)).sum()
        steps = derived["key"].isin(mine["key"]).sum() / len(mine)
        overheads.append((max(0.0, (wall * workers - seconds - STARTUP_SECONDS * workers) / len(mine)), float(steps)))
    return rows, overheads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stores", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=COEFFICIENTS_FILE)
    parser.add_argument("--exclude-shard", default="1/1000")
    parser.add_argument("--check", type=Path, action="append", default=[])
    parser.add_argument("--note", default="", help="How the stores were made (kept with the coefficients).")
    parser.add_argument("--reference", type=Path, action="append", default=[],
                        help="A store timed on a quiet machine: the shipped speed is its runs' [default: all].")
    parser.add_argument("--jobs", action="append", default=[], metavar="STORE=N",
                        help="Workers of a store's runs that did not record them.")
    args = parser.parse_args()
    exclude = parse_shard(args.exclude_shard) if args.exclude_shard else None
    jobs = {Path(k).resolve(): int(v) for k, v in (item.split("=", 1) for item in args.jobs)}
    parts, overheads = [], {}
    for store in args.stores:
        rows, found = store_rows(store, exclude, jobs.get(store.resolve()))
        parts.append(rows)
        overheads[str(store)] = found
        print(f"{store}: {len(rows)} timed fits, (overhead per cell, steps per cell) {np.round(found, 3).tolist()}")
    rows = pd.concat(parts, ignore_index=True)
    fitted_on = {"stores": [str(s) for s in args.stores], "excluded_shard": args.exclude_shard,
                 "note": args.note,
                 "summary": f"cost model fitted on {len(rows):,} timed fits"
                            f"{', shard ' + args.exclude_shard + ' of full.toml left out' if exclude else ''}"}
    if args.reference:
        fitted_on["reference"] = [str(s) for s in args.reference]
    model = fit_cost_model(rows, 0.0, fitted_on, reference=[str(s) for s in args.reference])
    # the per-cell overhead is CPU work too: a run's, at the speed its fits ran, taken to the shipped one
    speed = model.fitted_on.get("run_speed", {})
    model.overhead_seconds, model.overhead_per_step = fit_overhead(
        [(per_cell / speed.get(store, 1.0), steps) for store, found in overheads.items() for per_cell, steps in found])
    print(f"fitted on {len(rows)} fits: residual sd {model.fitted_on['residual_sd']:.2f} (log seconds), "
          f"smearing {model.smearing:.2f}")
    for source, value in speed.items():
        print(f"  {source}: its fits took {value:.2f} × the shipped seconds")
    print(f"overhead {model.overhead_seconds:.3f} s per cell + {model.overhead_per_step:.3f} s per post-hoc step")
    model.fitted_on["held_out"] = {}
    for store in args.check:
        held, _ = store_rows(store, None)
        check = check_rows(model, held)
        model.fitted_on["held_out"][str(store)] = check
        print(f"check {store}: {check['fits']} fits, measured {check['measured']:.0f} s, predicted "
              f"{check['predicted']:.0f} s, ratio {check['ratio']:.2f}")
        print("  by n·d: " + ", ".join(f"{name} {part['ratio']:.2f} ({part['fits']} fits)"
                                        for name, part in check["buckets"].items()))
    args.out.write_text(json.dumps(model.to_dict(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
