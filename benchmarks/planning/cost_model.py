"""How long a cell takes, before it runs: a model of one fit's seconds as a fixed cost plus a work
term that grows with the data, fitted on the cells of earlier stores (each stores fit, predict and
inner seconds, and its dataset's n and d).

    seconds(one fit) = exp(F) + exp(W)
    F = f + f_model + f_strategy                                   (fixed: set-up, predicting,
                                                                    Python and library overhead)
    W = w + w_model + w_strategy + (1 + e_model) · log(n_fit · d) + g_model · log d [grows]
        + e_strategy · log(n · d) + g · log d [grows]              (work)

A small fit costs its fixed seconds; a large one grows about linearly in its work n_fit · d, where
n_fit is the rows the model itself is fitted on after the strategy's sampler — about 2·n_neg for
over-sampling and hybrids, 2·n_pos for under-sampling, n otherwise — because a boosted model on
SMOTE-doubled data costs what that data costs. The term in log d for those growing samplers is
there because interpolated rows have many more distinct values per feature than the data had,
which is what histogram and split searches pay for (LightGBM on the 1,617 binary features of
wcci2006:hiva: 9 s a fit, 52 s after SMOTE). A strategy's own factor and its elasticity in the
original data's n · d carry its sampler's or its ensemble's work.

Why not one log-linear line (what this module fitted before): most timed fits are small, where the
fixed cost dominates, so a single slope in log n comes out near 0.3 and a 20,000-row forest was
planned at 6 times a 200-row one. The fixed term takes the small fits; the work term is then free
to grow, and its elasticities are pulled toward 1 (linear in n_fit · d) by a strong ridge penalty,
because the stores hold few large fits to learn a slope from (the bundle's largest datasets are a
handful) while histogram boosting and forests do work roughly proportional to rows × features.
(Logistic regression grows less, and HistGB stops early above 10,000 rows: both are over-planned
on the largest data; docs/performance.md says by how much.)

Each model has its own fixed and work factors and slope deviations, each strategy its own fixed
and work factors and elasticity. A strategy label (`smote[k=3]`) seen on enough fits has its own
weights, else its name's, else its family's mean; an unknown model takes the mean model (zero).

Fitted by nonlinear least squares of log seconds (scipy.optimize.least_squares, Levenberg–Marquardt,
with an analytic Jacobian) with ridge penalties as extra residuals, one intercept per training run
(shifting both terms) so runs timed on a busier machine do not bend the factors — the shipped
intercept is that of reference runs timed with nothing else running (else the runs' mean): a
quiet machine's speed is reproducible, a shared one's is not, and the probe scales a plan to the
machine at hand — and turned into
expected seconds with the smearing factor (mean of exp(residual)), because a run's time is a sum of
cells, not a sum of medians. A cell is its final fit plus, when the grid stores inner folds, k fits
on (k−1)/k of its training fold, plus a per-cell overhead (metrics, derived steps, storing)
measured from whole runs.

The coefficients ship with the package (benchmarks/planning/cost_model.json, with what they were fitted on,
the residual sd and a held-out check) so a fresh clone can plan without earlier stores;
`perf/fit_cost_model.py` refits them. A coefficients file without a `fixed` weight is
read as the old log-linear model (its work term alone). The runner orders cells by this cost
(longest first) and `imbench plan` sums it into an estimated wall time, scaled by a probe to the
machine at hand (benchmarks/planning/plan.py).
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from scipy.special import expit

from imbench.benchmarks.spec.cells import Cell

COEFFICIENTS_FILE = Path(__file__).with_name("cost_model.json")
#: Ridge penalty on the per-model and per-strategy factors (`fixed`, `one`): a level seen on few
#: fits stays near the mean.
PENALTY = 1.0
#: Ridge penalty on the per-model and per-strategy slopes: strong, so the work term stays close to
#: linear in n_fit · d unless many fits say otherwise (see the module docstring).
SLOPE_PENALTY = 1000.0
#: Seconds below which a timing is noise (a floor before taking logs).
FLOOR_SECONDS = 1e-3
#: The weight that selects the fixed term (not a feature of the work term).
FIXED = "fixed"
#: The work term's elasticity in n_fit · d before the per-model deviation: linear.
ELASTICITY = 1.0
SHARED = (FIXED, "one", "log_d_grown")
PER_MODEL = (FIXED, "one", "log_work", "log_d_grown")
PER_STRATEGY = (FIXED, "one", "log_nd")
#: Families whose sampler leaves about 2·n_neg rows, and about 2·n_pos rows.
GROWS = ("oversampling", "hybrid")
SHRINKS = ("undersampling",)
#: Size buckets (n · d of the training fold) in which a held-out check is reported.
BUCKETS = (("small", 0.0, 1e4), ("medium", 1e4, 1e5), ("large", 1e5, math.inf))
FORM = ("seconds of one fit = smearing * (exp(F) + exp(W)); F = sum of the 'fixed' weights (shared, model, "
        "strategy); W = sum over features of value * (shared + model + strategy weight), log_work = "
        "log(n_fit * d) with shared weight 1 (linear work), log_nd = log(n * d), log_d_grown = log d for "
        "over-sampling and hybrids; see benchmarks/planning/cost_model.py")


@dataclass(frozen=True)
class FitShape:
    """What one fit's cost depends on."""

    model: str
    strategy: str
    label: str
    family: str
    n_train: float
    d: float
    n_pos: float
    n_categorical: float = 0.0


