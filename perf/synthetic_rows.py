"""How cheap is a million-row synthetic dataset for a worker? Regenerating it from its name vs shipping it.

Workers receive only the dataset name and rebuild the data (datasets/synthetic.py). This script measures,
side by side on this machine: generating 1e6 x 20 by name, the cleaning and validation every load adds,
and what shipping the same frame would cost instead (serialising + deserialising it, as a process pool
does, and a Parquet round trip). Prints seconds and ratios; nothing is asserted.

    .venv/bin/python perf/synthetic_rows.py [--rows 1000000]
"""
from __future__ import annotations

import argparse
import io
import pickle  # only to measure what shipping the frame to a worker would cost; nothing is stored
import time

import pandas as pd

from imbench.datasets import load_dataset
from imbench.datasets.synthetic import generate, params


def best_of(repeats: int, work) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    name = f"synthetic[n={args.rows},d=20,prevalence=0.01]"
    frame = load_dataset(name).X

    def parquet_round_trip() -> None:
        buffer = io.BytesIO()
        frame.to_parquet(buffer)
        buffer.seek(0)
        pd.read_parquet(buffer)

    timings = {
        "generate by name": best_of(args.repeats, lambda: generate(params(name))),
        "load_dataset (generate + clean + validate)": best_of(args.repeats, lambda: load_dataset(name)),
        "ship: pickle + unpickle the frame": best_of(args.repeats, lambda: pickle.loads(pickle.dumps(frame, 5))),
        "ship: Parquet write + read": best_of(args.repeats, parquet_round_trip),
    }
    base = timings["generate by name"]
    print(f"{args.rows:,} rows x 20 features ({frame.memory_usage().sum() / 1e6:.0f} MB), best of {args.repeats}")
    for label, seconds in timings.items():
        print(f"  {label:45s} {seconds:7.3f} s   x{seconds / base:5.2f} of generating")


if __name__ == "__main__":
    main()
