"""What every figure draws from: the loaded run, the options chosen, and cached leaderboards.

Boards are per model by default, as `imbench leaderboard` prints them: a figure with one panel per
model draws each model's board (`boards`); `--pool-models` gives the figures one pooled board
instead. The cost figure always asks for the pooled board (`pooled_board`), because its question —
what a gain costs in compute — compares models with each other (see `analysis.figures.cost`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from imbench.analysis.baseline import DEFAULT_BASELINE
from imbench.analysis.costs import COST_COLUMNS, Costs, with_costs
from imbench.analysis.folds import StoredFolds, load_folds
from imbench.analysis.leaderboard import DEFAULT_FAILURE_POLICY, CoverageCache, Leaderboard, build_leaderboard, ranked_models
from imbench.analysis.loading import RunResults
from imbench.analysis.statistics import ALPHA
from imbench.analysis.figures.palette import model_colors, model_styles, strategy_colors
from imbench.foundation.metrics import HEADLINE


@dataclass
class FigureContext:
    """A run plus the user's choices (metric, dataset for per-dataset figures, model filter, policy,
    baseline, pooling)."""

    run: RunResults
    metric: str = "ap"
    dataset: str | None = None
    model: str | None = None
    failed: str = DEFAULT_FAILURE_POLICY
    alpha: float = ALPHA
    baseline: str = DEFAULT_BASELINE
    pool_models: bool = False
    #: Width of the Bayesian comparisons' ROPE (None: the metric's default, `analysis.bayes`).
    rope: float | None = None
    #: Misclassification costs (`--costs`): the boards get the cost metrics and the cost curve is drawn.
    costs: Costs | None = None
    _boards: dict[tuple[str, str | None, bool], Leaderboard] = field(default_factory=dict, repr=False)
    _predictions: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.costs is not None and "cost@deployed" not in self.run.results:
            self.run.results = with_costs(self.run.results, self.stored_folds(), self.costs)
        self.colors = strategy_colors(self.run.labels, self.baseline.rpartition("/")[2])
        self.styles = model_styles(self.run.models)
        self.model_colors = model_colors(self.run.models)
        self.families = self.run.families()
        self.cache = CoverageCache(self.run.results, self.run.planned_folds)
        if self.dataset is None:
            self.dataset = default_dataset(self.run)

    @property
    def results(self) -> pd.DataFrame:
        """The results frame, of the chosen model only when `--model` was given."""
        results = self.run.results
        return results[results["model"] == self.model] if self.model else results

    @property
    def models(self) -> list[str]:
        """Models with a board of their own (chance references are rows of every board)."""
        return [self.model] if self.model else ranked_models(self.run.results)

    @property
    def baseline_label(self) -> str:
        return self.baseline.rpartition("/")[2]

    def headline(self) -> list[str]:
        """The headline metrics this run stored (PR AUC, a recall@precision, ECE)."""
        stored = set(self.results.columns)
        out = [m for m in HEADLINE if m in stored]
        if not any(m.startswith("recall_at_precision") for m in out):
            out += sorted(m for m in stored if m.startswith("recall_at_precision"))[:1]
        return out

    def headline_columns(self) -> tuple[str, ...]:
        """Metrics every board shows next to its own: the headline ones, and the costs when given."""
        return HEADLINE + (COST_COLUMNS if self.costs is not None else ())

    def stored_folds(self) -> StoredFolds:
        """The run's stored predictions as folds (cached per store content)."""
        return load_folds(self.run.results_dir)

    def boards(self, metric: str | None = None, full: bool = False) -> list[Leaderboard]:
        """The boards figures and the report show: one per model, or one pooled (`pool_models`)."""
        if self.pool_models:
            return [self.pooled_board(metric, full)]
        return [self.board(metric, model, full) for model in self.models]

    def pooled_board(self, metric: str | None = None, full: bool = False) -> Leaderboard:
        """One board over every model × label (of the chosen model only, with `--model`)."""
        return self.board(metric, None, full)

    def board(self, metric: str | None = None, model: str | None = None, full: bool = False) -> Leaderboard:
        """The board of `model` (None: pooled), cached since figures share them. Figures need ranks and
        means only (a light board); `full=True` adds the bootstrap intervals and the tests against the
        baseline, as the report's leaderboards show them."""
        metric = metric or self.metric
        if (metric, model, True) in self._boards:
            return self._boards[(metric, model, True)]
        key = (metric, model, full)
        if key not in self._boards:
            results = self.run.results
            if model is None and self.model:  # pooled over the chosen model only
                results = self.results
                cache = CoverageCache(results, self.run.planned_folds)
            else:
                cache = self.cache
            self._boards[key] = build_leaderboard(results, metric, model=model, failed=self.failed, alpha=self.alpha,
                                                  baseline=self.baseline, light=not full, cache=cache,
                                                  completeness=self.run.completeness, rope=self.rope,
                                                  headline=self.headline_columns())
        return self._boards[key]

    def deltas(self, metric: str | None = None) -> pd.DataFrame:
        """Long table (dataset, model, strategy, delta) against the baseline, from the boards shown."""
        parts = [board.deltas() for board in self.boards(metric)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
            columns=["dataset", "model", "strategy", "delta"])

    def pooled_predictions(self, dataset: str) -> pd.DataFrame:
        """Out-of-fold predictions of every ok base row on `dataset`, with model and label (all folds,
        repeats). Post-hoc rows are left out: in the results frame they share their cell's predictions
        (schema 2) or refit the same model (schema 1), so a curve per step would repeat the strategy's."""
        if dataset not in self._predictions:
            results = self.results
            ok = results[(results["dataset"] == dataset) & (results["status"] == "ok") & (results["posthoc"] == "none")]
            preds = self.run.predictions(list(ok["key"].unique()))
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