def features(shape: FitShape) -> dict[str, float]:
    """The fit's features (logs of its sizes). `log_work` and `log_nd` are the work term's; the
    others are kept so an older coefficients file (a log-linear model in them) still reads."""
    n, n_pos = max(shape.n_train, 2.0), min(max(shape.n_pos, 1.0), max(shape.n_train - 1, 1.0))
    n_fit = 2 * (n - n_pos) if shape.family in GROWS else 2 * n_pos if shape.family in SHRINKS else n
    log_d, log_fit = math.log(max(shape.d, 1.0)), math.log(max(n_fit, 2.0))
    return {"one": 1.0, "log_n": math.log(n), "log_d": log_d, "log_pos": math.log(n_pos),
            "log_cat": math.log1p(max(shape.n_categorical, 0.0)), "log_fit": log_fit,
            "log_d_grown": log_d if shape.family in GROWS else 0.0, "log_work": log_fit + log_d,
            "log_nd": math.log(n) + log_d}


@dataclass
class CostModel:
    """Weights of the model above and the per-cell overhead, as stored in cost_model.json. Each
    weights dict maps a feature to its weight in the work term, and `fixed` to its part of the log
    fixed seconds (absent everywhere: no fixed term, the old log-linear model)."""

    shared: dict[str, float] = field(default_factory=lambda: {FIXED: math.log(0.2), "one": math.log(2e-6),
                                                               "log_work": ELASTICITY})
    model: dict[str, dict[str, float]] = field(default_factory=dict)
    strategy: dict[str, dict[str, float]] = field(default_factory=dict)
    family: dict[str, dict[str, float]] = field(default_factory=dict)
    smearing: float = 1.0
    #: Seconds per cell besides its fits (metrics, storing), and per post-hoc step it derives.
    overhead_seconds: float = 0.05
    overhead_per_step: float = 0.0
    fitted_on: dict[str, Any] = field(default_factory=dict)
    #: The formula, in words, for a reader of the JSON file.
    form: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CostModel":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def _strategy_weights(self, shape: FitShape) -> dict[str, float]:
        for key in (shape.label, shape.strategy):
            if key in self.strategy:
                return self.strategy[key]
        return self.family.get(shape.family, {})

    def log_terms(self, shape: FitShape) -> tuple[float, float]:
        """(log fixed seconds, log work seconds) of one fit; the first is −inf without a fixed term."""
        values = features(shape)
        layers = (self.shared, self.model.get(shape.model, {}), self._strategy_weights(shape))
        has_fixed = any(FIXED in layer for layer in layers)
        fixed = sum(layer.get(FIXED, 0.0) for layer in layers) if has_fixed else -math.inf
        work = sum(value * sum(layer.get(f, 0.0) for layer in layers) for f, value in values.items())
        return fixed, work

    def log_seconds(self, shape: FitShape) -> float:
        """The model's log seconds of one fit (a median, before smearing)."""
        return float(np.logaddexp(*self.log_terms(shape)))

    def fit_seconds(self, shape: FitShape) -> float:
        """Expected seconds of one fit and its predictions."""
        return self.smearing * math.exp(self.log_seconds(shape))

    def overhead(self, steps: int = 0) -> float:
        """Seconds of a cell besides its fits: metrics, storing, and deriving `steps` post-hoc steps."""
        return self.overhead_seconds + self.overhead_per_step * steps

    def cell_seconds(self, cell: Cell, meta: dict[str, Any], inner_folds: int, skipped: bool = False,
                     steps: int = 0) -> float:
        """Expected seconds of one cell: its final fit, its k inner fits, and its overhead (only the
        overhead when it is known to be skipped)."""
        if skipped:
            return self.overhead(0)
        n = float(meta.get("n") or 1000)
        n_pos = float(meta.get("n_pos") or max(n * 0.1, 1))
        share = (cell.n_splits - 1) / cell.n_splits
        shape = FitShape(cell.model_config.name, cell.strategy.name, cell.strategy.label, cell.strategy.family,
                         n * share, float(meta.get("d") or 10), n_pos * share,
                         float(meta.get("n_categorical") or 0))
        seconds = self.fit_seconds(shape)
        if inner_folds > 1 and not cell.strategy.anti_pattern:
            inner_share = (inner_folds - 1) / inner_folds
            inner = FitShape(shape.model, shape.strategy, shape.label, shape.family, shape.n_train * inner_share,
                             shape.d, shape.n_pos * inner_share, shape.n_categorical)
            seconds += inner_folds * self.fit_seconds(inner)
        return seconds + self.overhead(steps)


