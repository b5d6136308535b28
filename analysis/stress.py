"""Prior-shift stress test: every stored fold re-scored at shifted positive priors, no refits.

A shift s multiplies the test fold's positive prior π (π' = s·π, clipped into (0, 1)); the fold is
reweighted to π' (`analysis.prior_shift`). Per fold and shift, three versions of the probabilities:

- `none`  — as the model gives them;
- `known` — Bayes odds adjustment from the prior the model was trained at to the true π';
- `em`    — the same adjustment to the Saerens–Latinne–Decaestecker EM estimate of π' from the
            unlabelled (reweighted) test fold; the estimate is reported next to the true prior.

Threshold-free numbers: AP, ROC AUC, Brier, ECE (equal-mass bins), log loss. Decisions use the
threshold chosen at the training prior: the post-hoc threshold the cell deployed, else the lowest
threshold whose precision meets the target on the training fold's out-of-fold predictions. With a
prior correction the threshold stays a cut-off on the posterior: it is mapped once from the model's
prior to the training data's prior and applied to the corrected probabilities (so at s = 1 the
decisions match the uncorrected ones, and under shift the cut-off on the raw score moves by the
prior odds ratio). A prior correction is monotone, so AP and ROC AUC do not change with it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from imbench.analysis.folds import StoredFold, StoredFolds, load_folds
from imbench.benchmarks.store.reader import store_stamp
from imbench.analysis.prior_shift import (DEFAULT_SHIFTS, PRIOR_BOUNDS, PRIOR_RULES, ShiftInputError, adjust_prior,
                                  check_fraction, class_weights, em_prior, parse_shifts, shifted_prior)
from imbench.foundation.metrics import threshold_metrics
from imbench.foundation.posthoc import choose_threshold
from imbench.foundation.progress import steps

CORRECTIONS = {
    "none": "probabilities as the model gives them",
    "known": "Bayes odds adjustment to the true shifted prior",
    "em": "Bayes odds adjustment to the prior estimated by EM from the unlabelled test fold",
}
THRESHOLD_SOURCES = {
    "posthoc": "the post-hoc threshold the strategy chose on the training fold",
    "target": "lowest threshold meeting the target precision on the training fold's out-of-fold predictions",
    "unreachable": "no threshold reaches the target precision on the training fold's out-of-fold predictions",
    "unavailable": "no post-hoc threshold and no training-fold out-of-fold predictions stored",
}
SCORE_METRICS = ("ap", "roc_auc", "brier", "ece", "log_loss")
DECISION_METRICS = ("precision", "recall", "alert_rate")
DEFAULT_TARGET_PRECISION = 0.9


@dataclass
class StressResult:
    """Per-fold stress numbers and what they were computed with."""

    folds: pd.DataFrame
    shifts: tuple[float, ...]
    target_precision: float
    labels: list[str]
    notes: list[str] = field(default_factory=list)
    #: (dataset, model, strategy) with a fold that is not ok: left out of every summary.
    incomplete: frozenset[tuple[str, str, str]] = frozenset()
    _datasets: pd.DataFrame | None = field(default=None, repr=False)
    _table: pd.DataFrame | None = field(default=None, repr=False)

    def datasets(self) -> pd.DataFrame:
        """Fold means per (model, strategy, correction, shift, dataset), for datasets where all folds
        are ok; `keeps_target` when every fold had a threshold that raised alerts and the fold-mean
        precision ≥ the target (NA when no fold had a threshold). Computed once."""
        if self._datasets is None:
            self._datasets = dataset_means(self)
        return self._datasets

    def table(self) -> pd.DataFrame:
        """`stress_table` of this result, computed once (several figures draw from it)."""
        if self._table is None:
            self._table = shift_summary(self.datasets())
        return self._table


def deployed_threshold(fold: StoredFold, target_precision: float) -> tuple[float, str]:
    """The threshold chosen at the training prior and where it came from (THRESHOLD_SOURCES)."""
    if fold.posthoc_threshold is not None:
        return fold.posthoc_threshold, "posthoc"
    if not fold.has_train_predictions:
        return math.nan, "unavailable"
    choice = choose_threshold(fold.train_y, fold.train_proba, "precision", target_precision)
    return (math.nan, "unreachable") if choice.outcome == "unreachable" else (choice.threshold, "target")


def stress_fold(fold: StoredFold, shifts: tuple[float, ...], target_precision: float, n_bins: int
                ) -> dict[str, np.ndarray]:
    """One fold at every shift, with and without prior correction: columns of one row per
    (correction, shift). Plain arrays, not a DataFrame: building thousands of small frames would
    cost more than all the arithmetic."""
    test = fold.test
    prior = test.prevalence
    shift = np.asarray(shifts, dtype=float)
    targets = np.array([shifted_prior(prior, s) for s in shifts])
    w_pos, w_neg = class_weights(prior, targets)
    weights = test.class_weight_rows(w_pos, w_neg)
    threshold, source = deployed_threshold(fold, target_precision)
    promised_precision = promised_alert_rate = math.nan
    if fold.has_train_predictions and not math.isnan(threshold):
        train = threshold_metrics(fold.train_y, fold.train_proba, threshold, "")
        promised_alert_rate = train["alert_rate"]
        promised_precision = train["precision"] if train["alert_rate"] else math.nan
    estimate, converged = em_prior(test.proba, fold.model_prior, weights)
    corrected_threshold = float(adjust_prior(threshold, fold.model_prior, fold.train_prior))
    versions = {
        "none": (np.broadcast_to(test.proba, weights.shape), threshold, np.full(len(shifts), np.nan)),
        "known": (adjust_prior(test.proba, fold.model_prior, targets[:, None]), corrected_threshold, targets),
        "em": (adjust_prior(test.proba, fold.model_prior, estimate[:, None]), corrected_threshold, estimate),
    }
    columns: dict[str, list[np.ndarray]] = {}
    for correction, (proba, cut, used_prior) in versions.items():
        part = {"correction": np.full(len(shifts), correction, dtype=object), "shift": shift,
                "shifted_prior": targets, "corrected_to": used_prior, "em_estimate": estimate,
                "em_converged": converged, "threshold": np.full(len(shifts), cut),
                **test.probability_metrics(proba, weights, n_bins),
                **test.decision_metrics(proba, weights, np.full(len(shifts), cut))}
        for name, values in part.items():
            columns.setdefault(name, []).append(values)
    out = {name: np.concatenate(parts) for name, parts in columns.items()}
    rows = len(out["shift"])
    out["ap"] = np.tile(test.curve.average_precision(w_pos, w_neg), len(versions))
    out["roc_auc"] = np.full(rows, test.curve.roc_auc())
    out["clipped"] = ~np.isclose(out["shifted_prior"], out["shift"] * prior)
    held = np.nan_to_num(out["precision"], nan=-1.0) >= target_precision
    out["target_held"] = np.where(math.isnan(threshold), None, held)
    scalars = {**fold.identity(), "prior": prior, "model_prior": fold.model_prior, "prior_rule": fold.prior_rule,
               "threshold_source": source, "promised_precision": promised_precision,
               "promised_alert_rate": promised_alert_rate}
    return {**{name: np.full(rows, value, dtype=object if isinstance(value, str) else None)
               for name, value in scalars.items()}, **out}


#: Column order of `StressResult.folds`.
FOLD_COLUMNS = ("key", "dataset", "model", "strategy", "family", "repeat", "fold", "correction", "shift", "prior",
                "shifted_prior", "clipped", "corrected_to", "model_prior", "prior_rule", "em_estimate",
                "em_converged", *SCORE_METRICS, "threshold", "threshold_source", *DECISION_METRICS,
                "target_held", "promised_precision", "promised_alert_rate")


def _frame(parts: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    frame = pd.DataFrame({name: np.concatenate([p[name] for p in parts]) for name in FOLD_COLUMNS})
    frame["target_held"] = frame["target_held"].astype("boolean")
    for name in ("repeat", "fold"):
        frame[name] = frame[name].astype(int)
    return frame


def run_stress(source: str | Path | StoredFolds, shifts: tuple[float, ...] | str = DEFAULT_SHIFTS,
               target_precision: float = DEFAULT_TARGET_PRECISION, n_bins: int | None = None) -> StressResult:
    """Stress every ok fold of a results folder (or of already loaded folds). For a folder the result is
    cached per store content and options: treat it as read-only."""
    shifts = parse_shifts(shifts)
    target_precision = check_fraction(target_precision, "--target-precision")
    if isinstance(source, StoredFolds):
        return _stress(source, shifts, target_precision, n_bins)
    return _cached_stress(Path(source), store_stamp(source), shifts, target_precision, n_bins)


@lru_cache(maxsize=4)
def _cached_stress(results_dir: Path, stamp: tuple[object, ...], shifts: tuple[float, ...],
                   target_precision: float, n_bins: int | None) -> StressResult:
    return _stress(load_folds(results_dir), shifts, target_precision, n_bins)


def _stress(stored: StoredFolds, shifts: tuple[float, ...], target_precision: float, n_bins: int | None
            ) -> StressResult:
    if not stored.folds:
        raise ShiftInputError(f"{stored.results_dir}: no ok cells with stored predictions to stress")
    bins = n_bins or stored.ece_bins
    frame = _frame([stress_fold(f, shifts, target_precision, bins)
                    for f in steps(stored.folds, len(stored.folds), "prior-shift stress")])
    cells = stored.cells
    bad = cells[cells["status"] != "ok"]
    incomplete = frozenset(zip(bad["dataset"], bad["model"], bad["label"]))
    notes = stored.notes() + _rule_notes(frame) + _clip_notes(frame)
    return StressResult(frame, shifts, target_precision, stored.labels, notes, incomplete)


def _rule_notes(frame: pd.DataFrame) -> list[str]:
    rules = frame.drop_duplicates("key")["prior_rule"].value_counts()
    notes = []
    if rules.get("assumed", 0):
        assumed = sorted(frame.loc[frame["prior_rule"] == "assumed", "strategy"].unique())
        notes.append(f"training prior {PRIOR_RULES['assumed']} for {', '.join(assumed)}")
    return notes


def _clip_notes(frame: pd.DataFrame) -> list[str]:
    clipped = frame[frame["clipped"]].drop_duplicates(["key", "shift"])
    if clipped.empty:
        return []
    return [f"{len(clipped)} fold×shift combinations hit the prior bounds [{PRIOR_BOUNDS[0]:g}, {PRIOR_BOUNDS[1]:g}] "
            f"(shift × prevalence outside them) and use the clipped prior"]


# --- summaries ------------------------------------------------------------------------------------

GROUP = ["model", "strategy", "correction", "shift"]


def dataset_means(result: StressResult) -> pd.DataFrame:
    frame = result.folds
    keep = [(d, m, s) not in result.incomplete for d, m, s in zip(frame["dataset"], frame["model"], frame["strategy"])]
    frame = frame[keep]
    metrics = [*SCORE_METRICS, *DECISION_METRICS, "shifted_prior", "em_estimate", "promised_precision",
               "promised_alert_rate"]
    grouped = frame.groupby([*GROUP, "dataset"], sort=True)
    out = grouped[metrics].mean()
    has_threshold = frame["threshold_source"].isin(["posthoc", "target"])
    delivered = has_threshold & frame["precision"].notna()
    flags = pd.DataFrame({"all_delivered": delivered, "any_threshold": frame["threshold_source"] != "unavailable",
                          "unreachable": frame["threshold_source"] == "unreachable"}, index=frame.index)
    flags = flags.groupby([frame[c] for c in [*GROUP, "dataset"]]).agg(
        {"all_delivered": "all", "any_threshold": "any", "unreachable": "any"})
    out = out.join(flags)
    keeps = out["all_delivered"] & (out["precision"] >= result.target_precision)
    out["keeps_target"] = pd.array(np.where(out["any_threshold"], keeps, pd.NA), dtype="boolean")
    return out.drop(columns=["all_delivered", "any_threshold"]).reset_index()


def bootstrap_interval(values: pd.Series) -> tuple[float, float]:
    """95 % percentile-bootstrap interval of the mean over datasets (scipy; NaN with fewer than two).
    Percentile rather than t: with few datasets a t-interval runs outside a metric's range."""
    values = values.dropna().to_numpy(dtype=float)
    if len(values) < 2:
        return math.nan, math.nan
    if np.ptp(values) == 0:
        return float(values[0]), float(values[0])
    ci = stats.bootstrap((values,), np.mean, n_resamples=1000, method="percentile", vectorized=True,
                         random_state=0).confidence_interval
    return float(ci.low), float(ci.high)


