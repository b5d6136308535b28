"""Bayesian signed-rank test: baycomp's own `SignedRankTest.probs` against `analysis.bayes.signed_rank_probs`
(the same draws evaluated as a matrix expression), side by side in one run on the same inputs, as a
board of a large store needs them (a benchmark script, not a test; the numbers are checked equal).

Usage: python perf/bayes_speed.py [--datasets 100] [--labels 24] [--samples 5000]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
from baycomp import SignedRankTest

from imbench.analysis.bayes import signed_rank_probs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=100)
    parser.add_argument("--labels", type=int, default=24, help="Comparisons (one per label of a board).")
    parser.add_argument("--samples", type=int, default=5000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.8, args.datasets)
    others = [base + rng.normal(0.005 * i, 0.02, args.datasets) for i in range(args.labels)]
    start = time.process_time()
    theirs = [SignedRankTest.probs(base, y, 0.01, nsamples=args.samples, random_state=0) for y in others]
    library = time.process_time() - start
    start = time.process_time()
    ours = [signed_rank_probs(base, y, 0.01, n_samples=args.samples, seed=0) for y in others]
    vectorised = time.process_time() - start
    same = all(np.allclose(a, b, atol=1e-12) for a, b in zip(theirs, ours))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (CPU seconds below)")
    print(f"{args.labels} comparisons × {args.datasets} datasets × {args.samples} samples: baycomp {library:.2f} s, "
          f"vectorised {vectorised:.2f} s → {library / vectorised:.1f}× faster; identical probabilities: {same}")


if __name__ == "__main__":
    main()
