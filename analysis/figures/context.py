"""What every figure draws from: the loaded run, the options chosen, and cached leaderboards."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.leaderboard import DEFAULT_FAILURE_POLICY, Leaderboard, build_leaderboard, per_dataset_tables
from analysis.loading import RunResults
from analysis.statistics import ALPHA
from analysis.figures.palette import model_colors, model_styles, strategy_colors
from foundation.metrics import HEADLINE


@dataclass
class FigureContext:
    """A run plus the user's choices (metric, dataset for per-dataset figures, model filter, policy)."""

    run: RunResults
    metric: str = "ap"
    dataset: str | None = None
    model: str | None = None
    failed: str = DEFAULT_FAILURE_POLICY
    alpha: float = ALPHA
    _boards: dict[tuple[str, str | None, bool], Leaderboard] = field(default_factory=dict, repr=False)
    _predictions: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _tables: dict[str | None, dict[str, pd.DataFrame]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.colors = strategy_colors(self.run.labels)
        self.styles = model_styles(self.run.models)
        self.model_colors = model_colors(self.run.models)
        self.families = self.run.families()
        if self.dataset is None:
            self.dataset = default_dataset(self.run)

    @property
    def cells(self) -> pd.DataFrame:
        cells = self.run.results
        return cells[cells["model"] == self.model] if self.model else cells

    @property
    def models(self) -> list[str]:
        return [self.model] if self.model else self.run.models

    def headline(self) -> list[str]:
        """The headline metrics this run stored (PR AUC, a recall@precision, ECE)."""
        stored = set(self.cells.columns)
        out = [m for m in HEADLINE if m in stored]
        if not any(m.startswith("recall_at_precision") for m in out):
            out += sorted(m for m in stored if m.startswith("recall_at_precision"))[:1]
        return out

    def board(self, metric: str | None = None, model: str | None = None, full: bool = False) -> Leaderboard:
        """Leaderboard of all models (or of one, for per-model panels), cached since figures share them.
        Figures need ranks and means only (a light board); `full=True` adds the bootstrap intervals and
        the tests against the baseline, as the report's leaderboards show them."""
        metric = metric or self.metric
        if (metric, model, True) in self._boards:
            return self._boards[(metric, model, True)]
        key = (metric, model, full)
        if key not in self._boards:
            cells = self.cells if model is None else self.cells[self.cells["model"] == model]
            if model not in self._tables:
                wanted = [m for m in [self.metric, *self.headline(), "f1@deployed", "f1@0.5"] if m in cells.columns]
                self._tables[model] = per_dataset_tables(cells, wanted)
            self._boards[key] = build_leaderboard(cells, metric, failed=self.failed, alpha=self.alpha,
                                                  tables=self._tables[model], light=not full,
                                                  families=self.families)
        return self._boards[key]

    def pooled_predictions(self, dataset: str) -> pd.DataFrame:
        """Out-of-fold predictions of every ok cell on `dataset`, with model and label (all folds, repeats)."""
        if dataset not in self._predictions:
            ok = self.cells[(self.cells["dataset"] == dataset) & (self.cells["status"] == "ok")]
            preds = self.run.predictions(list(ok["key"]))
            self._predictions[dataset] = preds.merge(ok[["key", "model", "label", "repeat"]], on="key")
        return self._predictions[dataset]


def default_dataset(run: RunResults) -> str | None:
    """The dataset per-dataset figures show unless one is chosen: the one whose IR is the median IR
    (a typical dataset of the run), ties broken by name."""
    ir = run.datasets["ir"].astype(float).dropna()
    if ir.empty:
        return run.datasets.index[0] if len(run.datasets) else None
    target = float(np.median(ir))
    return sorted(ir.index, key=lambda name: (abs(ir[name] - target), name))[0]
