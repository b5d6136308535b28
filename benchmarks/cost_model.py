"""How long a cell takes, before it runs: a log-linear model of one fit's seconds, fitted on the
cells of earlier stores (each stores fit, predict and inner seconds, and its dataset's n and d).

    log seconds(one fit) = Σ_f (w_f + w_model,f + w_strategy,f) · f

over a few features f of the fit: 1, log n (training rows), log d (features), log n_pos, log(1 +
categorical columns), log n_fit, the rows the model itself is fitted on after the strategy's
sampler — about 2·n_neg for over-sampling and hybrids, 2·n_pos for under-sampling, n otherwise —
because a boosted model on SMOTE-doubled data costs what that data costs, and log d once more for
those growing samplers (interpolated rows have many more distinct values per feature than the
data had, which is what histogram and split searches pay for: on 1,617 binary features a boosted
model fits 10–50 times longer after SMOTE). Each model has its own weights on 1, log n_fit, log d
and that last term, each strategy its own on 1 and log n (its sampler's work). A strategy label (`smote[k=3]`)
seen on enough fits has its own factor, else its name's, else its family's mean; an unknown model
takes the mean model (zero).

Fitted by ridge least squares of log seconds (a small penalty keeps factors seen on few fits near
the mean), with one intercept per training run so runs timed on a busier machine do not bend the
factors, and turned into expected seconds with the smearing factor (mean of exp(residual)),
because a run's time is a sum of cells, not a sum of medians. A cell is its final fit plus, when
the grid stores inner folds, k fits on (k−1)/k of its training fold, plus a per-cell overhead
(metrics, derived steps, storing) measured from whole runs.

The coefficients ship with the package (benchmarks/cost_model.json, with what they were fitted on
and how) so a fresh clone can plan without earlier stores; `benchmarks/perf/fit_cost_model.py`
refits them. The runner orders cells by this cost (longest first) and `imbench plan` sums it into
an estimated wall time, scaled by a probe to the machine at hand (benchmarks/plan.py).
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

from benchmarks.cells import Cell

COEFFICIENTS_FILE = Path(__file__).with_name("cost_model.json")
#: Ridge penalty on the per-model and per-strategy weights (not on the shared ones).
PENALTY = 1.0
#: Seconds below which a timing is noise (a floor before taking logs).
FLOOR_SECONDS = 1e-3
SHARED = ("one", "log_n", "log_d", "log_pos", "log_cat", "log_fit", "log_d_grown")
PER_MODEL = ("one", "log_fit", "log_d", "log_d_grown")
PER_STRATEGY = ("one", "log_n", "log_d")
#: Families whose sampler leaves about 2·n_neg rows, and about 2·n_pos rows.
GROWS = ("oversampling", "hybrid")
SHRINKS = ("undersampling",)


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
    n, n_pos = max(shape.n_train, 2.0), min(max(shape.n_pos, 1.0), max(shape.n_train - 1, 1.0))
    n_fit = 2 * (n - n_pos) if shape.family in GROWS else 2 * n_pos if shape.family in SHRINKS else n
    log_d = math.log(max(shape.d, 1.0))
    return {"one": 1.0, "log_n": math.log(n), "log_d": log_d, "log_pos": math.log(n_pos),
            "log_cat": math.log1p(max(shape.n_categorical, 0.0)), "log_fit": math.log(max(n_fit, 2.0)),
            "log_d_grown": log_d if shape.family in GROWS else 0.0}


@dataclass
class CostModel:
    """Weights of the model above and the per-cell overhead, as stored in cost_model.json."""

    shared: dict[str, float] = field(default_factory=lambda: {"one": math.log(0.01), "log_n": 0.5, "log_d": 0.5,
                                                               "log_fit": 0.3})
    model: dict[str, dict[str, float]] = field(default_factory=dict)
    strategy: dict[str, dict[str, float]] = field(default_factory=dict)
    family: dict[str, dict[str, float]] = field(default_factory=dict)
    smearing: float = 1.0
    #: Seconds per cell besides its fits (metrics, storing), and per post-hoc step it derives.
    overhead_seconds: float = 0.05
    overhead_per_step: float = 0.0
    fitted_on: dict[str, Any] = field(default_factory=dict)

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

    def log_seconds(self, shape: FitShape) -> float:
        """The model's log seconds of one fit (a median, before smearing)."""
        values = features(shape)
        model, strategy = self.model.get(shape.model, {}), self._strategy_weights(shape)
        return sum(values[f] * (self.shared.get(f, 0.0) + model.get(f, 0.0) + strategy.get(f, 0.0)) for f in values)

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
    if intercept < 0:
        return 0.0, float(max(np.sum(per_cell * steps) / np.sum(steps * steps), 0.0))
    return float(intercept), float(max(slope, 0.0))


