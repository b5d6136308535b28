"""How long a cell takes, before it runs: a log-linear model of one fit's seconds, fitted on the
cells of earlier stores (each stores fit, predict and inner seconds, and its dataset's n and d).

    log seconds(one fit) = b + b_model + b_strategy
                           + (g + g_model + g_strategy) · log n_train + (h + h_model + h_strategy) · log d
                           + (p + p_strategy) · log n_pos_train + c · log(1 + categorical columns)

(a sampler's cost and the rows it leaves depend on the positives as much as on the rows: random
under-sampling fits on about 2 n_pos rows, over-sampling on about 2 n_neg).

fitted by ridge least squares (a small penalty keeps factors seen on few cells near the mean), and
turned into expected seconds with the smearing factor (the mean of exp(residual)), because a run's
time is a sum of cells, not a sum of medians. A cell is its final fit plus, when the grid stores
inner folds, k fits on (k−1)/k of the training fold, plus a per-cell overhead (metrics, derived
steps, storing) measured from whole runs. A strategy the model has not seen takes its family's
mean factor; a model it has not seen, the mean model.

The coefficients ship with the package (benchmarks/cost_model.json, with what they were fitted on
and how) so a fresh clone can plan without earlier stores; `benchmarks/perf/fit_cost_model.py`
refits them from stores. The runner orders cells by this cost (longest first) and `imbench plan`
sums it into an estimated wall time (benchmarks/plan.py).
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.cells import Cell

COEFFICIENTS_FILE = Path(__file__).with_name("cost_model.json")
#: Ridge penalty on the factors (not on the global intercept and slopes).
PENALTY = 1.0
#: Seconds below which a timing is noise (a floor before taking logs).
FLOOR_SECONDS = 1e-3


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


@dataclass
class CostModel:
    """Coefficients of the model above and the per-cell overhead, as stored in cost_model.json."""

    intercept: float = math.log(0.05)
    log_n: float = 0.6
    log_d: float = 0.3
    log_pos: float = 0.0
    log_categorical: float = 0.0
    model: dict[str, float] = field(default_factory=dict)
    model_log_n: dict[str, float] = field(default_factory=dict)
    model_log_d: dict[str, float] = field(default_factory=dict)
    strategy: dict[str, float] = field(default_factory=dict)
    strategy_log_n: dict[str, float] = field(default_factory=dict)
    strategy_log_d: dict[str, float] = field(default_factory=dict)
    strategy_log_pos: dict[str, float] = field(default_factory=dict)
    family: dict[str, float] = field(default_factory=dict)
    family_log_n: dict[str, float] = field(default_factory=dict)
    family_log_d: dict[str, float] = field(default_factory=dict)
    family_log_pos: dict[str, float] = field(default_factory=dict)
    smearing: float = 1.0
    overhead_seconds: float = 0.02
    fitted_on: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CostModel":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def _strategy_terms(self, shape: FitShape) -> tuple[float, float, float, float]:
        for key in (shape.label, shape.strategy):
            if key in self.strategy:
                return (self.strategy[key], self.strategy_log_n.get(key, 0.0), self.strategy_log_d.get(key, 0.0),
                        self.strategy_log_pos.get(key, 0.0))
        family = shape.family
        return (self.family.get(family, 0.0), self.family_log_n.get(family, 0.0), self.family_log_d.get(family, 0.0),
                self.family_log_pos.get(family, 0.0))

    def log_seconds(self, shape: FitShape) -> float:
        """The model's log seconds of one fit (a median, before smearing)."""
        ln, ld = math.log(max(shape.n_train, 2.0)), math.log(max(shape.d, 1.0))
        lp = math.log(max(shape.n_pos, 1.0))
        s, s_n, s_d, s_p = self._strategy_terms(shape)
        return (self.intercept + self.model.get(shape.model, 0.0) + s
                + (self.log_n + self.model_log_n.get(shape.model, 0.0) + s_n) * ln
                + (self.log_d + self.model_log_d.get(shape.model, 0.0) + s_d) * ld
                + (self.log_pos + s_p) * lp
                + self.log_categorical * math.log1p(max(shape.n_categorical, 0.0)))

    def fit_seconds(self, shape: FitShape) -> float:
        """Expected seconds of one fit and its predictions."""
        return self.smearing * math.exp(self.log_seconds(shape))

    def cell_seconds(self, cell: Cell, meta: dict[str, Any], inner_folds: int, skipped: bool = False) -> float:
        """Expected seconds of one cell: its final fit, its k inner fits, and the per-cell overhead
        (only the overhead when it is known to be skipped)."""
        if skipped:
            return self.overhead_seconds
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
        return seconds + self.overhead_seconds