@lru_cache(maxsize=1)
def shipped_model() -> CostModel:
    """The coefficients shipped with the package (a rough default when the file is missing)."""
    try:
        return CostModel.from_dict(json.loads(COEFFICIENTS_FILE.read_text()))
    except (OSError, ValueError, TypeError):
        return CostModel()


def order_by_cost(tasks: Sequence[Any], metas: dict[str, dict[str, Any]],
                  model: CostModel | None = None) -> list[Any]:
    """Tasks (CellTask) longest-expected first: the last minutes of a run are then short cells that
    fill every core, not one long cell on one core. Ties keep the enumeration order (by dataset)."""
    model = model or shipped_model()
    memo: dict[tuple[str, str, str, int, bool], float] = {}
    costs = []
    for task in tasks:
        group = (task.cell.dataset, task.cell.model, task.cell.label, task.inner_folds, bool(task.skip_reason))
        if group not in memo:
            memo[group] = model.cell_seconds(task.cell, metas.get(task.cell.dataset, {}), task.inner_folds,
                                             bool(task.skip_reason), len(task.steps))
        costs.append(memo[group])
    order = sorted(range(len(tasks)), key=lambda i: -costs[i])
    return [tasks[i] for i in order]


# --- fitting ---------------------------------------------------------------------------------------

FIT_COLUMNS = ("model", "strategy", "label", "family", "n_train", "d", "n_pos", "n_categorical", "seconds")


def fit_rows(cells: pd.DataFrame, datasets: pd.DataFrame, n_splits: int) -> pd.DataFrame:
    """One row per timed fit of a store's ok cells: the final fit (fit + predict seconds on the
    training fold) and, when inner folds were fitted, their mean (inner seconds / k on (k−1)/k of it)."""
    ok = cells[(cells["status"] == "ok") & cells["fit_seconds"].notna()]
    meta = datasets.set_index("name")
    ok = ok[ok["dataset"].isin(meta.index)]
    if ok.empty:
        return pd.DataFrame(columns=list(FIT_COLUMNS))
    n = meta.loc[ok["dataset"], "n"].to_numpy(dtype=float)
    n_pos = meta.loc[ok["dataset"], "n_pos"].to_numpy(dtype=float)
    share = (n_splits - 1) / n_splits
    base = pd.DataFrame({
        "model": ok["model"].str.split("[").str[0].to_numpy(), "strategy": ok["strategy"].to_numpy(),
        "label": ok["label"].to_numpy(), "family": ok["family"].to_numpy(), "n_train": n * share,
        "d": meta.loc[ok["dataset"], "d"].to_numpy(dtype=float), "n_pos": n_pos * share,
        "n_categorical": meta.loc[ok["dataset"], "n_categorical"].fillna(0).to_numpy(dtype=float)})
    final = base.assign(seconds=(ok["fit_seconds"] + ok["predict_seconds"].fillna(0)).to_numpy())
    has_inner = (ok["inner_folds"] > 1).to_numpy() & ok["inner_seconds"].notna().to_numpy()
    k = ok["inner_folds"].to_numpy(dtype=float)[has_inner]
    inner = base[has_inner].copy()
    inner["n_train"] *= (k - 1) / k
    inner["n_pos"] *= (k - 1) / k
    inner["seconds"] = ok["inner_seconds"].to_numpy()[has_inner] / k
    return pd.concat([final, inner], ignore_index=True)[list(FIT_COLUMNS)]