def shift_summary(data: pd.DataFrame) -> pd.DataFrame:
    """Dataset means → per (model, strategy, correction, shift): mean over datasets of each metric with
    its 95 % bootstrap interval, the number of datasets, and how many keep the precision target."""
    rows = []
    for key, part in data.groupby(GROUP, sort=True):
        row = dict(zip(GROUP, key))
        row["datasets"] = part["dataset"].nunique()
        for metric in (*SCORE_METRICS, *DECISION_METRICS):
            row[metric] = part[metric].mean()
            row[f"{metric}_ci_low"], row[f"{metric}_ci_high"] = bootstrap_interval(part[metric])
        known = part["keeps_target"].dropna()
        row["keeps_target"] = int(known.sum()) if len(known) else pd.NA
        row["with_threshold"] = len(known)
        rows.append(row)
    table = pd.DataFrame(rows)
    table["keeps_target"] = table["keeps_target"].astype("Int64")
    return table


def stress_table(source: StressResult | str | Path, **options: object) -> pd.DataFrame:
    """Per (model, strategy, correction, shift): mean over datasets (fold means first) of AP, ROC AUC,
    Brier, ECE, log loss, precision, recall and alert rate, each with its 95 % bootstrap interval over
    datasets, and how many datasets keep the precision target. `source`: a StressResult or a results
    folder (then `options` are run_stress's: shifts, target_precision)."""
    return as_stress_result(source, **options).table().copy()


