"""Prior-shift stress by importance reweighting vs by explicit subsampling, side by side in one run
(a benchmark script, not a test). Goal: reweighting ≥ 20× faster at no worse error.

Both estimate the same numbers for every ok cell of a results folder at every shift — AP, ROC AUC,
Brier, ECE, log loss, precision/recall/alert rate at the deployed threshold, each without correction,
with the known-prior correction and with the EM-estimated prior — from the same stored predictions
and the same metric code (`analysis.shift_metrics`); only the way the shifted population is
represented differs:

- reweighting (`analysis.stress.run_stress`): every test row once, weighted π'/π or (1−π')/(1−π);
- subsampling: K explicit subsamples of the test fold at the shifted prior (all positives and a share
  of the negatives when positives grow, the reverse when they shrink), metrics averaged over them.

Error, per metric, median over folds × shifts (s ≠ 1, where both are exact), measured the same way
for both by a class-stratified bootstrap of the test fold (on a random subset of folds): the fold
plays the population, whose exactly shifted distribution gives the true value, and each resample
plays the test fold a user would have; each estimator's SE (sd over resamples) and RMSE against
the truth (bias included) are printed, with subsampling's Monte Carlo part alone and how far the
two estimates lie apart on the real folds.
Timing: the two sides alternate over chunks of folds, so load from other processes affects both
alike. Loading the store is timed separately (both need it).

Usage: python perf/stress_speed.py [RESULTS] [--subsamples 50] [--bootstrap 20] [--se-folds 100]
       [--limit N]    (RESULTS: a run with `[cv] inner_folds = 3`, default results/default)
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from imbench.analysis.folds import StoredFold, StoredFolds, load_folds
from imbench.analysis.prior_shift import DEFAULT_SHIFTS, adjust_prior, em_prior, shifted_prior
from imbench.analysis.shift_metrics import SortedFold
from imbench.analysis.stress import deployed_threshold, run_stress, stress_fold

ROOT = Path(__file__).resolve().parents[1]
TARGET_PRECISION = 0.9
#: "No worse error" as a non-inferiority test: the RMSE ratio's 95 % interval stays below 1 + this
#: margin (the two errors are nearly equal in theory; 5 % leaves room for the bootstrap's resolution).
TOLERANCE = 0.05
#: Folds per alternation of the two timed sides.
CHUNK = 100
SE_METRICS = ("ap", "roc_auc", "brier", "ece", "log_loss", "precision", "alert_rate", "em_estimate")


def subsample_sizes(n_pos: int, n_neg: int, target: float) -> tuple[int, int]:
    """The largest subsample at prior `target`: keep one class whole, subsample the other."""
    if target >= n_pos / (n_pos + n_neg):
        return n_pos, min(n_neg, max(1, round(n_pos * (1 - target) / target)))
    return min(n_pos, max(1, round(n_neg * target / (1 - target)))), n_neg


def subsample_fold(fold: StoredFold, shifts: tuple[float, ...], k: int, n_bins: int, rng: np.random.Generator,
                   corrections: tuple[str, ...] = ("none", "known", "em")
                   ) -> dict[tuple[float, str, str], tuple[float, float]]:
    """(shift, correction, metric) → (mean over k subsamples, sd over them); one draw where the
    subsample is the whole fold (s = 1)."""
    test = fold.test
    threshold, _ = deployed_threshold(fold, TARGET_PRECISION)
    corrected_cut = float(adjust_prior(threshold, fold.model_prior, fold.train_prior))
    pos, neg = np.flatnonzero(test.y == 1), np.flatnonzero(test.y == 0)
    out = {}
    for s in shifts:
        n_pos, n_neg = subsample_sizes(len(pos), len(neg), shifted_prior(test.prevalence, s))
        draws = 1 if (n_pos, n_neg) == (len(pos), len(neg)) else k
        values: dict[tuple[str, str], list[float]] = defaultdict(list)
        for _ in range(draws):
            rows = np.r_[rng.choice(pos, n_pos, replace=False), rng.choice(neg, n_neg, replace=False)]
            sub = SortedFold.from_arrays(test.y[rows], test.proba[rows])
            ones = np.ones((1, len(rows)))
            estimate, _ = em_prior(sub.proba, fold.model_prior)
            versions = (("none", sub.proba, threshold),
                        ("known", adjust_prior(sub.proba, fold.model_prior, sub.prevalence), corrected_cut),
                        ("em", adjust_prior(sub.proba, fold.model_prior, estimate[0]), corrected_cut))
            ap, roc_auc = float(sub.curve.average_precision()[0]), sub.curve.roc_auc()
            for correction, proba, cut in versions:
                if correction not in corrections:
                    continue
                metrics = {**sub.probability_metrics(proba[None], ones, n_bins),
                           **sub.decision_metrics(proba[None], ones, np.array([cut]))}
                for name, value in metrics.items():
                    values[(correction, name)].append(float(value[0]))
                values[(correction, "ap")].append(ap)
                values[(correction, "roc_auc")].append(roc_auc)
                values[(correction, "em_estimate")].append(float(estimate[0]))
        for (correction, name), vals in values.items():
            arr = np.asarray(vals, dtype=float)
            sd = float(np.nanstd(arr, ddof=1)) if np.sum(~np.isnan(arr)) > 1 else 0.0
            out[(s, correction, name)] = (float(np.nanmean(arr)) if np.any(~np.isnan(arr)) else math.nan, sd)
    return out


def run_subsampling(stored: StoredFolds, shifts: tuple[float, ...], k: int, rng: np.random.Generator
                    ) -> pd.DataFrame:
    """Every fold by explicit subsampling, as one long table (key, shift, correction, metric, mean, sd)."""
    rows = []
    for fold in stored.folds:
        for (s, correction, name), (mean, sd) in subsample_fold(fold, shifts, k, stored.ece_bins, rng).items():
            rows.append((fold.key, s, correction, name, mean, sd))
    return pd.DataFrame(rows, columns=["key", "shift", "correction", "metric", "mean", "sd"])


def bootstrap_errors(fold: StoredFold, shifts: tuple[float, ...], b: int, k: int, n_bins: int,
                     rng: np.random.Generator) -> pd.DataFrame:
    """Both estimators' errors (uncorrected numbers) by a class-stratified bootstrap of the test fold:
    the fold plays the population — its exactly shifted distribution gives the true value — and each
    resample plays the test fold a user would have. Per (shift, metric): sd of each estimate over the
    resamples (SE) and root mean squared difference to the truth (RMSE, bias included)."""
    test = fold.test
    truth = pd.DataFrame(stress_fold(fold, shifts, TARGET_PRECISION, n_bins))
    truth = truth[truth["correction"] == "none"].set_index("shift")[list(SE_METRICS)]
    pos, neg = np.flatnonzero(test.y == 1), np.flatnonzero(test.y == 0)
    estimates: dict[str, list[pd.DataFrame]] = {"reweighting": [], "subsampling": []}
    for _ in range(b):
        rows = np.r_[rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]
        resampled = dataclasses.replace(fold, test=SortedFold.from_arrays(test.y[rows], test.proba[rows]))
        frame = pd.DataFrame(stress_fold(resampled, shifts, TARGET_PRECISION, n_bins))
        estimates["reweighting"].append(frame[frame["correction"] == "none"].set_index("shift")[list(SE_METRICS)])
        means = subsample_fold(resampled, shifts, k, n_bins, rng, corrections=("none",))
        estimates["subsampling"].append(pd.DataFrame([{"shift": s, **{m: means[(s, "none", m)][0] for m in SE_METRICS}}
                                                      for s in shifts]).set_index("shift"))
    out = None
    for name, parts in estimates.items():
        stacked = pd.concat(parts)
        se = stacked.groupby(level="shift").std(ddof=1)
        rmse = ((stacked - truth) ** 2).groupby(level="shift").mean() ** 0.5
        frame = se.reset_index().melt(id_vars="shift", var_name="metric", value_name=f"se_{name}").merge(
            rmse.reset_index().melt(id_vars="shift", var_name="metric", value_name=f"rmse_{name}"))
        out = frame if out is None else out.merge(frame, on=["shift", "metric"])
    return out.assign(key=fold.key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="?", default=str(ROOT / "results" / "default"))
    parser.add_argument("--subsamples", type=int, default=50, help="subsamples per fold and shift (K)")
    parser.add_argument("--bootstrap", type=int, default=20, help="bootstrap resamples per fold for the SE (B)")
    parser.add_argument("--se-folds", type=int, default=100, help="folds (random) whose SEs are estimated")
    parser.add_argument("--limit", type=int, default=None, help="only the first N folds (quick look)")
    args = parser.parse_args()
    shifts = tuple(sorted(set(DEFAULT_SHIFTS)))

    start = time.perf_counter()
    stored = load_folds(args.results)
    load_seconds = time.perf_counter() - start
    if args.limit:
        stored = dataclasses.replace(stored, folds=stored.folds[: args.limit])
    n_folds = len(stored.folds)
    print(f"{args.results}: {n_folds} ok folds, shifts {', '.join(f'{s:g}' for s in shifts)}, "
          f"{stored.n_with_train_predictions} with training-fold predictions; loading the store: {load_seconds:.1f} s")

    # alternate chunks of folds (reweighting, then subsampling, ...) so load from other processes hits
    # both sides alike
    rw_seconds = sub_seconds = 0.0
    frames, subs = [], []
    rng = np.random.default_rng(0)
    for begin in range(0, n_folds, CHUNK):
        chunk = dataclasses.replace(stored, folds=stored.folds[begin:begin + CHUNK])
        start = time.perf_counter()
        frames.append(run_stress(chunk, shifts, TARGET_PRECISION).folds)
        rw_seconds += time.perf_counter() - start
        start = time.perf_counter()
        subs.append(run_subsampling(chunk, shifts, args.subsamples, rng))
        sub_seconds += time.perf_counter() - start
    reweighted_folds, sub = pd.concat(frames, ignore_index=True), pd.concat(subs, ignore_index=True)

    rng = np.random.default_rng(1)
    chosen = rng.choice(n_folds, size=min(args.se_folds, n_folds), replace=False)
    se = pd.concat([bootstrap_errors(stored.folds[i], shifts, args.bootstrap, args.subsamples, stored.ece_bins, rng)
                    for i in chosen])
    se = se[se["shift"] != 1.0]
    mc = sub[(sub["correction"] == "none") & (sub["shift"] != 1.0)].copy()
    mc["se_mc"] = mc["sd"] / math.sqrt(args.subsamples)
    reweighted = reweighted_folds[reweighted_folds["correction"] == "none"].melt(
        id_vars=["key", "shift"], value_vars=list(SE_METRICS), var_name="metric", value_name="reweighted")
    agree = mc.merge(reweighted, on=["key", "shift", "metric"])
    agree["z"] = (agree["reweighted"] - agree["mean"]).abs() / agree["se_mc"].replace(0, np.nan)

    ratio = sub_seconds / rw_seconds
    print()
    print(f"{'':34}{'reweighting':>14}{f'subsampling ×{args.subsamples}':>18}{'ratio':>9}")
    print(f"{'time for all folds and shifts':34}{rw_seconds:>12.2f} s{sub_seconds:>16.2f} s{ratio:>8.1f}×")
    print(f"{'time per fold':34}{1e3 * rw_seconds / n_folds:>11.2f} ms{1e3 * sub_seconds / n_folds:>15.2f} ms")
    print()
    print(f"error per metric (uncorrected probabilities), median over {len(chosen)} folds × {len(shifts) - 1} shifts "
          f"(s ≠ 1); class-stratified bootstrap, B={args.bootstrap} per fold")
    print(f"{'metric':12}{'SE RW':>8}{'SE SUB':>8}{'RMSE RW':>9}{'RMSE SUB':>9}{'RMSE ratio RW/SUB [95% CI]':>29}"
          f"{'MC SE':>8}{'|RW−SUB|/MC':>13}")
    medians = se.groupby("metric").median(numeric_only=True)
    worse = []
    for metric in SE_METRICS:
        low, mid, high = error_ratio(se[se["metric"] == metric])
        if high > 1 + TOLERANCE:
            worse.append(metric)
        m = medians.loc[metric]
        mc_part = mc.loc[mc["metric"] == metric, "se_mc"].median()
        z = agree.loc[agree["metric"] == metric, "z"].median()
        print(f"{metric:12}{m['se_reweighting']:>8.4f}{m['se_subsampling']:>8.4f}{m['rmse_reweighting']:>9.4f}"
              f"{m['rmse_subsampling']:>9.4f}{f'{mid:.3f} [{low:.3f}, {high:.3f}]':>29}{mc_part:>8.4f}{z:>13.2f}")
    print("SE: sd over resamples; RMSE: vs the fold's exactly shifted value (bias included); RMSE ratio: geometric "
          "mean over folds × shifts, 95 % bootstrap CI over folds; MC SE: subsampling's Monte Carlo part (sd/√K) on "
          "the real folds, |RW−SUB|/MC: how far the two estimates are apart in Monte Carlo SEs (AP and ECE of a "
          "subsample are biased upwards: fewer rows)")
    print()
    print(f"goal ≥ 20× faster at no worse error (RMSE ratio CI below 1 + {TOLERANCE:g}): {ratio:.1f}× faster; "
          f"reweighting's error {'worse on ' + ', '.join(worse) if worse else 'no worse on every metric'} → "
          f"{'met' if ratio >= 20 and not worse else 'NOT met'}")


def error_ratio(rows: pd.DataFrame) -> tuple[float, float, float]:
    """Geometric mean of RMSE_reweighting / RMSE_subsampling and its 95 % percentile-bootstrap interval,
    resampling folds (the shifts of one fold are not independent)."""
    # both ≈ 0 (e.g. a constant score, whose Brier score no shift can change) carries no information
    valid = rows[(rows["rmse_reweighting"] > 1e-9) & (rows["rmse_subsampling"] > 1e-9)]
    if valid.empty:
        return math.nan, math.nan, math.nan
    per_fold = np.log(valid["rmse_reweighting"] / valid["rmse_subsampling"]).groupby(valid["key"]).mean().to_numpy()
    if len(per_fold) < 2 or np.ptp(per_fold) == 0:
        value = float(np.exp(per_fold.mean()))
        return value, value, value
    ci = stats.bootstrap((per_fold,), np.mean, n_resamples=2000, method="percentile", random_state=0,
                         vectorized=True).confidence_interval
    return float(np.exp(ci.low)), float(np.exp(per_fold.mean())), float(np.exp(ci.high))


if __name__ == "__main__":
    main()