def _shapes(rows: pd.DataFrame) -> list[FitShape]:
    return [FitShape(*values) for values in rows[list(FIT_COLUMNS[:-1])].itertuples(index=False, name=None)]


def fit_overhead(samples: list[tuple[float, float]]) -> tuple[float, float]:
    """(seconds per cell, seconds per derived step) from runs' (overhead per cell, steps per cell):
    least squares of a line, neither part below zero."""
    if not samples:
        return 0.05, 0.0
    per_cell, steps = np.array(samples, dtype=float).T
    if np.ptp(steps) == 0:
        return float(max(np.median(per_cell), 0.0)), 0.0
    slope, intercept = np.polyfit(steps, per_cell, 1)
    if slope < 0:  # more steps never cost less: no slope, and then the mean is the intercept
        return float(max(np.mean(per_cell), 0.0)), 0.0
    if intercept < 0:
        return 0.0, float(max(np.sum(per_cell * steps) / np.sum(steps * steps), 0.0))
    return float(intercept), float(slope)


def _design(rows: pd.DataFrame, min_label_fits: int) -> tuple[dict[str, np.ndarray], list[tuple[str, str, str]],
                                                               np.ndarray, np.ndarray, np.ndarray]:
    """Design matrices of the fixed and the work term over one parameter vector, the parameters'
    names (kind, level, feature), their ridge penalties, the work term's fixed offset (ELASTICITY ·
    log_work) and each row's strategy key."""
    counts = rows["label"].value_counts()
    labels = sorted(set(counts[counts >= min_label_fits].index) - set(rows["strategy"]))
    keys = rows["label"].where(rows["label"].isin(labels), rows["strategy"]).to_numpy()
    values = pd.DataFrame([features(shape) for shape in _shapes(rows)])
    size, zero = len(rows), np.zeros(len(rows))
    columns: dict[str, list[np.ndarray]] = {"fixed": [], "work": []}
    names: list[tuple[str, str, str]] = []
    penalties: list[float] = []

    def add(name: tuple[str, str, str], column: np.ndarray, penalty: float, both: bool = False) -> None:
        fixed = name[2] == FIXED or both
        columns["fixed"].append(column if fixed else zero)
        columns["work"].append(column if name[2] != FIXED else zero)
        names.append(name)
        penalties.append(penalty)

    for feature in SHARED:
        add(("shared", "", feature), np.ones(size) if feature == FIXED else values[feature].to_numpy(), 1e-6)
    for kind, column, per in (("model", rows["model"].to_numpy(), PER_MODEL), ("strategy", keys, PER_STRATEGY)):
        for level in sorted(set(column)):
            hit = (column == level).astype(float)
            for feature in per:
                slope = feature not in (FIXED, "one")
                add((kind, level, feature), hit if feature == FIXED else hit * values[feature].to_numpy(),
                    SLOPE_PENALTY if slope else PENALTY)
    sources = sorted(rows["source"].unique()) if "source" in rows else []
    for source in sources[1:]:
        add(("source", source, "one"), (rows["source"].to_numpy() == source).astype(float), 1e-6, both=True)
    offset = ELASTICITY * values["log_work"].to_numpy()
    return ({k: np.column_stack(v) for k, v in columns.items()}, names, np.array(penalties), offset, keys)