def robustness_leaderboard(source: StressResult | str | Path, correction: str | None = None,
                           **options: object) -> pd.DataFrame:
    """Per (model, strategy[, correction]): how many datasets keep the precision target at every shift,
    the worst-case and spread of precision across shifts (per dataset, then averaged), the alert
    volume at the extreme shifts relative to no shift, and AP's spread. Most robust first."""
    result = as_stress_result(source, **options)
    data = result.datasets()
    if correction is not None:
        if correction not in CORRECTIONS:
            raise ShiftInputError(f"correction must be one of {list(CORRECTIONS)}, got {correction!r}")
        data = data[data["correction"] == correction]
    low, high = min(result.shifts), max(result.shifts)
    rows = []
    for (model, strategy, corr), part in data.groupby(["model", "strategy", "correction"], sort=True):
        wide = part.pivot(index="dataset", columns="shift")
        precision, alert, ap = wide["precision"], wide["alert_rate"], wide["ap"]
        keeps = wide["keeps_target"]
        judged = keeps.notna().all(axis=1)
        kept = keeps[judged].astype(bool).all(axis=1)
        by_shift = precision.mean()
        rows.append({
            "model": model, "strategy": strategy, "correction": corr, "datasets": len(wide),
            "with_threshold": int(judged.sum()), "kept": int(kept.sum()) if judged.any() else pd.NA,
            "unreachable": int(wide["unreachable"].any(axis=1).sum()),
            "precision_at_1": precision[1.0].mean(), "precision_worst": precision.min(axis=1).mean(),
            "worst_shift": float(by_shift.idxmin()) if by_shift.notna().any() else math.nan,
            "precision_spread": (precision.max(axis=1) - precision.min(axis=1)).mean(),
            f"alerts_x_at_{low:g}": (alert[low] / alert[1.0]).replace([np.inf], np.nan).mean(),
            f"alerts_x_at_{high:g}": (alert[high] / alert[1.0]).replace([np.inf], np.nan).mean(),
            "ap_at_1": ap[1.0].mean(), "ap_worst": ap.min(axis=1).mean(),
            "ap_spread": (ap.max(axis=1) - ap.min(axis=1)).mean(),
        })
    board = pd.DataFrame(rows)
    board["kept"] = board["kept"].astype("Int64")
    order = board.assign(_kept=board["kept"].fillna(-1), _worst=board["precision_worst"].fillna(-1),
                         _ap=board["ap_worst"].fillna(-1))
    order = order.sort_values(["correction", "_kept", "_worst", "_ap"], ascending=[True, False, False, False],
                              kind="stable")
    return board.loc[order.index].reset_index(drop=True)


def survival_table(source: StressResult | str | Path, **options: object) -> pd.DataFrame:
    """Share of datasets (with a threshold) keeping the precision target, per strategy, correction, shift."""
    table = stress_table(source, **options)
    share = table["keeps_target"].astype(float) / table["with_threshold"].replace(0, np.nan)
    return table[[*GROUP, "keeps_target", "with_threshold"]].assign(share=share)


def prior_estimates(source: StressResult | str | Path, **options: object) -> pd.DataFrame:
    """EM estimate next to the true shifted prior, per dataset (fold means) and strategy, with the
    relative error |π̂ − π'| / π'."""
    result = as_stress_result(source, **options)
    data = result.datasets()
    data = data[data["correction"] == "em"]
    out = data[["model", "strategy", "dataset", "shift", "shifted_prior", "em_estimate"]].copy()
    out["relative_error"] = (out["em_estimate"] - out["shifted_prior"]).abs() / out["shifted_prior"]
    return out.reset_index(drop=True)


def as_stress_result(source: StressResult | str | Path, **options: object) -> StressResult:
    """A StressResult as is, or computed from a results folder with `options` (shifts, target_precision)."""
    return source if isinstance(source, StressResult) else run_stress(source, **options)  # type: ignore[arg-type]