def fit_cost_model(rows: pd.DataFrame, overhead_seconds: float, fitted_on: dict[str, Any],
                   min_label_fits: int = 30, overhead_per_step: float = 0.0) -> CostModel:
    """Ridge least squares of log seconds on the features above (see the module docstring). With a
    `source` column (one value per training run) each run gets its own intercept; the shipped
    intercept is their mean."""
    rows = rows[rows["seconds"].notna()].reset_index(drop=True)
    counts = rows["label"].value_counts()
    labels = sorted(set(counts[counts >= min_label_fits].index) - set(rows["strategy"]))
    keys = rows["label"].where(rows["label"].isin(labels), rows["strategy"]).to_numpy()
    models, strategies = sorted(rows["model"].unique()), sorted(set(keys))
    sources = sorted(rows["source"].unique()) if "source" in rows else []
    values = pd.DataFrame([features(shape) for shape in _shapes(rows)])
    blocks, names, penalties = [values[list(SHARED)].to_numpy()], [("shared", "", f) for f in SHARED], [1e-6] * len(SHARED)
    for kind, levels, column, per in (("model", models, rows["model"].to_numpy(), PER_MODEL),
                                      ("strategy", strategies, keys, PER_STRATEGY)):
        for level in levels:
            hit = (column == level).astype(float)[:, None]
            blocks.append(hit * values[list(per)].to_numpy())
            names += [(kind, level, f) for f in per]
            penalties += [PENALTY] * len(per)
    for source in sources[1:]:
        blocks.append((rows["source"].to_numpy() == source).astype(float)[:, None])
        names.append(("source", source, "one"))
        penalties.append(1e-6)
    X = np.column_stack(blocks)
    y = np.log(np.maximum(rows["seconds"].to_numpy(float), FLOOR_SECONDS))
    beta = np.linalg.solve(X.T @ X + np.diag(penalties), X.T @ y)
    residual = y - X @ beta
    fitted = CostModel(shared={}, smearing=float(np.mean(np.exp(residual))), overhead_seconds=float(overhead_seconds),
                       overhead_per_step=float(overhead_per_step), fitted_on={**fitted_on, "fits": int(len(rows)), "residual_sd": float(np.std(residual))})
    run_shifts = [0.0]
    for (kind, level, feature), weight in zip(names, map(float, beta)):
        if kind == "shared":
            fitted.shared[feature] = weight
        elif kind == "source":
            run_shifts.append(weight)
        else:
            getattr(fitted, kind).setdefault(level, {})[feature] = weight
    fitted.shared["one"] += float(np.mean(run_shifts))
    families = pd.Series(rows["family"].to_numpy(), index=keys).groupby(level=0).first()
    for family, members in families.groupby(families):
        fitted.family[str(family)] = {f: float(np.mean([fitted.strategy[m].get(f, 0.0) for m in members.index]))
                                      for f in PER_STRATEGY}
    return fitted


def predict_rows(model: CostModel, rows: pd.DataFrame) -> np.ndarray:
    """Expected seconds of each fit row (for checking a fitted model against held-out rows)."""
    return np.array([model.fit_seconds(shape) for shape in _shapes(rows)])