@lru_cache(maxsize=1)
def shipped_model() -> CostModel:
    """The coefficients shipped with the package (a rough default when the file is missing)."""
    try:
        return CostModel.from_dict(json.loads(COEFFICIENTS_FILE.read_text()))
    except (OSError, ValueError):
        return CostModel()


def order_by_cost(tasks: Sequence[Any], metas: dict[str, dict[str, Any]],
                  model: CostModel | None = None) -> list[Any]:
    """Tasks (CellTask) longest-expected first: the last minutes of a run are then short cells that
    fill every core, not one long cell on one core. Ties keep the enumeration order (by dataset)."""
    model = model or shipped_model()
    costs = [model.cell_seconds(t.cell, metas.get(t.cell.dataset, {}), t.inner_folds, bool(t.skip_reason))
             for t in tasks]
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


def _design(rows: pd.DataFrame, models: list[str], strategies: list[str]) -> np.ndarray:
    ln = np.log(np.maximum(rows["n_train"].to_numpy(float), 2.0))
    ld = np.log(np.maximum(rows["d"].to_numpy(float), 1.0))
    lp = np.log(np.maximum(rows["n_pos"].to_numpy(float), 1.0))
    columns = [np.ones(len(rows)), ln, ld, lp, np.log1p(np.maximum(rows["n_categorical"].to_numpy(float), 0.0))]
    for name in models:
        hit = (rows["model"].to_numpy() == name).astype(float)
        columns += [hit, hit * ln, hit * ld]
    keys = rows["label"].where(rows["label"].isin(strategies), rows["strategy"]).to_numpy()
    for name in strategies:
        hit = (keys == name).astype(float)
        columns += [hit, hit * ln, hit * ld, hit * lp]
    return np.column_stack(columns)


def fit_cost_model(rows: pd.DataFrame, overhead_seconds: float, fitted_on: dict[str, Any],
                   min_label_fits: int = 30) -> CostModel:
    """Ridge least squares of log seconds on the design above. A strategy label gets its own factor
    when it has `min_label_fits` timed fits, else it shares its strategy name's."""
    rows = rows[rows["seconds"].notna()].reset_index(drop=True)
    models = sorted(rows["model"].unique())
    counts = rows["label"].value_counts()
    labels = sorted(set(counts[counts >= min_label_fits].index) - set(rows["strategy"]))
    strategies = sorted(set(rows["strategy"])) + labels
    X = _design(rows, models, strategies)
    y = np.log(np.maximum(rows["seconds"].to_numpy(float), FLOOR_SECONDS))
    penalty = np.full(X.shape[1], PENALTY)
    penalty[:5] = 1e-6
    beta = np.linalg.solve(X.T @ X + np.diag(penalty), X.T @ y)
    residual = y - X @ beta
    fitted = CostModel(intercept=float(beta[0]), log_n=float(beta[1]), log_d=float(beta[2]), log_pos=float(beta[3]),
                       log_categorical=float(beta[4]), smearing=float(np.mean(np.exp(residual))),
                       overhead_seconds=float(overhead_seconds),
                       fitted_on={**fitted_on, "fits": int(len(rows)), "residual_sd": float(np.std(residual))})
    at = 5
    for name in models:
        fitted.model[name], fitted.model_log_n[name], fitted.model_log_d[name] = map(float, beta[at:at + 3])
        at += 3
    for name in strategies:
        (fitted.strategy[name], fitted.strategy_log_n[name], fitted.strategy_log_d[name],
         fitted.strategy_log_pos[name]) = map(float, beta[at:at + 4])
        at += 4
    families = rows.drop_duplicates("strategy").set_index("strategy")["family"]
    for family, members in families.groupby(families):
        names = [m for m in members.index if m in fitted.strategy]
        for mean, per in ((fitted.family, fitted.strategy), (fitted.family_log_n, fitted.strategy_log_n),
                          (fitted.family_log_d, fitted.strategy_log_d), (fitted.family_log_pos, fitted.strategy_log_pos)):
            mean[str(family)] = float(np.mean([per[m] for m in names]))
    return fitted


def predict_rows(model: CostModel, rows: pd.DataFrame) -> np.ndarray:
    """Expected seconds of each fit row (for checking a fitted model against held-out rows)."""
    return np.array([model.fit_seconds(FitShape(*(r[c] for c in FIT_COLUMNS[:-1])))
                     for r in rows.to_dict("records")])


def dataset_metas(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Dataset tables of several stores as one (first occurrence of each name)."""
    return pd.concat(list(frames), ignore_index=True).drop_duplicates("name")
