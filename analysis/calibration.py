"""Calibration per strategy, as trained and after the prior correction that undoes resampling/weighting.

Resampling and class weighting train a model at another positive prior than the data's (e.g. 50 %
after random under-sampling to a 1:1 ratio), so its probabilities overstate the positives. The Bayes
prior correction (`analysis.prior_shift.adjust_prior`) maps them from the prior the model was trained
at back to the training fold's prevalence — known at training time, so no test information is used.
Per fold, both versions are scored with the run's metric functions: ECE (equal-mass bins, the run's
bin count), Brier, log loss, calibration intercept and slope.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from imbench.analysis.folds import StoredFold, StoredFolds, load_folds
from imbench.benchmarks.store.reader import store_stamp
from imbench.analysis.prior_shift import PRIOR_RULES, ShiftInputError, adjust_prior
from imbench.analysis.shift_metrics import weighted_brier, weighted_log_loss
from imbench.foundation.metrics import calibration_intercept_slope, expected_calibration_error
from imbench.foundation.progress import steps

VARIANTS = {"raw": "probabilities as the model gives them",
            "corrected": "Bayes prior correction from the prior the model was trained at to the training fold's "
                         "prevalence"}
CALIBRATION_METRICS = ("ece", "brier", "log_loss", "calibration_intercept", "calibration_slope")
#: Intercept and slope are summarised by their median over datasets: a fold whose scores nearly
#: separate the classes gives slopes in the tens, which would dominate a mean.
MEDIAN_METRICS = frozenset({"calibration_intercept", "calibration_slope"})
BASELINE = "none"


@dataclass
class CalibrationResult:
    """Per-fold calibration numbers (both variants) and the pooled predictions for reliability diagrams."""

    folds: pd.DataFrame
    labels: list[str]
    n_bins: int
    notes: list[str] = field(default_factory=list)
    pooled: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)


def _scores(y: np.ndarray, p: np.ndarray, n_bins: int) -> dict[str, float]:
    """The stored calibration metrics, by the same definitions as `compute_metrics`."""
    intercept, slope = calibration_intercept_slope(y, p)
    ones = np.ones_like(p)
    return {"ece": expected_calibration_error(y, p, n_bins), "brier": float(weighted_brier(y, p, ones)[0]),
            "log_loss": float(weighted_log_loss(y, p, ones)[0]), "calibration_intercept": intercept,
            "calibration_slope": slope}


def calibrate_fold(fold: StoredFold, n_bins: int) -> tuple[list[dict[str, object]], np.ndarray]:
    """Both variants of one fold: two rows of metrics, and the corrected probabilities."""
    y, p = fold.test.y, fold.test.proba
    identity = fold.model_prior == fold.train_prior  # trained at the data's prior: nothing to undo
    corrected = p if identity else adjust_prior(p, fold.model_prior, fold.train_prior)
    raw_scores = _scores(y, p, n_bins)
    rows = []
    for variant, scores in (("raw", raw_scores), ("corrected", raw_scores if identity else _scores(y, corrected, n_bins))):
        rows.append({**fold.identity(), "variant": variant, "model_prior": fold.model_prior,
                     "train_prior": fold.train_prior, "prior_rule": fold.prior_rule, **scores})
    return rows, corrected


def run_calibration(source: str | Path | StoredFolds, n_bins: int | None = None) -> CalibrationResult:
    """Both variants of every ok fold. For a results folder the result is cached per store content:
    treat it as read-only."""
    if isinstance(source, StoredFolds):
        return _calibration(source, n_bins)
    return _cached_calibration(Path(source), store_stamp(source), n_bins)


@lru_cache(maxsize=2)
def _cached_calibration(results_dir: Path, stamp: tuple[object, ...], n_bins: int | None) -> CalibrationResult:
    return _calibration(load_folds(results_dir), n_bins)


def _calibration(stored: StoredFolds, n_bins: int | None) -> CalibrationResult:
    if not stored.folds:
        raise ShiftInputError(f"{stored.results_dir}: no ok cells with stored predictions to analyse")
    bins = n_bins or stored.ece_bins
    rows: list[dict[str, object]] = []
    pooled: dict[str, list[np.ndarray]] = {name: [] for name in ("model", "strategy", "y", "raw", "corrected")}
    for fold in steps(stored.folds, len(stored.folds), "calibration"):
        fold_rows, corrected = calibrate_fold(fold, bins)
        rows.extend(fold_rows)
        n = len(corrected)
        for name, values in (("model", np.full(n, fold.model, dtype=object)),
                             ("strategy", np.full(n, fold.label, dtype=object)), ("y", fold.test.y),
                             ("raw", fold.test.proba), ("corrected", corrected)):
            pooled[name].append(values)
    frame = pd.DataFrame(rows)
    notes = [n for n in stored.notes() if "training-fold" not in n]  # calibration needs test predictions only
    assumed = sorted(frame.loc[frame["prior_rule"] == "assumed", "strategy"].unique())
    if assumed:
        notes.append(f"training prior {PRIOR_RULES['assumed']} for {', '.join(assumed)} (their correction is the "
                     "identity up to the train/test prevalence difference)")
    cells = stored.cells
    bad = cells[cells["status"] != "ok"]
    incomplete = set(zip(bad["dataset"], bad["model"], bad["label"]))
    keep = [(d, m, s) not in incomplete for d, m, s in zip(frame["dataset"], frame["model"], frame["strategy"])]
    return CalibrationResult(frame[keep].reset_index(drop=True), stored.labels, bins, notes,
                             pd.DataFrame({name: np.concatenate(parts) for name, parts in pooled.items()}))


def as_calibration_result(source: CalibrationResult | str | Path, **options: object) -> CalibrationResult:
    return source if isinstance(source, CalibrationResult) else run_calibration(source, **options)  # type: ignore


def calibration_table(source: CalibrationResult | str | Path, **options: object) -> pd.DataFrame:
    """Per (model, strategy, variant): over datasets (fold means first), the mean ECE, Brier and log
    loss and the median calibration intercept and slope (MEDIAN_METRICS), the mean prior the model
    was trained at and its rule, and each metric's paired difference to the same model's `none` as
    trained (the strategy's effect, and what the correction leaves of it)."""
    result = as_calibration_result(source, **options)
    per_dataset = result.folds.groupby(["model", "strategy", "variant", "dataset"], sort=True)[
        [*CALIBRATION_METRICS, "model_prior", "train_prior"]].mean()
    how = {name: "median" if name in MEDIAN_METRICS else "mean" for name in per_dataset.columns}
    table = per_dataset.groupby(["model", "strategy", "variant"], sort=True).agg(how)
    table["datasets"] = per_dataset.groupby(["model", "strategy", "variant"]).size()
    rules = result.folds.groupby(["model", "strategy"])["prior_rule"].agg(lambda r: "/".join(sorted(set(r))))
    table = table.join(rules, on=["model", "strategy"])
    for metric in CALIBRATION_METRICS:
        baseline = {}
        for model in table.index.get_level_values("model").unique():
            if (model, BASELINE, "raw") in table.index:
                baseline[model] = _paired_delta(per_dataset, model, metric)
        table[f"delta_{metric}_vs_none"] = [baseline.get(m, {}).get((s, v), np.nan) for m, s, v in table.index]
    return table.reset_index()


def _paired_delta(per_dataset: pd.DataFrame, model: str, metric: str) -> dict[tuple[str, str], float]:
    """Mean (median for MEDIAN_METRICS) over shared datasets of (strategy variant − `none` raw), one model."""
    values = per_dataset[metric].xs(model, level="model")
    base = values.xs((BASELINE, "raw"), level=("strategy", "variant"))
    out = {}
    for (strategy, variant), part in values.groupby(level=["strategy", "variant"]):
        part = part.droplevel(["strategy", "variant"])
        shared = part.index.intersection(base.index)
        diff = part[shared] - base[shared]
        out[(strategy, variant)] = float(diff.median() if metric in MEDIAN_METRICS else diff.mean()) \
            if len(shared) else np.nan
    return out


def calibration_side_by_side(source: CalibrationResult | str | Path, **options: object) -> pd.DataFrame:
    """One row per (model, strategy): each metric as trained and after prior correction next to each other."""
    table = calibration_table(source, **options)
    wide = table.pivot(index=["model", "strategy"], columns="variant",
                       values=[*CALIBRATION_METRICS, "model_prior"])
    out = pd.DataFrame(index=wide.index)
    out["model_prior"] = wide[("model_prior", "raw")]
    for metric in CALIBRATION_METRICS:
        out[f"{metric}_raw"] = wide[(metric, "raw")]
        out[f"{metric}_corrected"] = wide[(metric, "corrected")]
    return out.reset_index()