def fit_cost_model(rows: pd.DataFrame, overhead_seconds: float, fitted_on: dict[str, Any],
                   min_label_fits: int = 30, overhead_per_step: float = 0.0,
                   reference: Sequence[str] = ()) -> CostModel:
    """Nonlinear least squares of log seconds = log(exp(fixed) + exp(work)) with ridge penalties
    (see the module docstring). With a `source` column (one value per training run) each run gets
    its own intercept on both terms; the shipped intercepts are the mean of the `reference` runs'
    (runs timed on a quiet machine: a busier one is then slower, which the probe's clamp allows
    for), else of all runs'."""
    rows = rows[rows["seconds"].notna()].reset_index(drop=True)
    X, names, penalties, offset, keys = _design(rows, min_label_fits)
    y = np.log(np.maximum(rows["seconds"].to_numpy(float), FLOOR_SECONDS))
    root = np.sqrt(penalties)

    def terms(beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        fixed, work = X["fixed"] @ beta, X["work"] @ beta + offset
        return np.logaddexp(fixed, work), expit(fixed - work)  # log seconds, the fixed term's share

    def residuals(beta: np.ndarray) -> np.ndarray:
        return np.concatenate([y - terms(beta)[0], root * beta])

    def jacobian(beta: np.ndarray) -> np.ndarray:
        share = terms(beta)[1][:, None]
        return np.vstack([-(share * X["fixed"] + (1 - share) * X["work"]), np.diag(root)])

    start = np.zeros(len(names))
    small = y[np.argsort(offset)[: max(1, len(y) // 10)]]  # the smallest fits: about the fixed cost
    start[names.index(("shared", "", FIXED))] = float(np.median(small))
    start[names.index(("shared", "", "one"))] = float(np.median(y - offset))
    solution = least_squares(residuals, start, jac=jacobian, method="lm", x_scale="jac")
    beta = solution.x
    residual = y - terms(beta)[0]
    fitted = CostModel(shared={"log_work": ELASTICITY}, smearing=float(np.mean(np.exp(residual))),
                       overhead_seconds=float(overhead_seconds), overhead_per_step=float(overhead_per_step),
                       fitted_on={**fitted_on, "fits": int(len(rows)), "residual_sd": float(np.std(residual)),
                                  "converged": bool(solution.success)},
                       form=FORM)
    sources = sorted(rows["source"].unique()) if "source" in rows else [""]
    run_shifts = dict.fromkeys(sources[:1], 0.0)
    for (kind, level, feature), weight in zip(names, map(float, beta)):
        if kind == "shared":
            fitted.shared[feature] = weight
        elif kind == "source":
            run_shifts[level] = weight
        else:
            getattr(fitted, kind).setdefault(level, {})[feature] = weight
    chosen = [run_shifts[r] for r in reference if r in run_shifts] or list(run_shifts.values())
    shift = float(np.mean(chosen))
    if len(run_shifts) > 1:
        fitted.fitted_on["run_speed"] = {source: round(math.exp(value - shift), 3)
                                         for source, value in run_shifts.items()}
    fitted.shared[FIXED] += shift
    fitted.shared["one"] += shift
    families = pd.Series(rows["family"].to_numpy(), index=keys).groupby(level=0).first()
    for family, members in families.groupby(families):
        fitted.family[str(family)] = {f: float(np.mean([fitted.strategy[m].get(f, 0.0) for m in members.index]))
                                      for f in PER_STRATEGY}
    return fitted


def predict_rows(model: CostModel, rows: pd.DataFrame) -> np.ndarray:
    """Expected seconds of each fit row (for checking a fitted model against held-out rows)."""
    return np.array([model.fit_seconds(shape) for shape in _shapes(rows)])


def check_rows(model: CostModel, rows: pd.DataFrame) -> dict[str, Any]:
    """How well `model` sums held-out fit rows: measured and predicted seconds, their ratio, overall
    and per size bucket (n · d of the training fold), and the median |log(predicted / measured)|."""
    rows = rows[rows["seconds"].notna()]
    measured, predicted = rows["seconds"].to_numpy(float), predict_rows(model, rows)
    size = (rows["n_train"] * rows["d"]).to_numpy(float)

    def summary(mask: np.ndarray) -> dict[str, Any]:
        total = float(measured[mask].sum())
        planned = float(predicted[mask].sum())
        return {"fits": int(mask.sum()), "measured": round(total, 2), "predicted": round(planned, 2),
                "ratio": round(planned / total, 3) if total > 0 else None}

    out: dict[str, Any] = summary(np.ones(len(rows), bool))
    errors = np.abs(np.log(predicted / np.maximum(measured, FLOOR_SECONDS)))
    out["median_abs_log_error"] = round(float(np.median(errors)), 3) if len(rows) else None
    out["buckets"] = {name: summary((size >= low) & (size < high)) for name, low, high in BUCKETS}
    return out
